/**
 * The scanner's side of EXE-13 and RISK-9:
 * - an entry waiting in the queue (a pending entry of the risk record) keeps the symbol from a
 *   second entry and counts as a position, until its order is over or its intent expired;
 * - dust is not a position and does not block a re-entry; a position outside the watchlist is
 *   priced by the same ticker request and protected by stop-loss, but never entered.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { AccountBook } from '../../shared/domain/account.js';
import { claimOrder } from '../../shared/domain/order-creation.js';
import { clientOrderIdFor } from '../../shared/domain/order.js';
import { pendingEntryBlocks } from '../../shared/domain/protections.js';
import type { Ticker } from '../../shared/domain/market.js';
import { scanMarket } from '../../shared/use-cases/scan-market.js';
import { scanFixture, type ScanFixture } from '../fixtures/scanner-fakes.js';
import { flatCandles } from '../support/fakes.js';

const NOW = new Date('2026-05-01T12:00:30.000Z');
const SLOT = new Date('2026-05-01T12:00:00.000Z');
const NEXT_SLOT = new Date('2026-05-01T12:01:00.000Z');

async function hold(f: ScanFixture, symbol: string, qty: string, avgPrice: string, orders: AccountBook['orders'] = {}): Promise<void> {
  await f.accounts.update('USDT', (b) => ({ ...b, positions: { ...b.positions, [symbol]: { symbol, qty, avgPrice, realizedPnl: '0' } }, orders: { ...b.orders, ...orders } }));
}

/** The executor's order for an intent, as claimed (NEW) or already closed. */
function orderFor(intentId: string, symbol: string, closed?: 'REJECTED' | 'EXPIRED') {
  const draft = {
    id: clientOrderIdFor(intentId),
    intentId,
    correlationId: intentId,
    strategy: 'price-drop',
    symbol,
    side: 'buy' as const,
    type: 'market' as const,
    fence: 1,
    amount: '0.002',
    reservedQuote: '101',
    createdAt: NOW.toISOString(),
  };
  return claimOrder(draft, NOW, closed ? { state: closed, reason: 'risk limit max-open-positions: test' } : undefined).next;
}

describe('Use case: scanMarket, entries waiting in the queue (EXE-13)', () => {
  let f: ScanFixture;

  beforeEach(async () => {
    f = await scanFixture(NOW, { watchlist: ['BTC/USDT', 'ETH/USDT'] });
    f.exchange.prices['ETH/USDT'] = { bid: '2999', ask: '3000' };
    // Both symbols 3.8% below their 30-candle high: price-drop wants to buy both, every scan.
    f.exchange.candles['BTC/USDT'] = flatCandles(NOW, 30, '50500', '52000');
    f.exchange.candles['ETH/USDT'] = flatCandles(NOW, 30, '3050', '3120');
  });

  it('records each entry it sends as pending and makes no second entry of the symbol while the first waits in the queue', async () => {
    // Act: two scans while the executor is stopped (nothing in the book, no order record).
    const first = await scanMarket(f.deps, { slot: SLOT, dryRun: false });
    const second = await scanMarket(f.deps, { slot: NEXT_SLOT, dryRun: false });

    // Assess
    expect(first.intents.map((i) => `${i.symbol} ${i.side}`)).toEqual(['BTC/USDT buy', 'ETH/USDT buy']);
    const btc = first.intents.find((i) => i.symbol === 'BTC/USDT');
    expect(second.intents).toEqual([]);
    expect(second.blocked).toContainEqual({ symbol: 'BTC/USDT', strategy: 'price-drop', side: 'buy', reason: `an entry is already in flight (intent ${btc?.id} until ${btc?.expiresAt})` });
    expect(f.tunables.risk.state.pendingEntries?.['BTC/USDT']).toEqual({ intentId: btc?.id, quote: '100', expiresAt: btc?.expiresAt, slot: SLOT.toISOString() });
    expect(f.queue.sent.filter((i) => i.symbol === 'BTC/USDT')).toHaveLength(1);
  });

  it('enters again once the pending entry\'s order is over, and keeps blocking while it is still being worked', async () => {
    const first = await scanMarket(f.deps, { slot: SLOT, dryRun: false });
    const btc = first.intents.find((i) => i.symbol === 'BTC/USDT')!;
    const eth = first.intents.find((i) => i.symbol === 'ETH/USDT')!;
    // The executor refused the BTC entry and is still working on ETH.
    await f.orders.create(orderFor(btc.id, 'BTC/USDT', 'REJECTED'));
    await f.orders.create(orderFor(eth.id, 'ETH/USDT'));

    const second = await scanMarket(f.deps, { slot: NEXT_SLOT, dryRun: false });

    expect(second.intents.map((i) => `${i.symbol} ${i.side}`)).toEqual(['BTC/USDT buy']);
    expect(second.blocked.map((b) => b.symbol)).toEqual(['ETH/USDT']);
    expect(Object.keys(f.tunables.risk.state.pendingEntries ?? {}).sort()).toEqual(['BTC/USDT', 'ETH/USDT']);
  });

  it('drops a pending entry whose intent expired unclaimed, so a lost or late message never blocks for longer than an intent lives', async () => {
    const old = { intentId: 'a'.repeat(32), quote: '100', expiresAt: new Date(NOW.getTime() - 6_000).toISOString() };
    const recent = { intentId: 'b'.repeat(32), quote: '100', expiresAt: new Date(NOW.getTime() - 1_000).toISOString() };
    f.tunables.risk = { state: { cooldowns: {}, pendingEntries: { 'BTC/USDT': old, 'ETH/USDT': recent } }, version: 1 };

    const result = await scanMarket(f.deps, { slot: SLOT, dryRun: false });

    // BTC's expired more than the clock skew ago; ETH's only just: the executor may still be
    // about to claim it, with a clock a little behind.
    expect(result.intents.map((i) => i.symbol)).toEqual(['BTC/USDT']);
    expect(result.blocked.map((b) => b.symbol)).toEqual(['ETH/USDT']);
    expect(pendingEntryBlocks(recent, NOW, 5_000, false)).toBe(true);
    expect(pendingEntryBlocks(recent, NOW, 5_000, true)).toBe(false);
    expect(pendingEntryBlocks(old, NOW, 5_000, false)).toBe(false);
  });

  it('counts an entry waiting in the queue as an open position', async () => {
    f.tunables.tunables = { tunables: { maxOpenPositions: 1 }, version: 1 };
    const pending = { intentId: 'c'.repeat(32), quote: '100', expiresAt: new Date(NOW.getTime() + 60_000).toISOString() };
    f.tunables.risk = { state: { cooldowns: {}, pendingEntries: { 'ETH/USDT': pending } }, version: 1 };

    const result = await scanMarket(f.deps, { slot: SLOT, dryRun: false });

    expect(result.intents).toEqual([]);
    expect(result.blocked).toContainEqual({ symbol: 'BTC/USDT', strategy: 'price-drop', side: 'buy', reason: 'max open positions 1 reached' });
  });
});

