/**
 * The kill switch and the runtime tunables operated through the `npm run ops` commands
 * (scripts/ops.ts, run in-process) against an embedded stack (RISK-1, RISK-2, OPS-5).
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../local-runtime/runtime.js';
import { runOps } from '../../scripts/ops.js';
import { PAUSE_KEY } from '../../shared/adapters/aws/dynamodb-keys.js';
import { dec } from '../../shared/domain/money.js';
import { roundAmount, roundPrice } from '../../shared/domain/precision.js';
import { ManualClock, startTestStack, type TestStack } from '../support/local-runtime.js';

const MINUTE = 60_000;

describe('Ops commands: pause, resume, emergency-stop, set, get', () => {
  let t: TestStack;
  let runtime: LocalRuntime;
  const clock = new ManualClock(new Date('2026-06-01T10:00:30Z'));
  let out: string[];
  const ops = (...argv: string[]) => runOps(argv, runtime, (line) => out.push(line));
  const queued = async () => (await runtime.containers.health.queues.depths())['execution'] ?? 0;

  beforeAll(async () => {
    t = await startTestStack();
    runtime = t.runtime({ clock });
  });

  afterAll(async () => {
    await t?.stop();
  });

  beforeEach(() => {
    out = [];
    clock.advance(MINUTE);
  });

  it('pauses with reason, author and expiry; the scanner then says so and sends nothing', async () => {
    // Act
    expect(await ops('pause', '--reason', 'exchange maintenance', '--for', '2h', '--author', 'alice')).toBe(0);
    const scan = await runtime.scan(clock.now());

    // Assess
    const pause = await runtime.containers.scanner.control.getPause();
    expect(pause).toEqual({ paused: true, reason: 'exchange maintenance', author: 'alice', since: clock.now().toISOString(), until: new Date(clock.now().getTime() + 2 * 3_600_000).toISOString() });
    expect(scan).toMatchObject({ status: 'paused', pauseReason: 'exchange maintenance', intents: [] });
    expect(await queued()).toBe(0);
    expect(JSON.parse(out[0] ?? '{}')).toMatchObject({ paused: true, reason: 'exchange maintenance' });
  });

  it('resumes: the next scan trades again', async () => {
    expect(await ops('resume', '--author', 'alice')).toBe(0);
    expect((await runtime.scan(clock.now(), true)).status).toBe('scanned');
    const audit = await runtime.containers.health.audit.verify();
    expect(audit.valid).toBe(true);
  });

  it('fails closed: an unreadable pause record fails the scan and nothing is sent', async () => {
    // Prepare: a pause record nobody can interpret.
    const c = runtime.containers.health;
    await c.doc.send(new PutCommand({ TableName: c.config.stateTable, Item: { ...PAUSE_KEY, paused: 'maybe', version: 99 } }));

    // Act / Assess
    await expect(runtime.scan(clock.now())).rejects.toMatchObject({ code: 'STORAGE_FAILED' });
    expect(await queued()).toBe(0);
    await c.doc.send(new PutCommand({ TableName: c.config.stateTable, Item: { ...PAUSE_KEY, paused: false, version: 100 } }));
  });

  it('emergency-stop pauses and cancels every open order in one command', async () => {
    // Prepare: a resting limit buy far below the market.
    const c = runtime.containers.executor;
    await c.ensureAccount();
    const rules = await c.marketRules('BTC/USDT');
    const [ticker] = await c.exchange.fetchTickers(['BTC/USDT']);
    const limitPrice = roundPrice(dec(ticker?.bid ?? '0').times('0.5').toFixed(), rules.priceTick);
    const amount = roundAmount(dec('20').div(limitPrice).toFixed(), rules.amountStep);
    await c.exchange.createOrder({ clientOrderId: 'tw-resting-1', symbol: 'BTC/USDT', side: 'buy', type: 'limit', amount, limitPrice });
    expect(await c.exchange.fetchOpenOrders()).toHaveLength(1);

    // Act
    expect(await ops('emergency-stop', '--reason', 'drill', '--author', 'bob')).toBe(0);

    // Assess
    expect(await c.exchange.fetchOpenOrders()).toEqual([]);
    expect(await c.exchange.fetchOrderByClientId('BTC/USDT', 'tw-resting-1')).toMatchObject({ status: 'canceled' });
    expect(await c.control.getPause()).toMatchObject({ paused: true, reason: 'drill', author: 'bob' });
    expect(out[0]).toBe('emergency stop: paused; canceled 1, filled before the cancel 0, failed 0');
    expect(out[1]).toMatch(/canceled\s+tw-resting-1 BTC\/USDT \(exchange only\)/);
    expect((await runtime.scan(clock.now())).status).toBe('paused');
    await ops('resume');
  });

  it('changes tunables without a redeploy: the next scan uses them', async () => {
    // Prepare: the local demo market buys on a 0.08% drop; confirm there is something to switch off.
    expect(await ops('set', 'strategies.price-drop.params.dropPercent', '0.01')).toBe(0);
    const before = await runtime.scan(clock.now(), true);
    expect(before.signals.length).toBeGreaterThan(0);
    const symbol = before.signals[0]?.symbol ?? '';

    // Act
    expect(await ops('set', `strategies.price-drop.symbols.${symbol}`, 'false', '--author', 'carol')).toBe(0);
    expect(await ops('set', 'orderQuoteAmount', '42.5')).toBe(0);
    const after = await runtime.scan(clock.now(), true);

    // Assess
    expect(after.signals.map((s) => s.symbol)).not.toContain(symbol);
    expect(after.signals.every((s) => s.quoteAmount === '42.5')).toBe(true);
    out = [];
    expect(await ops('get', 'orderQuoteAmount')).toBe(0);
    expect(JSON.parse(out.join('\n'))).toEqual({ key: 'orderQuoteAmount', stored: '42.5', effective: '42.5' });
    out = [];
    expect(await ops('get')).toBe(0);
    const record = JSON.parse(out.join('\n')) as { version: number; updatedBy: string; effective: { strategies: Record<string, { enabledFor: Record<string, boolean> }> } };
    expect(record).toMatchObject({ version: 3 });
    expect(record.effective.strategies['price-drop']?.enabledFor[symbol]).toBe(false);
  });

  it('refuses an invalid tunable and leaves the record unchanged', async () => {
    const before = await runtime.containers.health.audit.verify();
    await expect(ops('set', 'stopLossPercent', '150')).rejects.toThrow(/stopLossPercent/);
    await expect(ops('set', 'strategies.moon-shot.enabled', 'true')).rejects.toThrow(/unknown strategy/);
    await expect(ops('set', 'maxOpenPositons', '3')).rejects.toThrow(/maxOpenPositons/);
    await expect(ops('set', 'strategies.ma-crossover.params.fastPeriod', '99')).rejects.toThrow(/fastPeriod must be below slowPeriod/);
    expect((await runtime.containers.health.audit.verify()).records).toBe(before.records);
    expect(await ops('set', 'orderQuoteAmount', 'null')).toBe(0);
    out = [];
    await ops('get', 'orderQuoteAmount');
    expect(JSON.parse(out.join('\n'))).toMatchObject({ stored: null, effective: runtime.config.orderQuoteAmount });
  });

  it('rejects an unknown command or a bad option before touching anything', async () => {
    await expect(ops('launch')).rejects.toThrow(/usage/);
    await expect(ops('pause', '--reason', 'x', '--for', 'forever')).rejects.toThrow(/--for/);
  });
});
