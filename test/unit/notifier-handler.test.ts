/**
 * The notifier function's handler with in-memory ports: bus events become messages, a bad event
 * is a coded error, and the Telegram webhook answers only with its secret token (OPS-10).
 */
import { describe, expect, it } from 'vitest';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { createNotifierHandler, TELEGRAM_SECRET_HEADER } from '../../functions/notifier/app.js';
import { TelegramBot } from '../../shared/adapters/notify/telegram.js';
import { domainEventOf } from '../../shared/domain/domain-events.js';
import { notificationOf } from '../../shared/domain/notification.js';
import type { Notification } from '../../shared/domain/notification.js';
import type { NotificationLedger, SendRateLimiter } from '../../shared/ports/notifier.js';
import type { ChatOperations } from '../../shared/use-cases/chat-commands.js';

const SECRET = 'webhook-secret-0123456789';
const context = { functionName: 'notifier', awsRequestId: 'req', getRemainingTimeInMillis: () => 10_000 } as unknown as Context;

class MemoryLedger implements NotificationLedger, SendRateLimiter {
  readonly status = new Map<string, string>();
  async claim(id: string, channel: string) {
    const key = `${id}/${channel}`;
    if (this.status.get(key) === 'sent' || this.status.get(key) === 'sending') return false;
    this.status.set(key, 'sending');
    return true;
  }
  async markSent(id: string, channel: string) {
    this.status.set(`${id}/${channel}`, 'sent');
  }
  async release(id: string, channel: string) {
    this.status.set(`${id}/${channel}`, 'released');
  }
  async take() {
    return true;
  }
}

function setup() {
  const messages: Notification[] = [];
  const botCalls: { method: string; body: Record<string, unknown> }[] = [];
  const bot = new TelegramBot({
    botToken: '1:fake-token-for-tests',
    chatId: '1001',
    apiUrl: 'http://telegram.invalid',
    fetch: async (url, init) => {
      botCalls.push({ method: url.split('/').at(-1) ?? '', body: JSON.parse(String(init.body)) as Record<string, unknown> });
      return new Response(JSON.stringify({ ok: true, result: {} }), { status: 200 });
    },
  });
  const operations: ChatOperations = { status: async () => 'status text', profit: async () => 'profit text', pause: async (r, a) => `paused: ${r} by ${a}`, resume: async () => 'resumed' };
  const audit = { append: async () => ({}) as never, verify: async () => ({ valid: true, streams: 0, records: 0, checkpoints: 0, problems: [] }) };
  const ledger = new MemoryLedger();
  const clock = { now: () => new Date('2026-03-02T10:00:00Z') };
  const handler = createNotifierHandler({
    observability: { logger: new Logger({ logLevel: 'SILENT' }), metrics: new Metrics({ namespace: 'test', serviceName: 'notifier' }) },
    notify: { channels: [{ name: 'memory', send: async (n) => void messages.push(n) }], ledger, rate: ledger, clock },
    summary: {
      accounts: { get: async () => null },
      orders: { listRecent: async () => [] },
      control: { getPause: async () => ({ paused: false }), getReport: async () => ({ status: 'OK' }) },
      exchange: { fetchTickers: async () => [] },
      clock,
      settings: { quoteCurrency: 'USDT', watchlist: ['BTC/USDT'] },
    },
    chat: { bot, webhookSecret: SECRET, deps: { operations, audit, clock, chatId: '1001' } },
  });
  const webhook = (headers: Record<string, string>, update: unknown, method = 'POST') =>
    handler({ version: '2.0', rawPath: '/', requestContext: { http: { method } }, headers, body: JSON.stringify(update) }, context) as Promise<{ statusCode: number }>;
  return { handler, messages, botCalls, webhook };
}

