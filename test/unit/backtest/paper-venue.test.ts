import { describe, expect, it } from 'vitest';
import { PaperVenue } from '../../../backtest/paper-venue.js';
import { MemoryPaperStore } from '../../../shared/adapters/paper/memory-paper-store.js';
import { isConditionFailed, withIndexKeys, type OrderItem } from '../../../shared/adapters/paper/paper-store.js';
import type { Candle, Ticker } from '../../../shared/domain/market.js';
import { SimulatedClock } from '../../../backtest/memory-ports.js';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 0, 1);
const RULES = { 'BTC/USDT': { symbol: 'BTC/USDT', base: 'BTC', quote: 'USDT', amountStep: '0.0001', priceTick: '0.01', minNotional: '5' } };
const candle = (i: number, close: string): Candle => ({ openTime: T0 + i * MINUTE, open: close, high: close, low: close, close, volume: '100' });

describe('Backtest paper venue: the paper exchange over in-memory books and a replayed market (BT-1)', () => {
  it('fills a market order on arrival at the quote of that moment, charges the fee, and reports the fill once', async () => {
    const clock = new SimulatedClock(T0 + MINUTE);
    const quotes = { ticker: (symbol: string, at: Date): Ticker => ({ symbol, bid: '99.5', ask: '100.5', last: '100', volume: '1000', timestamp: at.getTime() }) };
    const venue = new PaperVenue({ quotes, quoteCurrency: 'USDT', rules: RULES, clock, timeframeMs: MINUTE, lookback: 3, feeRate: '0.001', feeAsset: 'quote', initialBalances: { USDT: '1000' } });
    venue.closeStep(T0 + MINUTE, new Map([['BTC/USDT', candle(0, '100')]]));
    expect((await venue.fetchCandles('BTC/USDT', 5)).map((c) => c.openTime)).toEqual([T0]);
    const order = await venue.createOrder({ clientOrderId: 'tw-1', symbol: 'BTC/USDT', side: 'buy', type: 'market', amount: '2' });
    expect(order).toMatchObject({ status: 'closed', filled: '2', cost: '201', fees: [{ currency: 'USDT', amount: '0.201' }] });
    expect(venue.takeFills()).toEqual([{ time: T0 + MINUTE, orderId: 'tw-1', symbol: 'BTC/USDT', side: 'buy', amount: '2', price: '100.5', cost: '201', fee: '0.201', feeCurrency: 'USDT', feeQuote: '0.201' }]);
    await venue.fetchOrderByClientId('BTC/USDT', 'tw-1');
    expect(venue.takeFills()).toEqual([]);
    expect((await venue.fetchBalances()).USDT).toEqual({ free: '798.799', used: '0', total: '798.799' });
    await expect(venue.createOrder({ clientOrderId: 'tw-2', symbol: 'ETH/USDT', side: 'buy', type: 'market', amount: '1' })).rejects.toMatchObject({ reason: 'bad-symbol' });
  });

  it('keeps candles to the lookback and never shows one that has not closed', async () => {
    const clock = new SimulatedClock(T0);
    const quotes = { ticker: (symbol: string, at: Date): Ticker => ({ symbol, bid: '1', ask: '1', last: '1', volume: '1', timestamp: at.getTime() }) };
    const venue = new PaperVenue({ quotes, quoteCurrency: 'USDT', rules: RULES, clock, timeframeMs: MINUTE, lookback: 2, feeRate: '0', feeAsset: 'quote', initialBalances: { USDT: '1' } });
    for (let i = 0; i < 4; i += 1) venue.closeStep(T0 + (i + 1) * MINUTE, new Map([['BTC/USDT', candle(i, String(100 + i))]]));
    clock.set(T0 + 3 * MINUTE);
    expect((await venue.fetchCandles('BTC/USDT', 5)).map((c) => c.close)).toEqual(['102']);
    clock.set(T0 + 4 * MINUTE);
    expect((await venue.fetchCandles('BTC/USDT', 5)).map((c) => c.close)).toEqual(['102', '103']);
  });
});

describe('MemoryPaperStore: the conditional writes of the paper table', () => {
  const order = (version: number, status: OrderItem['status'] = 'open'): OrderItem =>
    withIndexKeys({ pk: 'ORDER#a', sk: 'ORDER', id: 'Pa', clientOrderId: 'a', symbol: 'BTC/USDT', base: 'BTC', quote: 'USDT', side: 'buy', type: 'limit', status, amount: '1', price: '1', filled: '0', cost: '0', fees: [], feeRate: '0', timestamp: 0, effectCount: 1, version });

  it('creates an order once, replaces it only at the version read, and indexes it while open', async () => {
    const store = new MemoryPaperStore({ USDT: '5' });
    expect(await store.createOrder(order(1))).toBe(true);
    expect(await store.createOrder(order(1))).toBe(false);
    expect(await store.queryIndex('OPEN', 'BTC/USDT#')).toEqual([{ clientOrderId: 'a' }]);
    expect(await store.queryIndex('OPEN', 'ETH/USDT#')).toEqual([]);
    const stale = await store.putOrder(order(2, 'closed'), 7).catch((e: unknown) => e);
    expect(isConditionFailed(stale)).toBe(true);
    await store.putOrder(order(2, 'closed'), 1);
    expect((await store.getOrder('a'))?.status).toBe('closed');
    expect(await store.queryIndex('OPEN')).toEqual([]);
  });

  it('opens the balances from the initial amounts and writes them only at the version read', async () => {
    const store = new MemoryPaperStore({ USDT: '5' });
    const books = await store.readBalances();
    expect(books).toMatchObject({ assets: { USDT: { free: '5', used: '0' } }, version: 0 });
    await store.putBalances({ ...books, assets: { USDT: { free: '4', used: '1' } } });
    expect(isConditionFailed(await store.putBalances(books).catch((e: unknown) => e))).toBe(true);
    expect(await store.readBalances()).toMatchObject({ assets: { USDT: { free: '4', used: '1' } }, version: 1 });
  });
});
