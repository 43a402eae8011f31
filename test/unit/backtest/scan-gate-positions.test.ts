/**
 * The scan gate keeps, per symbol, the prepared rules (stop-loss, take-profit, dust) of the
 * position record it saw last. A new record of the same symbol (a fill changed the position)
 * must be prepared afresh: a slot that is idle for one record may need a scan for the next.
 */
import { describe, expect, it } from 'vitest';
import type { AccountBook } from '../../../shared/domain/account.js';
import type { Candle, MarketRules, Ticker } from '../../../shared/domain/market.js';
import type { Position } from '../../../shared/domain/position.js';
import { EMPTY_RISK_STATE } from '../../../shared/domain/protections.js';
import { BUILT_IN_STRATEGIES } from '../../../shared/domain/strategies/index.js';
import type { ResolvedScanSettings } from '../../../shared/use-cases/scan-market.js';
import { ScanGate, type GateState } from '../../../backtest/scan-gate.js';

const MINUTE = 60_000;
const SYMBOL = 'BTC/USDT';
const RULES: MarketRules = { symbol: SYMBOL, base: 'BTC', quote: 'USDT', amountStep: '0.0001', priceTick: '0.01', minNotional: '5' };

const resolved: ResolvedScanSettings = {
  orderQuoteAmount: '100',
  protections: { maxOpenPositions: 1, maxExposurePerSymbol: '1000', maxTotalExposure: '0', cooldownSeconds: 900, stopLossPercent: '5', takeProfitPercent: '5', maxDailyLoss: '0', maxDrawdownPercent: '0' },
  strategies: [{ strategy: BUILT_IN_STRATEGIES['price-drop']!.prepare({ dropPercent: '50', lookbackCandles: 3 }), enabledFor: () => true }],
};

const candle = (i: number, price: string): Candle => ({ openTime: i * MINUTE, open: price, high: price, low: price, close: price, volume: '1' });
const ticker = (price: string, now: number): Ticker => ({ symbol: SYMBOL, bid: price, ask: price, last: price, volume: '100', timestamp: now });
const position = (avgPrice: string): Position => ({ symbol: SYMBOL, qty: '1', avgPrice, realizedPnl: '0' });
const book = (p: Position): AccountBook => ({ currency: 'USDT', version: 1, total: '1000', available: '900', reserved: '0', committed: '100', orders: {}, positions: { [SYMBOL]: p }, updatedAt: '2025-01-01T00:00:00.000Z' });
const state = (b: AccountBook, price: string, now: number): GateState => ({ book: b, inFlight: false, paused: false, tickerOf: () => ticker(price, now), risk: EMPTY_RISK_STATE, now });

describe('Class: ScanGate', () => {
  describe('Method: plan', () => {
    it('prepares each position record of a symbol afresh: a new record whose stop is crossed means a scan', () => {
      const gate = new ScanGate(resolved, [SYMBOL], { [SYMBOL]: RULES }, MINUTE, 120_000);
      for (let i = 1; i <= 5; i += 1) gate.push(SYMBOL, candle(i, '100'));
      const now = 6 * MINUTE;

      // Prepare / Act / Assess: held at 100, price 100: no stop, no target, no sell: idle.
      const first = book(position('100'));
      expect(gate.plan([SYMBOL], state(first, '100', now)).kind).toBe('idle');
      expect(gate.plan([SYMBOL], state(first, '100', now)).kind).toBe('idle');

      // The next record of the symbol, bought at 200: the price of 100 is far below its stop-loss.
      const second = book(position('200'));
      expect(gate.plan([SYMBOL], state(second, '100', now)).kind).toBe('scan');
      // And back to a record that is not crossed: idle again.
      expect(gate.plan([SYMBOL], state(book(position('101')), '100', now)).kind).toBe('idle');
      // The first record again (prepared before, not last): still its own rules.
      expect(gate.plan([SYMBOL], state(first, '100', now)).kind).toBe('idle');
      expect(gate.plan([SYMBOL], state(second, '100', now)).kind).toBe('scan');
    });

    it('scans a slot with a symbol outside the list, and ignores that symbol\'s candles', () => {
      const gate = new ScanGate(resolved, [SYMBOL], { [SYMBOL]: RULES }, MINUTE, 120_000);
      gate.push('ETH/USDT', candle(1, '10'));
      for (let i = 1; i <= 5; i += 1) gate.push(SYMBOL, candle(i, '100'));
      const flat: AccountBook = { ...book(position('100')), positions: {} };
      expect(gate.plan([SYMBOL], state(flat, '100', 6 * MINUTE)).kind).toBe('idle');
      expect(gate.plan([SYMBOL, 'ETH/USDT'], state(flat, '100', 6 * MINUTE)).kind).toBe('scan');
      // A price 50% below the highest high of the last 3 candles: the strategy buys, so a scan.
      expect(gate.plan([SYMBOL], state(flat, '50', 6 * MINUTE)).kind).toBe('scan');
    });
  });
});
