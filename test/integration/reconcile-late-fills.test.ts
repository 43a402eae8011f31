/**
 * EXE-10 and EXE-11 on the embedded stack: fills the exchange reports after the order ended
 * locally (a local cancel, an order declared lost) are booked exactly once, and a trade the
 * exchange reports twice is booked once; an order declared lost twice books its fill once.
 */
import { describe, expect, it } from 'vitest';
import { checkBook } from '../../shared/domain/account.js';
import { ExchangeUnknownOutcomeError } from '../../shared/domain/errors.js';
import { dec } from '../../shared/domain/money.js';
import { LATE_FILL_WATCH_MS, LOST_GRACE_MS } from '../../shared/domain/timing.js';
import type { LocalRuntime } from '../../local-runtime/runtime.js';
import type { ExchangeOrder } from '../../shared/ports/exchange.js';
import { localOperatorDeps } from '../../operator/local-transport.js';
import { cancelOneOrder } from '../../shared/operations/index.js';
import { ManualClock } from '../support/local-runtime.js';
import { auditRecords, execute, intent, placeRestingBuy, quoteBook, useScriptedStack, type ScriptedExchange } from './reconcile-support.js';

const SECOND = 1000;
const SETTLED = 20 * SECOND;

describe('Reconciler: late fills and duplicate trades (EXE-10, EXE-11)', () => {
  let runtime: LocalRuntime;
  let x: ScriptedExchange;
  const clock = new ManualClock(new Date('2026-03-03T10:00:00.000Z'));

  useScriptedStack({ TW_PAPER_SEED: 'reconcile-late-fills', TW_WATCHLIST: 'BTC/USDT,ETH/USDT,XRP/USDT' }, { clock }, (stack) => ({ runtime, x } = stack));

  const c = () => runtime.containers.reconciler;
  const book = () => quoteBook(c());
  const lateFillRecords = async (symbol: string, orderId: string) =>
    (await auditRecords(c(), `symbol:${symbol}`)).filter((r) => r.type === 'order.late-fill' && r.data.orderId === orderId);

  it('books a fill reported after a local cancel, once, and stops looking when the watch is over', async () => {
    // Prepare: a resting buy, half filled, then canceled locally by the operator's cancel (the
    // cancel use case, as `ops cancel` runs it) after the exchange confirmed the cancel with that half.
    const before = await book();
    const { orderId, remote, limitPrice, share } = await placeRestingBuy(runtime, x, 'XRP/USDT', clock.now());
    const half = share(1, 2);
    const threeQuarters = share(3, 4);
    const view = (filled: string): ExchangeOrder => {
      const cost = dec(filled).times(limitPrice);
      return { ...remote, status: 'canceled', filled, cost: cost.toFixed(), fees: [{ currency: 'USDT', amount: cost.times('0.001').toFixed() }] };
    };
    clock.advance(SETTLED);
    x.script.cancelOrder = async (symbol, id, inner) => {
      if (id !== orderId) return inner.cancelOrder(symbol, id);
      expect((await inner.cancelOrder(symbol, id))?.status).toBe('canceled');
      return view(half);
    };
    expect(await cancelOneOrder(localOperatorDeps(runtime), { orderId, reason: 'operator', author: 'test' })).toMatchObject({ ok: true, outcome: 'canceled' });
    x.script = {};
    const canceled = await c().orders.get(orderId);
    if (!canceled) throw new Error('no order');
    expect(canceled).toMatchObject({ state: 'CANCELED', filled: half });
    expect(canceled.watchUntil).toBeDefined();
    expect((await book()).positions['XRP/USDT']?.qty).toBe(half);

    // Act: the exchange now reports three quarters filled; reconciled twice (the late fill makes
    // the order PARTIALLY_FILLED, the next run follows it back to the exchange's CANCELED).
    x.script.fetchOrderByClientId = async (symbol, id, inner) => (id === orderId ? view(threeQuarters) : inner.fetchOrderByClientId(symbol, id));
    clock.advance(SETTLED);
    const first = await runtime.reconcile();
    const afterFirst = await book();
    clock.advance(SETTLED);
    const second = await runtime.reconcile();

    // Assess
    expect(first).toMatchObject({ status: 'completed', lateFills: 1 });
    expect(afterFirst.positions['XRP/USDT']?.qty).toBe(threeQuarters);
    expect(second.lateFills).toBe(0);
    const cost = dec(threeQuarters).times(limitPrice);
    expect(await c().orders.get(orderId)).toMatchObject({ state: 'CANCELED', filled: threeQuarters, cost: cost.toFixed() });
    expect(afterFirst.positions['XRP/USDT']?.qty).toBe(threeQuarters);
    expect((await book()).positions['XRP/USDT']).toEqual(afterFirst.positions['XRP/USDT']);
    expect(dec(before.available).minus((await book()).available).toFixed()).toBe(cost.times('1.001').toFixed());
    expect(afterFirst.orders[orderId]).toBeUndefined();
    expect(checkBook(await book())).toEqual([]);
    expect(await lateFillRecords('XRP/USDT', orderId)).toHaveLength(1);

    // Act 2: past the watch, one more look ends it; later runs do not ask the exchange again.
    clock.advance(LATE_FILL_WATCH_MS);
    await runtime.reconcile();
    expect((await c().orders.get(orderId))?.watchUntil).toBeUndefined();
    const mark = x.calls.length;
    clock.advance(SETTLED);
    await runtime.reconcile();
    expect(x.lookedUp(mark)).not.toContain(orderId);
  });

  it('books a fill reported after the order was declared lost, once, with the books equal to the exchange', async () => {
    // Prepare: the send reaches the exchange (a market buy fills), the answer is lost, and the
    // exchange's lookups say "not found" until the order is declared lost.
    const buy = intent({ symbol: 'BTC/USDT', side: 'buy', type: 'market', quoteAmount: '8', at: clock.now() });
    const orderId = `tw-${buy.id}`;
    x.script.createOrder = async (request, inner) => {
      await inner.createOrder(request);
      throw new ExchangeUnknownOutcomeError('socket hang up after the request was sent');
    };
    x.script.fetchOrderByClientId = async (symbol, id, inner) => (id === orderId ? null : inner.fetchOrderByClientId(symbol, id));
    await expect(execute(runtime, buy)).rejects.toBeInstanceOf(ExchangeUnknownOutcomeError);
    for (let i = 0; i < 4; i += 1) {
      clock.advance(LOST_GRACE_MS / 2);
      await runtime.reconcile();
    }
    const lost = await c().orders.get(orderId);
    expect(lost).toMatchObject({ state: 'FAILED', filled: '0' });
    expect((await book()).positions['BTC/USDT']).toBeUndefined();

    // Act: the exchange answers again, with the fill; reconciled twice.
    x.script = {};
    clock.advance(SETTLED);
    const first = await runtime.reconcile();
    clock.advance(SETTLED);
    const second = await runtime.reconcile();

    // Assess
    const remote = await x.inner.fetchOrderByClientId('BTC/USDT', orderId);
    expect(remote?.status).toBe('closed');
    expect(first.lateFills).toBe(1);
    expect(second.lateFills).toBe(0);
    expect(await c().orders.get(orderId)).toMatchObject({ state: 'FILLED', filled: remote?.filled, cost: remote?.cost });
    expect((await c().orders.get(orderId))?.watchUntil).toBeUndefined();
    const after = await book();
    expect(after.positions['BTC/USDT']?.qty).toBe(remote?.filled);
    expect(checkBook(after)).toEqual([]);
    expect(await lateFillRecords('BTC/USDT', orderId)).toHaveLength(1);
    // The exchange holds exactly what the books say was bought.
    expect((await x.inner.fetchBalances()).BTC?.total).toBe(after.positions['BTC/USDT']?.qty);
  });

  it('books a trade the exchange reports twice only once (EXE-11)', async () => {
    // Prepare: a resting buy whose lookups list its trades, one of them twice, with a cumulative
    // figure that counted the duplicate (as a client merging two feeds would).
    const { orderId, remote, limitPrice, share } = await placeRestingBuy(runtime, x, 'ETH/USDT', clock.now());
    const third = share(1, 3);
    const trade = (id: string) => ({ id, amount: third, cost: dec(third).times(limitPrice).toFixed(), fees: [] });
    const t1 = trade('T1');
    const t2 = trade('T2');
    const sum = (...ts: (typeof t1)[]) => ({
      filled: ts.reduce((a, x1) => a.plus(x1.amount), dec('0')).toFixed(),
      cost: ts.reduce((a, x1) => a.plus(x1.cost), dec('0')).toFixed(),
      fees: [],
    });
    let view: ExchangeOrder = { ...remote, status: 'open', ...sum(t1), trades: [t1] };
    x.script.fetchOrderByClientId = async (symbol, id, inner) => (id === orderId ? view : inner.fetchOrderByClientId(symbol, id));

    // Act: T1 reported, then T1 again (twice in one list) with T2.
    clock.advance(SETTLED);
    await runtime.reconcile();
    view = { ...remote, status: 'open', ...sum(t1, t1, t2), trades: [t1, t1, t2] };
    clock.advance(SETTLED);
    await runtime.reconcile();
    clock.advance(SETTLED);
    await runtime.reconcile();

    // Assess
    const twoThirds = dec(third).times(2).toFixed();
    const order = await c().orders.get(orderId);
    expect(order).toMatchObject({ state: 'PARTIALLY_FILLED', filled: twoThirds });
    expect(order?.trades?.map((tr) => tr.id).sort()).toEqual(['T1', 'T2']);
    const after = await book();
    expect(after.positions['ETH/USDT']?.qty).toBe(twoThirds);
    expect(after.orders[orderId]?.filled).toBe(twoThirds);
    expect(checkBook(after)).toEqual([]);
  });
});

