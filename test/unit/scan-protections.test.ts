/**
 * Protections applied by the scanner (RISK-4): generic exits, cooldowns, daily loss and
 * drawdown, position and exposure limits, orders in flight and min notional.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { AccountBook } from '../../shared/domain/account.js';
import { scanMarket } from '../../shared/use-cases/scan-market.js';
import { scanFixture, type ScanFixture } from '../fixtures/scanner-fakes.js';
import { flatCandles } from '../support/fakes.js';

const NOW = new Date('2026-05-01T12:00:30.000Z');
const SLOT = new Date('2026-05-01T12:00:00.000Z');
const NEXT_SLOT = new Date('2026-05-01T12:01:00.000Z');

async function hold(f: ScanFixture, symbol: string, qty: string, avgPrice: string, orders: AccountBook['orders'] = {}): Promise<void> {
  await f.accounts.update('USDT', (b) => ({ ...b, positions: { ...b.positions, [symbol]: { symbol, qty, avgPrice, realizedPnl: '0' } }, orders: { ...b.orders, ...orders } }));
}

describe('Use case: scanMarket (protections)', () => {
  let f: ScanFixture;

  beforeEach(async () => {
    f = await scanFixture(NOW, { watchlist: ['BTC/USDT', 'ETH/USDT'] });
    f.exchange.prices['ETH/USDT'] = { bid: '2999', ask: '3000' };
    // Both symbols 3.8% below their 30-candle high: price-drop wants to buy both.
    f.exchange.candles['BTC/USDT'] = flatCandles(NOW, 30, '50500', '52000');
    f.exchange.candles['ETH/USDT'] = flatCandles(NOW, 30, '3050', '3120');
  });

  it('exits a held position at the stop-loss whichever strategy opened it, and records its cooldown', async () => {
    // Prepare: bought at 52000, bid 49990 is 3.9% below (stop 3%).
    await hold(f, 'BTC/USDT', '0.002', '52000');

    // Act
    const result = await scanMarket(f.deps, { slot: SLOT, dryRun: false });

    // Assess
    expect(result.intents).toContainEqual(expect.objectContaining({ symbol: 'BTC/USDT', side: 'sell', strategy: 'stop-loss', amount: '0.002', reason: expect.stringMatching(/stop-loss/) }));
    expect(f.tunables.risk.state.cooldowns).toEqual({ 'BTC/USDT': NOW.toISOString() });
  });

  it('takes profit at the take-profit level', async () => {
    await hold(f, 'BTC/USDT', '0.002', '48000');
    const result = await scanMarket(f.deps, { slot: SLOT, dryRun: false });
    expect(result.intents).toContainEqual(expect.objectContaining({ symbol: 'BTC/USDT', side: 'sell', strategy: 'take-profit' }));
  });

  it('blocks a new entry of a symbol during its cooldown after an exit', async () => {
    f.tunables.risk = { state: { cooldowns: { 'BTC/USDT': new Date(NOW.getTime() - 60_000).toISOString() } }, version: 1 };
    const result = await scanMarket(f.deps, { slot: NEXT_SLOT, dryRun: false });
    expect(result.blocked).toEqual([{ symbol: 'BTC/USDT', strategy: 'price-drop', side: 'buy', reason: 'cooldown after exit until 2026-05-01T12:14:30.000Z' }]);
    expect(result.intents.map((i) => i.symbol)).toEqual(['ETH/USDT']);
  });

  it('pauses entries past the daily loss with a reason, while exits still go out', async () => {
    // Prepare: equity 1000 cash + 0.002 x 49990 = 1099.98, the day started at 1300.
    await hold(f, 'BTC/USDT', '0.002', '52000');
    f.tunables.risk = { state: { peakEquity: '1300', day: '2026-05-01', dayStartEquity: '1300', cooldowns: {} }, version: 3 };
    f.tunables.tunables = { tunables: { maxDailyLoss: '150' }, version: 1 };

    // Act
    const result = await scanMarket(f.deps, { slot: SLOT, dryRun: false });

    // Assess
    expect(result.entriesPaused).toBe('daily loss 200.02 >= 150 (equity 1099.98, day start 1300)');
    expect(result.blocked).toEqual([{ symbol: 'ETH/USDT', strategy: 'price-drop', side: 'buy', reason: `entries paused: ${result.entriesPaused}` }]);
    expect(result.intents).toEqual([expect.objectContaining({ symbol: 'BTC/USDT', side: 'sell', strategy: 'stop-loss' })]);
    expect(f.control.reports.get('scan')).toMatchObject({ entriesPaused: result.entriesPaused, blocked: 1 });
  });

  it('pauses entries at the max drawdown and keeps the peak in the risk record', async () => {
    f.tunables.risk = { state: { peakEquity: '1250', day: '2026-05-01', dayStartEquity: '1000', cooldowns: {} }, version: 1 };
    f.tunables.tunables = { tunables: { maxDrawdownPercent: '20' }, version: 1 };
    const result = await scanMarket(f.deps, { slot: SLOT, dryRun: false });
    expect(result.entriesPaused).toMatch(/^drawdown 20% >= 20%/);
    expect(result.intents).toEqual([]);
    expect(f.tunables.risk.state.peakEquity).toBe('1250');
  });

  it('counts entries accepted earlier in the same scan against max open positions', async () => {
    f.tunables.tunables = { tunables: { maxOpenPositions: 1 }, version: 1 };
    const result = await scanMarket(f.deps, { slot: SLOT, dryRun: false });
    expect(result.intents.map((i) => i.symbol)).toEqual(['BTC/USDT']);
    expect(result.blocked).toEqual([{ symbol: 'ETH/USDT', strategy: 'price-drop', side: 'buy', reason: 'max open positions 1 reached' }]);
  });

  it('caps the total exposure', async () => {
    f.tunables.tunables = { tunables: { maxTotalExposure: '150' }, version: 1 };
    const result = await scanMarket(f.deps, { slot: SLOT, dryRun: false });
    expect(result.intents.map((i) => i.symbol)).toEqual(['BTC/USDT']);
    expect(result.blocked[0]?.reason).toBe('total exposure 200 would exceed 150');
  });

  it('sends no second buy while one is in flight, and no second sell', async () => {
    await hold(f, 'ETH/USDT', '0.1', '3500', {
      'tw-eth-sell': { symbol: 'ETH/USDT', side: 'sell', reserved: '0', remaining: '0', filled: '0', cost: '0', fees: [], at: NOW.toISOString() },
    });
    await f.accounts.update('USDT', (b) => ({
      ...b,
      available: '900',
      reserved: '100',
      orders: { ...b.orders, 'tw-btc-buy': { symbol: 'BTC/USDT', side: 'buy', reserved: '100', remaining: '100', filled: '0', cost: '0', fees: [], at: NOW.toISOString() } },
    }));
    const result = await scanMarket(f.deps, { slot: SLOT, dryRun: false });
    expect(result.intents).toEqual([]);
    expect(result.blocked).toEqual([
      { symbol: 'BTC/USDT', strategy: 'price-drop', side: 'buy', reason: 'a buy is already in flight' },
      { symbol: 'ETH/USDT', strategy: 'stop-loss', side: 'sell', reason: 'a sell is already in flight' },
    ]);
  });

  it('does not send an entry below the min notional, nor an exit of dust (dust is reported and no bar to an entry, RISK-9)', async () => {
    f.tunables.tunables = { tunables: { orderQuoteAmount: '5' }, version: 1 };
    await hold(f, 'ETH/USDT', '0.00001', '3500');
    const result = await scanMarket(f.deps, { slot: SLOT, dryRun: false });
    expect(result.intents).toEqual([]);
    expect(result.dust).toEqual(['ETH/USDT']);
    expect(result.blocked).toEqual([
      { symbol: 'BTC/USDT', strategy: 'price-drop', side: 'buy', reason: 'order 5 below min notional 10' },
      { symbol: 'ETH/USDT', strategy: 'price-drop', side: 'buy', reason: 'order 5 below min notional 10' },
    ]);
  });

  it('enters a symbol at most once per scan when several strategies agree', async () => {
    f.tunables.tunables = { tunables: { strategies: { 'rsi-mean-reversion': { enabled: true, params: { period: 2, lookback: 3, oversold: 99, overbought: 99.5 } } } }, version: 1 };
    const result = await scanMarket(f.deps, { slot: SLOT, dryRun: false });
    expect(result.intents.filter((i) => i.symbol === 'BTC/USDT')).toEqual([expect.objectContaining({ strategy: 'price-drop' })]);
  });

  it('writes no risk record on a dry run', async () => {
    await hold(f, 'BTC/USDT', '0.002', '52000');
    const result = await scanMarket(f.deps, { slot: SLOT, dryRun: true });
    expect(result.intents).toHaveLength(2);
    expect(f.tunables.risk.version).toBe(0);
  });
});
