/**
 * REC-1 on the embedded stack: fills and cancels that happened on the (paper) exchange while no
 * executor was there to book them are applied by the reconciler, exactly once.
 */
import { describe, expect, it } from 'vitest';
import { checkBook } from '../../shared/domain/account.js';
import { dec } from '../../shared/domain/money.js';
import type { LocalRuntime } from '../../local-runtime/runtime.js';
import type { ExchangeOrder } from '../../shared/ports/exchange.js';
import { ManualClock, type TestStack } from '../support/local-runtime.js';
import { MINUTE, auditRecords, crossingBuy, execute, floorTo, intent, placeRestingBuy, quoteBook, restingBuy, useScriptedStack, type ScriptedExchange } from './reconcile-support.js';

const SETTLED = 20_000;

describe('Reconciler: fills and cancels the executor did not book (REC-1)', () => {
  let t: TestStack;
  let runtime: LocalRuntime;
  let x: ScriptedExchange;
  const clock = new ManualClock(new Date('2026-03-02T10:00:00.000Z'));
  const crashAfterAcceptance = new Set<string>();

  useScriptedStack(
    { TW_PAPER_SEED: 'reconcile-fills', TW_WATCHLIST: 'BTC/USDT,ETH/USDT,SOL/USDT,XRP/USDT' },
    {
      clock,
      afterStep: (step, i) => {
        if (step === 'after-exchange-accepted' && crashAfterAcceptance.has(i.id)) throw new Error('executor killed after the exchange accepted');
      },
    },
    (stack) => ({ t, runtime, x } = stack),
  );

  const c = () => runtime.containers.reconciler;
  const book = () => quoteBook(c());

  it('books a fill the executor died before recording, once, even when reconciliation runs twice', async () => {
    // Prepare: the exchange fills a market buy; the executor dies before writing it down.
    const buy = intent({ symbol: 'BTC/USDT', side: 'buy', type: 'market', quoteAmount: '50', at: clock.now() });
    crashAfterAcceptance.add(buy.id);
    await expect(execute(runtime, buy)).rejects.toThrow();
    const orderId = `tw-${buy.id}`;
    expect((await c().orders.get(orderId))?.state).toBe('SUBMITTING');
    const remote = await x.inner.fetchOrderByClientId('BTC/USDT', orderId);
    expect(remote?.status).toBe('closed');
    expect((await book()).positions['BTC/USDT']).toBeUndefined();

    // Act
    clock.advance(SETTLED);
    const first = await runtime.reconcile();
    const afterFirst = await book();
    const orderAfterFirst = await c().orders.get(orderId);
    clock.advance(SETTLED);
    const second = await runtime.reconcile();

    // Assess
    expect(first).toMatchObject({ status: 'completed', filled: 1 });
    expect(orderAfterFirst).toMatchObject({ state: 'FILLED', filled: remote?.filled, cost: remote?.cost, fees: remote?.fees });
    expect(afterFirst.positions['BTC/USDT']?.qty).toBe(remote?.filled);
    expect(afterFirst.orders[orderId]).toBeUndefined();
    expect(checkBook(afterFirst)).toEqual([]);
    expect(second).toMatchObject({ status: 'completed', filled: 0 });
    expect(await c().orders.get(orderId)).toEqual(orderAfterFirst);
    const { version: _v1, updatedAt: _u1, ...stable } = afterFirst;
    expect(await book()).toMatchObject(stable);
    const fills = (await auditRecords(c(), 'symbol:BTC/USDT')).filter((r) => r.type === 'order.filled' && r.data.orderId === orderId);
    expect(fills).toHaveLength(1);
    // The books agree with the exchange to the last digit.
    expect(first.balances?.drift).toMatchObject({ quote: '0', level: 'ok' });
  });

  it('places nothing more when the intent of a reconciled order is redelivered', async () => {
    // Prepare
    const buy = intent({ symbol: 'BTC/USDT', side: 'buy', type: 'market', quoteAmount: '20', at: clock.now() });
    crashAfterAcceptance.add(buy.id);
    await expect(execute(runtime, buy)).rejects.toThrow();
    clock.advance(SETTLED);
    await runtime.reconcile();
    crashAfterAcceptance.delete(buy.id);
    const creates = () => x.calls.filter((call) => call.method === 'createOrder' && (call.args[0] as { clientOrderId: string }).clientOrderId === `tw-${buy.id}`).length;

    // Act
    const redelivered = await execute(runtime, { ...buy, expiresAt: new Date(clock.now().getTime() + MINUTE).toISOString() });

    // Assess
    expect(redelivered).toMatchObject({ outcome: 'already-processed', state: 'FILLED' });
    expect(creates()).toBe(1);
  });

  it('books a resting limit order that the market filled while nobody looked, once', async () => {
    // Prepare: a limit buy below the market rests; the market crosses it later.
    const rules = (await c().exchange.loadMarkets())['ETH/USDT'];
    const crossing = crossingBuy(t.config.paperSeed, 'ETH/USDT', clock.now());
    const amount = floorTo(dec('50').div(crossing.limitPrice).toFixed(), rules?.amountStep ?? '0.0001');
    const buy = intent({ symbol: 'ETH/USDT', side: 'buy', type: 'limit', amount, limitPrice: crossing.limitPrice, at: clock.now() });
    expect(await execute(runtime, buy)).toMatchObject({ state: 'OPEN' });
    const orderId = `tw-${buy.id}`;
    const reserved = (await book()).orders[orderId]?.reserved;
    expect(dec(reserved ?? '0').gt(0)).toBe(true);

    // Act: the executor is gone; time passes to where the market trades through the limit.
    clock.set(crossing.at);
    const first = await runtime.reconcile();
    const afterFirst = await book();
    clock.advance(SETTLED);
    await runtime.reconcile();

    // Assess
    const cost = dec(amount).times(crossing.limitPrice);
    const fee = cost.times('0.001');
    expect(first.filled).toBe(1);
    expect(await c().orders.get(orderId)).toMatchObject({ state: 'FILLED', filled: amount, cost: cost.toFixed(), fees: [{ currency: 'USDT', amount: fee.toFixed() }] });
    expect(afterFirst.positions['ETH/USDT']?.qty).toBe(amount);
    expect(afterFirst.orders[orderId]).toBeUndefined();
    expect(checkBook(afterFirst)).toEqual([]);
    expect((await book()).positions['ETH/USDT']).toEqual(afterFirst.positions['ETH/USDT']);
    expect((await auditRecords(c(), 'symbol:ETH/USDT')).filter((r) => r.type === 'order.filled' && r.data.orderId === orderId)).toHaveLength(1);
    expect(first.balances?.drift.level).toBe('ok');
  });

  it('records an order cancelled on the exchange and gives its whole reservation back', async () => {
    // Prepare
    const before = await book();
    const buy = await restingBuy(c(), 'SOL/USDT', clock.now());
    expect(await execute(runtime, buy)).toMatchObject({ state: 'OPEN' });
    const orderId = `tw-${buy.id}`;
    expect((await x.inner.cancelOrder('SOL/USDT', orderId))?.status).toBe('canceled');

    // Act
    clock.advance(SETTLED);
    const report = await runtime.reconcile();

    // Assess
    const after = await book();
    expect(report.updated).toBeGreaterThanOrEqual(1);
    expect(await c().orders.get(orderId)).toMatchObject({ state: 'CANCELED', filled: '0' });
    expect(after.orders[orderId]).toBeUndefined();
    expect(after.available).toBe(before.available);
    expect(after.reserved).toBe(before.reserved);
    expect(report.balances?.drift.level).toBe('ok');
  });

  it('books a partial fill, then the cancel of the rest, releasing only what was not spent', async () => {
    // Prepare: a resting buy the exchange reports half filled, then cancelled.
    const before = await book();
    const { orderId, remote, limitPrice, share } = await placeRestingBuy(runtime, x, 'XRP/USDT', clock.now());
    const half = share(1, 2);
    const cost = dec(half).times(limitPrice);
    const fee = cost.times('0.001');
    const partial: ExchangeOrder = { ...remote, status: 'open', filled: half, cost: cost.toFixed(), fees: [{ currency: 'USDT', amount: fee.toFixed() }] };
    let view = partial;
    x.script.fetchOrderByClientId = async (symbol, id, inner) => (id === orderId ? view : inner.fetchOrderByClientId(symbol, id));

    // Act 1: partially filled
    clock.advance(SETTLED);
    await runtime.reconcile();
    const mid = await book();

    // Assess 1
    expect(await c().orders.get(orderId)).toMatchObject({ state: 'PARTIALLY_FILLED', filled: half });
    expect(mid.positions['XRP/USDT']?.qty).toBe(half);
    const entry = mid.orders[orderId];
    expect(dec(entry?.reserved ?? '0').minus(entry?.remaining ?? '0').toFixed()).toBe(cost.plus(fee).toFixed());

    // Act 2: the rest cancelled; reconciled twice
    view = { ...partial, status: 'canceled' };
    clock.advance(SETTLED);
    await runtime.reconcile();
    const after = await book();
    clock.advance(SETTLED);
    await runtime.reconcile();

    // Assess 2
    expect(await c().orders.get(orderId)).toMatchObject({ state: 'CANCELED', filled: half, cost: cost.toFixed() });
    expect(after.orders[orderId]).toBeUndefined();
    expect(after.positions['XRP/USDT']?.qty).toBe(half);
    expect(dec(before.available).minus(after.available).toFixed()).toBe(cost.plus(fee).toFixed());
    expect(after.reserved).toBe(before.reserved);
    expect(checkBook(after)).toEqual([]);
    expect((await book()).available).toBe(after.available);
  });
});
