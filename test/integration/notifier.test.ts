/**
 * OPS-10 on the embedded stack: domain events from real trading decisions reach a local fake of
 * the Telegram Bot API and of a Slack webhook; the same event delivered twice is sent once; a
 * failing service is retried, then dead-lettered, and never stops trading; the rate limit
 * holds; chat commands are taken from the configured chat only and audited.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbNotificationLedger } from '../../shared/adapters/aws/dynamodb-notification-ledger.js';
import { DynamoDbAuditReader } from '../../shared/adapters/aws/dynamodb-audit-reader.js';
import { DomainEventType } from '../../shared/domain/domain-events.js';
import { loadNotifierConfig } from '../../shared/runtime/notifier-config.js';
import { notificationChannels } from '../../shared/runtime/notifier.js';
import { deliverEvent, type NotifyDeps } from '../../shared/use-cases/notify.js';
import { LOCAL_DELIVERY_ATTEMPTS, LocalEventBus, type LocalNotifier } from '../../local-runtime/notifications.js';
import type { LocalRuntime } from '../../local-runtime/runtime.js';
import { localNotifier } from '../../scripts/start.js';
import { startFakeSlack, startFakeTelegram, type FakeSlack, type FakeTelegram } from '../support/fake-chat-servers.js';
import { ManualClock, startTestStack, type TestStack } from '../support/local-runtime.js';

const CHAT = '1001';
const FAST = { initialDelay: 1, maxDelay: 5 };

describe('Notifier: fake Telegram and Slack on 127.0.0.1', () => {
  let t: TestStack;
  let telegram: FakeTelegram;
  let slack: FakeSlack;
  let runtime: LocalRuntime;
  let bus: LocalEventBus;
  let notifier: LocalNotifier;
  const clock = new ManualClock(new Date('2026-03-02T10:00:00.000Z'));
  const env = () => ({ TW_TELEGRAM_BOT_TOKEN: telegram.token, TW_TELEGRAM_CHAT_ID: CHAT, TW_TELEGRAM_API_URL: telegram.url, TW_SLACK_WEBHOOK_URL: slack.url });
  const deps = (limit = 20): NotifyDeps => {
    const ledger = new DynamoDbNotificationLedger({ doc: runtime.containers.health.doc, table: t.config.stateTable, limit });
    return { channels: notificationChannels(loadNotifierConfig(env())).all, ledger, rate: ledger, clock, backoff: FAST };
  };
  const controlRecords = () => new DynamoDbAuditReader({ doc: runtime.containers.health.doc, table: t.config.auditTable }).latest('control', 50);

  beforeAll(async () => {
    telegram = await startFakeTelegram();
    slack = await startFakeSlack();
    t = await startTestStack({ TW_PAPER_SEED: 'e2e-seed', TW_WATCHLIST: 'BTC/USDT,ETH/USDT,SOL/USDT,XRP/USDT', TW_STRATEGY_DROP_PERCENT: '0.1', TW_STRATEGY_LOOKBACK_CANDLES: '10' });
    bus = new LocalEventBus();
    runtime = t.runtime({ clock, events: bus });
    notifier = localNotifier(runtime, bus, loadNotifierConfig(env()));
  });

  afterAll(async () => {
    await t?.stop();
    await telegram?.close();
    await slack?.close();
  });

  beforeEach(() => {
    telegram.sent.length = 0;
    slack.received.length = 0;
  });

  it('sends a Telegram and a Slack message for a fill within one delivery cycle', async () => {
    let filled = 0;
    for (let i = 0; i < 20 && filled === 0; i += 1) {
      await runtime.scan(clock.advance(60_000));
      filled = (await runtime.drain()).succeeded;
    }
    expect(filled).toBeGreaterThan(0);
    const cycle = await notifier.cycle();
    expect(cycle.sent).toBeGreaterThanOrEqual(2);
    expect(telegram.sent.some((m) => m.chat_id === CHAT && /^Filled: (BUY|SELL) [\d.]+ [A-Z]+\/USDT at [\d.]+/.test(m.text))).toBe(true);
    expect(slack.received.some((m) => m.text.startsWith('Filled: '))).toBe(true);
  });

  it('sends one message when the same event is delivered twice', async () => {
    const event = { eventId: 'OrderFilled:tw-twice:1', at: clock.now().toISOString(), orderId: 'tw-twice', symbol: 'BTC/USDT', side: 'buy', state: 'FILLED', filled: '1', cost: '100', fees: [{ currency: 'USDT', amount: '0.1' }] };
    const first = await deliverEvent(deps(), DomainEventType.OrderFilled, event);
    const second = await deliverEvent(deps(), DomainEventType.OrderFilled, event);
    expect(first.sent).toEqual(['telegram', 'slack']);
    expect(second).toMatchObject({ sent: [], duplicate: ['telegram', 'slack'] });
    expect(telegram.sent.filter((m) => m.text.includes('tw-twice'))).toHaveLength(1);
    expect(slack.received.filter((m) => m.text.includes('tw-twice'))).toHaveLength(1);
  });

  it('retries a failed send, and a delivery that still fails sends later, once', async () => {
    const event = { eventId: 'TradingPaused:retry-case', at: clock.now().toISOString(), reason: 'retry case', author: 'test' };
    telegram.failNext(2, 502);
    expect((await deliverEvent(deps(), DomainEventType.TradingPaused, event)).sent).toEqual(['telegram', 'slack']);
    expect(telegram.sent.filter((m) => m.text.includes('retry case'))).toHaveLength(1);

    const later = { ...event, eventId: 'TradingPaused:retry-later', reason: 'retry later' };
    telegram.failNext(10, 503);
    await expect(deliverEvent(deps(), DomainEventType.TradingPaused, later)).rejects.toMatchObject({ code: 'NOTIFICATION_FAILED', retryable: true });
    telegram.failNext(0);
    // Slack had sent it already: the next delivery sends only what is missing.
    expect(await deliverEvent(deps(), DomainEventType.TradingPaused, later)).toMatchObject({ sent: ['telegram'], duplicate: ['slack'] });
    expect(telegram.sent.filter((m) => m.text.includes('retry later'))).toHaveLength(1);
    expect(slack.received.filter((m) => m.text.includes('retry later'))).toHaveLength(1);
  });

  it('does not pass the rate limit of a channel with a burst of rejections, but lets a pause through', async () => {
    const limited = deps(3);
    const at = clock.advance(60_000).toISOString();
    const results = [];
    for (let i = 0; i < 5; i += 1) {
      results.push(await deliverEvent(limited, DomainEventType.OrderRejected, { eventId: `OrderRejected:rate-${i}`, at, orderId: `rate-${i}`, symbol: 'BTC/USDT', side: 'buy', reason: 'burst' }).then(() => 'sent', (e: { details: { rateLimited?: boolean } }) => (e.details.rateLimited ? 'held back' : 'failed')));
    }
    expect(results).toEqual(['sent', 'sent', 'sent', 'held back', 'held back']);
    expect(telegram.sent).toHaveLength(3);
    expect((await deliverEvent(limited, DomainEventType.TradingPaused, { eventId: 'TradingPaused:during-burst', at, reason: 'burst', author: 'test' })).sent).toEqual(['telegram', 'slack']);
    expect(telegram.sent).toHaveLength(4);
  });

  it('dead-letters an event the service keeps refusing, while trading goes on', async () => {
    const before = notifier.deadLetters.length;
    telegram.failNext(1000, 500);
    await bus.publish(DomainEventType.TradingPaused, { eventId: 'TradingPaused:dead', at: clock.now().toISOString(), reason: 'dead letter case', author: 'test' });
    let now = Date.now();
    for (let i = 0; i < LOCAL_DELIVERY_ATTEMPTS; i += 1) {
      await notifier.cycle(now);
      now += 60_000;
    }
    telegram.failNext(0);
    expect(notifier.deadLetters.length).toBe(before + 1);
    expect(notifier.deadLetters.at(-1)).toMatchObject({ detailType: 'TradingPaused', error: expect.stringMatching(/HTTP 500/) });
    // Trading never waited: a scan and its deliveries still run.
    expect((await runtime.scan(clock.advance(60_000))).status).toBe('scanned');
  });

  it('takes /pause and /resume from the configured chat, audited with the chat user as author', async () => {
    telegram.receive(CHAT, '/pause exchange looks odd', 'alice');
    await notifier.cycle();
    expect(await runtime.containers.health.control.getPause()).toMatchObject({ paused: true, reason: 'exchange looks odd', author: 'telegram:alice' });
    expect(telegram.sent.some((m) => m.text === 'paused: exchange looks odd')).toBe(true);
    // The pause itself is a domain event: the next cycle tells the chat.
    await notifier.cycle();
    expect(telegram.sent.some((m) => m.text.startsWith('Trading PAUSED by telegram:alice'))).toBe(true);
    telegram.receive(CHAT, '/resume', 'alice');
    await notifier.cycle();
    expect((await runtime.containers.health.control.getPause()).paused).toBe(false);
    const types = (await controlRecords()).slice(-3).map((r) => [r.type, r.data.author]);
    expect(types).toContainEqual(['control.paused', 'telegram:alice']);
    expect(types).toContainEqual(['control.resumed', 'telegram:alice']);
  });

  it('answers /status and /profit, and usage for anything else', async () => {
    // Events still waiting (the resume above) go out first.
    await notifier.cycle();
    telegram.sent.length = 0;
    telegram.receive(CHAT, '/status');
    telegram.receive(CHAT, '/profit@tradewarden_bot');
    telegram.receive(CHAT, '/pause');
    telegram.receive(CHAT, '/sell everything');
    await notifier.cycle();
    const texts = telegram.sent.map((m) => m.text);
    expect(texts[0]).toMatch(/^Tradewarden paper: health \w+, running\nequity [\d.]+ USDT/);
    expect(texts[1]).toMatch(/^realized PnL -?[\d.]+ USDT\nunrealized PnL -?[\d.]+ USDT\nequity/);
    expect(texts[2]).toBe('a pause needs a reason: /pause <reason>');
    expect(texts[3]).toMatch(/^unknown command/);
    expect((await runtime.containers.health.control.getPause()).paused).toBe(false);
  });

  it('ignores commands from any other chat, changes nothing and records the refusal', async () => {
    telegram.receive('666', '/pause hijack', 'mallory');
    await notifier.cycle();
    expect(telegram.sent).toEqual([]);
    expect((await runtime.containers.health.control.getPause()).paused).toBe(false);
    expect((await controlRecords()).at(-1)).toMatchObject({ type: 'chat.refused', data: { chatId: '666', user: 'mallory' } });
  });
});
