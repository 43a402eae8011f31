/**
 * EXE-13 on the emulators: entries pile up in the FIFO execution queue while the executor is
 * stopped (a lagging executor, a redrive), then the executor starts. The limits are checked where
 * the order is sent, in the account book's conditional write that reserves the budget, so no
 * symbol's exposure, the number of open positions or the total exposure ever passes its limit,
 * and every entry refused says which limit refused it. Two executors racing on the same book
 * cannot both pass a limit.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ENTRY_LIMIT_NAMES } from '../../shared/domain/entry-limits.js';
import type { Intent } from '../../shared/domain/intent.js';
import { Decimal, dec } from '../../shared/domain/money.js';
import { clientOrderIdFor, type OrderRecord } from '../../shared/domain/order.js';
import { basisOf } from '../../shared/domain/position.js';
import type { Container } from '../../shared/runtime/container.js';
import type { ExecutionResult } from '../../shared/use-cases/execute-intent.js';
import { ManualClock, startTestStack, type TestStack } from '../support/local-runtime.js';
import { T0, auditRecords, book, buyIntent, expectAtMostOneOrderPerIntent, executorHandler, faultyRuntime, sendIntents } from './exec-support.js';

const SYMBOLS = ['BTC/USDT', 'ETH/USDT', 'SOL/USDT', 'XRP/USDT', 'ADA/USDT'] as const;

interface Limits {
  readonly open: number;
  readonly perSymbol: string;
  readonly total: string;
}

function env(limits: Limits): Record<string, string> {
  return {
    TW_PAPER_SEED: 'risk-limits',
    TW_WATCHLIST: SYMBOLS.join(','),
    TW_MAX_OPEN_POSITIONS: String(limits.open),
    TW_MAX_EXPOSURE_PER_SYMBOL: limits.perSymbol,
    TW_MAX_TOTAL_EXPOSURE: limits.total,
  };
}

/**
 * What the book commits, computed here from its raw fields (not with the code under test):
 * every position at its cost basis plus the quote still reserved for buys in flight.
 */
async function committed(c: Container): Promise<{ bySymbol: Map<string, Decimal>; total: Decimal; open: number }> {
  const b = await book(c);
  const bySymbol = new Map<string, Decimal>();
  for (const p of Object.values(b.positions)) if (dec(p.qty).gt(0)) bySymbol.set(p.symbol, basisOf(p));
  for (const o of Object.values(b.orders)) if (o.side === 'buy') bySymbol.set(o.symbol, (bySymbol.get(o.symbol) ?? new Decimal(0)).plus(o.remaining));
  return { bySymbol, total: [...bySymbol.values()].reduce((a, v) => a.plus(v), new Decimal(0)), open: bySymbol.size };
}

async function expectWithin(c: Container, limits: Limits, when: string): Promise<void> {
  const now = await committed(c);
  expect(now.open, `open positions ${when}`).toBeLessThanOrEqual(limits.open);
  for (const [symbol, value] of now.bySymbol) expect(value.lte(limits.perSymbol), `${symbol} exposure ${value.toFixed()} ${when}`).toBe(true);
  expect(now.total.lte(limits.total), `total exposure ${now.total.toFixed()} ${when}`).toBe(true);
}

async function ordersOf(c: Container, intents: readonly Intent[]): Promise<OrderRecord[]> {
  const found: OrderRecord[] = [];
  for (const i of intents) {
    const order = await c.orders.get(clientOrderIdFor(i.id));
    if (!order) throw new Error(`no order for intent ${i.id}`);
    found.push(order);
  }
  return found;
}

/** The limit a rejection names, from its recorded reason `risk limit <name>: ...`. */
function limitNamed(order: OrderRecord): string | undefined {
  return /^risk limit ([a-z-]+): /.exec(order.reason ?? '')?.[1];
}