describe('Use case: scanMarket, dust and positions off the watchlist (RISK-9)', () => {
  let f: ScanFixture;

  beforeEach(async () => {
    f = await scanFixture(NOW, { watchlist: ['BTC/USDT', 'ETH/USDT'] });
    f.exchange.prices['ETH/USDT'] = { bid: '2999', ask: '3000' };
    f.exchange.candles['BTC/USDT'] = flatCandles(NOW, 30, '50500', '52000');
    f.exchange.candles['ETH/USDT'] = flatCandles(NOW, 30, '3050', '3120');
  });

  it('does not count dust as a position nor let it block a re-entry, and reports it', async () => {
    // Prepare: 0.0001 BTC at a bid of 49990 is worth 4.999, under the 10 USDT minimum order;
    // one position allowed.
    await hold(f, 'BTC/USDT', '0.0001', '60000');
    f.tunables.tunables = { tunables: { maxOpenPositions: 1 }, version: 1 };

    // Act
    const result = await scanMarket(f.deps, { slot: SLOT, dryRun: false });

    // Assess: no stop-loss on dust (it cannot be sold), a new entry in BTC; ETH is refused by
    // the one position BTC's entry takes, not by the dust.
    expect(result.dust).toEqual(['BTC/USDT']);
    expect(result.intents.map((i) => `${i.symbol} ${i.side}`)).toEqual(['BTC/USDT buy']);
    expect(result.blocked).toEqual([{ symbol: 'ETH/USDT', strategy: 'price-drop', side: 'buy', reason: 'max open positions 1 reached' }]);
    expect(f.control.reports.get('scan')).toMatchObject({ dust: ['BTC/USDT'] });
  });

  it('prices a position off the watchlist in the same single ticker request and exits it at the stop-loss', async () => {
    // Prepare: SOL was removed from the watchlist while held; its bid is 10% under the entry.
    f.exchange.prices['SOL/USDT'] = { bid: '90', ask: '90.1' };
    await hold(f, 'SOL/USDT', '2', '100');
    const requests: (readonly string[] | undefined)[] = [];
    const fetchTickers = f.exchange.fetchTickers.bind(f.exchange);
    f.exchange.fetchTickers = async (symbols?: readonly string[]): Promise<Ticker[]> => {
      requests.push(symbols);
      return fetchTickers(symbols);
    };

    // Act
    const result = await scanMarket(f.deps, { slot: SLOT, dryRun: false });

    // Assess
    expect(requests).toEqual([['BTC/USDT', 'ETH/USDT', 'SOL/USDT']]);
    expect(result.intents).toContainEqual(expect.objectContaining({ symbol: 'SOL/USDT', side: 'sell', strategy: 'stop-loss', amount: '2' }));
  });

  it('never enters a symbol off the watchlist, even where its position is only dust', async () => {
    f.exchange.prices['SOL/USDT'] = { bid: '90', ask: '90.1' };
    f.exchange.candles['SOL/USDT'] = flatCandles(NOW, 30, '95', '100');
    await hold(f, 'SOL/USDT', '0.05', '100');

    const result = await scanMarket(f.deps, { slot: SLOT, dryRun: false });

    expect(result.dust).toEqual(['SOL/USDT']);
    expect(result.intents.filter((i) => i.symbol === 'SOL/USDT')).toEqual([]);
    expect(result.blocked.filter((b) => b.symbol === 'SOL/USDT')).toEqual([]);
  });
});
