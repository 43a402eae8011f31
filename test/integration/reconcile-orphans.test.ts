/**
 * REC-3 on the embedded stack: orders open on the exchange that the local books do not know are
 * reported; those carrying our client order id prefix are adopted and then followed like any other.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkBook } from '../../shared/domain/account.js';
import { dec } from '../../shared/domain/money.js';
import type { LocalRuntime } from '../../local-runtime/runtime.js';
import { ADOPTED_STRATEGY } from '../../shared/use-cases/reconcile.js';
import { ManualClock, startTestStack, type TestStack } from '../support/local-runtime.js';
import { auditRecords, crossingBuy, floorTo, newIntentId, scripted, type ScriptedExchange } from './reconcile-support.js';

describe('Reconciler: orders open on the exchange but unknown locally (REC-3)', () => {
  let t: TestStack;
  let runtime: LocalRuntime;
  let x: ScriptedExchange;
  const clock = new ManualClock(new Date('2026-03-02T10:00:00.000Z'));
  const ours = `tw-${newIntentId()}`;
  const foreign = `manual-${newIntentId().slice(0, 12)}`;
  let crossing: { limitPrice: string; at: Date };
  let amount: string;

  beforeAll(async () => {
    t = await startTestStack({ TW_PAPER_SEED: 'reconcile-orphans', TW_WATCHLIST: 'BTC/USDT,ETH/USDT' });
    const wrap = scripted();
    runtime = t.runtime({ clock, exchange: wrap.option });
    await runtime.containers.reconciler.ensureAccount();
    x = wrap.exchange as ScriptedExchange;
    // Two resting buys placed on the exchange behind the system's back (a lost state table, a
    // person on the exchange's website): one with our prefix, one without.
    crossing = crossingBuy(t.config.paperSeed, 'BTC/USDT', clock.now());
    const rules = await x.inner.loadMarkets();
    amount = floorTo(dec('60').div(crossing.limitPrice).toFixed(), rules['BTC/USDT']?.amountStep ?? '1');
    await x.inner.createOrder({ clientOrderId: ours, symbol: 'BTC/USDT', side: 'buy', type: 'limit', amount, limitPrice: crossing.limitPrice });
    const [eth] = await x.inner.fetchTickers(['ETH/USDT']);
    const low = floorTo(dec(eth?.ask ?? '0').times('0.8').toFixed(), rules['ETH/USDT']?.priceTick ?? '1');
    const ethAmount = floorTo(dec('40').div(low).toFixed(), rules['ETH/USDT']?.amountStep ?? '1');
    await x.inner.createOrder({ clientOrderId: foreign, symbol: 'ETH/USDT', side: 'buy', type: 'limit', amount: ethAmount, limitPrice: low });
  });

  afterAll(async () => {
    await t?.stop();
  });

  const c = () => runtime.containers.reconciler;

  it('reports both, adopts the one with our prefix and leaves the other alone', async () => {
    // Act
    const report = await runtime.reconcile();

    // Assess
    expect(report).toMatchObject({ status: 'completed', orphans: 2, adopted: 1 });
    const byId = Object.fromEntries(report.orphanOrders.map((o) => [o.clientOrderId, o]));
    expect(byId[ours]).toMatchObject({ symbol: 'BTC/USDT', side: 'buy', adopted: true, amount });
    expect(byId[foreign]).toMatchObject({ symbol: 'ETH/USDT', adopted: false });
    expect(byId[foreign]?.note).toContain('not placed by Tradewarden');
    expect(await c().orders.get(foreign)).toBeNull();
    const adopted = await c().orders.get(ours);
    expect(adopted).toMatchObject({ state: 'OPEN', strategy: ADOPTED_STRATEGY, symbol: 'BTC/USDT', amount, limitPrice: crossing.limitPrice, intentId: ours.slice(3) });
    // The exchange holds the buy's funds, so the budget holds them too.
    const book = await c().accounts.get('USDT');
    expect(book?.orders[ours]?.reserved).toBe(dec(amount).times(crossing.limitPrice).toFixed());
    expect(book ? checkBook(book) : ['no book']).toEqual([]);
    expect((await auditRecords(c(), 'symbol:BTC/USDT')).map((r) => r.type)).toContain('order.adopted');
    expect(report.balances?.drift.level).toBe('ok');
  });

  it('reports only the foreign order on the next run, and health shows it', async () => {
    // Act
    clock.advance(20_000);
    const report = await runtime.reconcile();
    const health = await runtime.health();

    // Assess
    expect(report).toMatchObject({ orphans: 1, adopted: 0 });
    expect(report.orphanOrders.map((o) => o.clientOrderId)).toEqual([foreign]);
    expect(health.reasons.join('\n')).toContain('reconciliation:orphans: 1 order(s) open on the exchange');
  });

  it('books the adopted order when it fills, keeping the books in line with the exchange', async () => {
    // Act
    clock.set(crossing.at);
    const report = await runtime.reconcile();

    // Assess
    const book = await c().accounts.get('USDT');
    expect(await c().orders.get(ours)).toMatchObject({ state: 'FILLED', filled: amount });
    expect(book?.positions['BTC/USDT']?.qty).toBe(amount);
    expect(book?.orders[ours]).toBeUndefined();
    expect(report.balances?.drift).toMatchObject({ level: 'ok', quote: '0' });
  });
});