describe('Risk limits where the order is sent (EXE-13)', () => {
  let t: TestStack | undefined;
  const clock = new ManualClock(T0);

  afterEach(async () => {
    await t?.stop();
    t = undefined;
  });

  it('fills one symbol only up to its exposure limit when many queued entries arrive at once, and rejects the rest naming the limit', async () => {
    // Prepare: the executor is stopped while 15 buys of 100 USDT queue up for one symbol.
    const limits: Limits = { open: 5, perSymbol: '500', total: '0' };
    t = await startTestStack(env(limits));
    const r = faultyRuntime(t, clock);
    const intents = Array.from({ length: 15 }, (_, n) => buyIntent(`ada-${n}`, clock.now(), { symbol: 'ADA/USDT' }));
    await sendIntents(t, intents);

    // Act: the executor starts and works the queue batch by batch.
    const c = r.runtime.containers.executor;
    let batches = 0;
    for (;;) {
      const d = await r.runtime.deliverOnce();
      if (d.received === 0) break;
      batches += 1;
      await expectWithin(c, { ...limits, total: '1e30' }, `after batch ${batches}`);
    }

    // Assess: 100 USDT plus the 1% reservation buffer each, so four fit under 500 at cost
    // (4 x about 100 paid + 101 reserved > 500); the eleven others are rejected by that limit.
    const orders = await ordersOf(c, intents);
    expect(orders.filter((o) => o.state === 'FILLED')).toHaveLength(4);
    const rejected = orders.filter((o) => o.state === 'REJECTED');
    expect(rejected).toHaveLength(11);
    for (const o of rejected) expect(limitNamed(o), o.reason).toBe('max-exposure-per-symbol');
    expect(rejected[0]?.reason).toMatch(/ADA\/USDT exposure [\d.]+ would exceed 500/);
    await expectAtMostOneOrderPerIntent(c, intents, r.faults, { onlyThese: true });
    // A rejection took nothing, so it gave nothing back: no reservation is left, and every
    // release recorded for a rejected order is of 0.
    const b = await book(c);
    expect(Object.keys(b.orders)).toEqual([]);
    const rejectedIds = new Set(rejected.map((o) => o.id));
    const releases = (await auditRecords(c)).filter((a) => a.type === 'budget.released' && rejectedIds.has(String(a.data.orderId)));
    expect(releases.length).toBe(rejected.length);
    for (const a of releases) expect(a.data.amount).toBe('0');
  });

  it('keeps open positions and total exposure within their limits across several symbols queued at once', async () => {
    // Prepare: three buys each for five symbols; at most 3 positions and 650 USDT in total.
    const limits: Limits = { open: 3, perSymbol: '500', total: '650' };
    t = await startTestStack(env(limits));
    const r = faultyRuntime(t, clock);
    const intents = SYMBOLS.flatMap((symbol) => [0, 1, 2].map((n) => buyIntent(`many-${symbol}-${n}`, clock.now(), { symbol })));
    await sendIntents(t, intents);

    // Act
    const c = r.runtime.containers.executor;
    let batches = 0;
    for (;;) {
      const d = await r.runtime.deliverOnce();
      if (d.received === 0) break;
      batches += 1;
      await expectWithin(c, limits, `after batch ${batches}`);
    }

    // Assess: whichever three symbols come first hold the positions; six entries of about 100
    // (a little less after rounding the amount down to the market's step) fit under 650 with the
    // next one's 101 reserved, a seventh does not, so the other three of those symbols are refused by
    // the total, and the six entries of the two other symbols by the position count.
    const orders = await ordersOf(c, intents);
    const filled = orders.filter((o) => o.state === 'FILLED');
    expect(filled).toHaveLength(6);
    expect(new Set(filled.map((o) => o.symbol)).size).toBe(3);
    const byLimit = new Map<string, number>();
    for (const o of orders.filter((x) => x.state === 'REJECTED')) {
      const name = limitNamed(o);
      expect(ENTRY_LIMIT_NAMES as readonly (string | undefined)[], o.reason).toContain(name);
      byLimit.set(name ?? '?', (byLimit.get(name ?? '?') ?? 0) + 1);
    }
    expect(Object.fromEntries(byLimit)).toEqual({ 'max-total-exposure': 3, 'max-open-positions': 6 });
    expect(orders.every((o) => o.state === 'FILLED' || o.state === 'REJECTED')).toBe(true);
  });

  it('lets only one of two executors racing on the same book take the last open position', async () => {
    // Prepare: room for two positions; two executor containers, each with entries for other symbols.
    const limits: Limits = { open: 2, perSymbol: '500', total: '0' };
    t = await startTestStack(env(limits));
    const runtimes = [faultyRuntime(t, clock), faultyRuntime(t, clock)];
    const handlers = runtimes.map((x) => executorHandler(x.runtime, {}));
    const intents = SYMBOLS.map((symbol) => buyIntent(`race-${symbol}`, clock.now(), { symbol }));

    // Act: every intent is replayed on both containers at the same time.
    const results = (await Promise.all(intents.flatMap((intent) => handlers.map((h) => h({ intent }).catch((error: unknown) => error))))) as (ExecutionResult | Error)[];

    // Assess: each call ended (a lost race on the book is retried, a held lease is retryable),
    // and exactly two entries filled: the book's version decided, not timing.
    const c = runtimes[0]!.runtime.containers.executor;
    for (const intent of intents) {
      const order = await c.orders.get(clientOrderIdFor(intent.id));
      if (order && order.state !== 'FILLED' && order.state !== 'REJECTED') {
        // A lease was held by the other container: deliver once more, as the queue would.
        await handlers[0]!({ intent });
      }
    }
    const orders = await ordersOf(c, intents);
    expect(orders.filter((o) => o.state === 'FILLED')).toHaveLength(2);
    for (const o of orders.filter((x) => x.state === 'REJECTED')) expect(limitNamed(o), o.reason).toBe('max-open-positions');
    await expectWithin(c, { ...limits, total: '1e30' }, 'after the race');
    expect(results.length).toBe(intents.length * 2);
    await expectAtMostOneOrderPerIntent(c, intents, runtimes.map((x) => x.faults));
  });
});