describe('Function: notifier', () => {
  it('sends one message per bus event, once per event id', async () => {
    const { handler, messages } = setup();
    const event = { source: 'tradewarden', 'detail-type': 'OrderFilled', detail: { eventId: 'OrderFilled:tw-1:0.5', at: '2026-03-02T10:00:00Z', orderId: 'tw-1', symbol: 'BTC/USDT', side: 'buy', state: 'FILLED', filled: '0.5', cost: '30000.123456789', fees: [{ currency: 'USDT', amount: '30' }] } };
    await handler(event, context);
    await handler(event, context);
    expect(messages.map((m) => m.title)).toEqual(['Filled: BUY 0.5 BTC/USDT at 60000.247']);
  });

  it('sends the daily summary once a day', async () => {
    const { handler, messages } = setup();
    await handler({ summary: 'daily' }, context);
    await handler({ summary: 'daily' }, context);
    expect(messages.map((m) => m.id)).toEqual(['DailySummary:2026-03-02']);
  });

  it('refuses an event it does not know with VALIDATION_FAILED', async () => {
    const { handler, messages } = setup();
    await expect(handler({ source: 'tradewarden', 'detail-type': 'SomethingElse', detail: {} }, context)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(handler({ summary: 'weekly' }, context)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(messages).toEqual([]);
  });

  it('answers the webhook only with the secret token, and commands only from the configured chat', async () => {
    const { webhook, botCalls } = setup();
    const update = (chat: number, text: string) => ({ update_id: 1, message: { message_id: 1, chat: { id: chat }, from: { username: 'alice' }, text } });
    expect((await webhook({}, update(1001, '/status'))).statusCode).toBe(401);
    expect((await webhook({ [TELEGRAM_SECRET_HEADER]: 'wrong-secret-0123456789' }, update(1001, '/status'))).statusCode).toBe(401);
    expect(botCalls).toEqual([]);
    expect((await webhook({ 'X-Telegram-Bot-Api-Secret-Token': SECRET }, update(1001, '/pause maintenance'))).statusCode).toBe(200);
    expect(botCalls.map((c) => c.body.text)).toEqual(['paused: maintenance by telegram:alice']);
    expect((await webhook({ [TELEGRAM_SECRET_HEADER]: SECRET }, update(666, '/resume'))).statusCode).toBe(200);
    expect(botCalls).toHaveLength(1);
    expect((await webhook({ [TELEGRAM_SECRET_HEADER]: SECRET }, 'not an update')).statusCode).toBe(200);
    expect(botCalls).toHaveLength(1);
  });
});

describe('Domain events from audit records', () => {
  const record = (type: string, data: Record<string, unknown>, stream = 'symbol:BTC/USDT') => ({ stream, seq: 7, at: '2026-03-02T10:00:00Z', prevHash: '', hash: '', type, data });

  it('names a fill by order and cumulative amount, so the same fill recorded twice is one event', () => {
    const a = domainEventOf(record('order.filled', { orderId: 'tw-1', side: 'sell', filled: '2', cost: '10', fees: [], to: 'FILLED' }));
    const b = domainEventOf({ ...record('order.filled', { orderId: 'tw-1', side: 'sell', filled: '2', cost: '10', fees: [], to: 'FILLED' }), seq: 9 });
    expect(a?.detail.eventId).toBe('OrderFilled:tw-1:2');
    expect(b?.detail.eventId).toBe(a?.detail.eventId);
    expect(notificationOf(a?.detailType ?? '', a?.detail ?? {}).title).toBe('Filled: SELL 2 BTC/USDT at 5');
  });

  it('announces rejections, unknown outcomes, pauses, resumes and drift, and nothing else', () => {
    const types = ['order.rejected', 'intent.rejected', 'order.unknown', 'control.paused', 'control.resumed', 'balance.drift', 'budget.reserved', 'order.sent', 'intent.accepted'].map((t) => domainEventOf(record(t, { orderId: 'tw-2', since: '2026-03-02T09:00:00Z' }))?.detailType ?? null);
    expect(types).toEqual(['OrderRejected', 'OrderRejected', 'OrderUnknown', 'TradingPaused', 'TradingResumed', 'DriftAlarm', null, null, null]);
  });
});