// Its own stack: the scripted exchange answers below leave the books apart from the paper
// exchange's balances, which halts entries by drift for any later test on the same stack.
describe('Reconciler: an order declared lost twice (EXE-10)', () => {
  let runtime: LocalRuntime;
  let x: ScriptedExchange;
  const clock = new ManualClock(new Date('2026-03-03T10:00:00.000Z'));

  useScriptedStack({ TW_PAPER_SEED: 'reconcile-lost-twice', TW_WATCHLIST: 'BTC/USDT,XRP/USDT' }, { clock }, (stack) => ({ runtime, x } = stack));

  const c = () => runtime.containers.reconciler;
  const book = () => quoteBook(c());

  it('books the fill of an order declared lost twice once, counting from what was booked (EXE-10)', async () => {
    // Prepare: a resting buy the exchange reports a quarter filled, then loses (declared lost),
    // shows open again with the same quarter, loses again, and finally reports three quarters.
    const before = await book();
    const { orderId, remote, limitPrice, share } = await placeRestingBuy(runtime, x, 'XRP/USDT', clock.now());
    const quarter = share(1, 4);
    const threeQuarters = share(3, 4);
    const view = (status: ExchangeOrder['status'], filled: string): ExchangeOrder => {
      const cost = dec(filled).times(limitPrice);
      return { ...remote, status, filled, cost: cost.toFixed(), fees: [{ currency: 'USDT', amount: cost.times('0.001').toFixed() }] };
    };
    let answer: ExchangeOrder | null = view('open', quarter);
    x.script.fetchOrderByClientId = async (symbol, id, inner) => (id === orderId ? answer : inner.fetchOrderByClientId(symbol, id));
    x.script.fetchOpenOrders = async (symbol, inner) => {
      const others = (await inner.fetchOpenOrders(symbol)).filter((o) => o.clientOrderId !== orderId);
      return answer?.status === 'open' ? [...others, answer] : others;
    };
    const reconcileFor = async (ms: number, passes: number) => {
      for (let i = 0; i < passes; i += 1) {
        clock.advance(ms);
        await runtime.reconcile();
      }
    };
    await reconcileFor(SETTLED, 1);
    expect(await c().orders.get(orderId)).toMatchObject({ state: 'PARTIALLY_FILLED', filled: quarter });

    // Act: lost, found open again with the same fill, lost again, then three quarters and canceled.
    answer = null;
    await reconcileFor(LOST_GRACE_MS / 2, 4);
    const firstLoss = await c().orders.get(orderId);
    answer = view('open', quarter);
    await reconcileFor(SETTLED, 1);
    const reopened = await c().orders.get(orderId);
    answer = null;
    await reconcileFor(LOST_GRACE_MS / 2, 4);
    const secondLoss = await c().orders.get(orderId);
    const bookAfterSecondLoss = await book();
    answer = view('canceled', threeQuarters);
    await reconcileFor(SETTLED, 2);

    // Assess: each loss was recorded, and the books hold the exchange's final fill exactly once.
    expect(firstLoss).toMatchObject({ state: 'FAILED', filled: quarter });
    expect(reopened?.state).not.toBe('FAILED');
    expect(secondLoss).toMatchObject({ state: 'FAILED', filled: quarter });
    expect(secondLoss?.events.filter((e) => e.type === 'Lost')).toHaveLength(2);
    const held = (b: typeof before) => dec(b.positions['XRP/USDT']?.qty ?? '0').minus(before.positions['XRP/USDT']?.qty ?? '0').toFixed();
    expect(held(bookAfterSecondLoss)).toBe(quarter);
    const cost = dec(threeQuarters).times(limitPrice);
    expect(await c().orders.get(orderId)).toMatchObject({ state: 'CANCELED', filled: threeQuarters, cost: cost.toFixed() });
    const after = await book();
    expect(held(after)).toBe(threeQuarters);
    expect(dec(before.available).minus(after.available).toFixed()).toBe(cost.times('1.001').toFixed());
    expect(after.orders[orderId]).toBeUndefined();
    expect(checkBook(after)).toEqual([]);
  });
});
