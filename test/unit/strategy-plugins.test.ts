import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../shared/domain/errors.js';
import type { Candle, Ticker } from '../../shared/domain/market.js';
import type { Position } from '../../shared/domain/position.js';
import { BUILT_IN_STRATEGIES } from '../../shared/domain/strategies/index.js';
import { rsi, sma } from '../../shared/domain/strategies/indicators.js';
import { maCrossover } from '../../shared/domain/strategies/ma-crossover.js';
import { priceDrop } from '../../shared/domain/strategies/price-drop.js';
import { rsiMeanReversion } from '../../shared/domain/strategies/rsi-mean-reversion.js';
import { plugin } from '../../shared/domain/strategies/strategy.js';

const START = Date.parse('2026-05-01T10:00:00Z');

function series(closes: readonly number[]): Candle[] {
  return closes.map((c, i) => ({ openTime: START + i * 60_000, open: String(c), high: String(c), low: String(c), close: String(c), volume: '1' }));
}

function ticker(bid: string, ask: string): Ticker {
  return { symbol: 'BTC/USDT', bid, ask, last: ask, volume: '10', timestamp: START };
}

const HELD: Position = { symbol: 'BTC/USDT', qty: '0.01', avgPrice: '100', realizedPnl: '0' };

describe('Strategy plug-ins', () => {
  it('registers the three built-ins by name', () => {
    expect(Object.keys(BUILT_IN_STRATEGIES)).toEqual(['price-drop', 'ma-crossover', 'rsi-mean-reversion']);
  });

  describe('Parameters (zod)', () => {
    it('fills defaults and states the candle needs explicitly', () => {
      expect(plugin(priceDrop).prepare({})).toMatchObject({ params: { dropPercent: '1.5', lookbackCandles: 30 }, candlesNeeded: 30 });
      expect(plugin(maCrossover).prepare({ fastPeriod: 5, slowPeriod: 20 })).toMatchObject({ candlesNeeded: 21 });
      expect(plugin(rsiMeanReversion).prepare({ period: 14 })).toMatchObject({ params: { period: 14, lookback: 43, oversold: 30, overbought: 70 }, candlesNeeded: 43 });
    });

    it.each([
      [plugin(priceDrop), { dropPercent: 'abc' }, /price-drop\.dropPercent/],
      [plugin(priceDrop), { dropPercent: '150' }, /price-drop\.dropPercent/],
      [plugin(priceDrop), { lookbackCandles: 0 }, /price-drop\.lookbackCandles/],
      [plugin(priceDrop), { lookback: 10 }, /price-drop/],
      [plugin(maCrossover), { fastPeriod: 30, slowPeriod: 20 }, /fastPeriod must be below slowPeriod/],
      [plugin(rsiMeanReversion), { oversold: 80, overbought: 70 }, /oversold must be below overbought/],
      [plugin(rsiMeanReversion), { period: 20, lookback: 10 }, /lookback must be at least period \+ 1/],
    ])('refuses bad parameters with a coded error naming them (%#)', (p, raw, message) => {
      expect(() => p.prepare(raw)).toThrow(ValidationError);
      expect(() => p.prepare(raw)).toThrow(message);
    });
  });

  describe('Strategy: price-drop', () => {
    const params = { dropPercent: '1.5', lookbackCandles: 3 };
    const candles: Candle[] = series([100, 102, 101]).map((c, i) => (i === 1 ? { ...c, high: '104' } : c));

    it('buys once the ask is dropPercent below the highest high', () => {
      // 104 x 0.985 = 102.44
      expect(priceDrop.evaluate({ ticker: ticker('102.43', '102.44'), candles, position: undefined }, params)).toMatchObject({ side: 'buy' });
      expect(priceDrop.evaluate({ ticker: ticker('102.44', '102.45'), candles, position: undefined }, params)).toBeNull();
    });

    it('only enters: a held position is left to the protections', () => {
      expect(priceDrop.evaluate({ ticker: ticker('50', '50.01'), candles, position: HELD }, params)).toBeNull();
    });
  });

  describe('Strategy: ma-crossover', () => {
    const params = { fastPeriod: 2, slowPeriod: 4 };

    it('buys on a golden cross of the last closed candle', () => {
      // SMA2/SMA4 before: 10/10.25 (below), now: 11.5/10.75 (above).
      const candles = series([11, 10, 10, 10, 13]);
      expect(maCrossover.evaluate({ ticker: ticker('13', '13.01'), candles, position: undefined }, params)).toMatchObject({ side: 'buy', reason: expect.stringMatching(/golden cross/) });
    });

    it('sells a held position on a death cross, and ignores a cross that is not new', () => {
      const death = series([9, 10, 10, 10, 7]);
      expect(maCrossover.evaluate({ ticker: ticker('7', '7.01'), candles: death, position: HELD }, params)).toMatchObject({ side: 'sell', reason: expect.stringMatching(/death cross/) });
      const alreadyAbove = series([10, 11, 12, 13, 14]);
      expect(maCrossover.evaluate({ ticker: ticker('14', '14.01'), candles: alreadyAbove, position: undefined }, params)).toBeNull();
    });

    it('decides nothing without enough candles', () => {
      expect(maCrossover.evaluate({ ticker: ticker('13', '13.01'), candles: series([10, 10, 13]), position: undefined }, params)).toBeNull();
    });
  });

  describe('Strategy: rsi-mean-reversion', () => {
    const params = { period: 2, lookback: 5, oversold: 30, overbought: 70 };

    it("computes Wilder's RSI (hand-checked) and the averages", () => {
      // Changes +1 -1 +1 -1; seed 0.5/0.5; then 0.75/0.25; then 0.375/0.625: RS 0.6, RSI 37.5.
      expect(rsi(series([1, 2, 1, 2, 1]), 2)?.toFixed()).toBe('37.5');
      expect(rsi(series([1, 2, 3]), 2)?.toFixed()).toBe('100');
      expect(rsi(series([3, 2, 1]), 2)?.toFixed()).toBe('0');
      expect(rsi(series([2, 2, 2]), 2)?.toFixed()).toBe('50');
      expect(rsi(series([1, 2]), 2)).toBeNull();
      expect(sma(series([1, 2, 3, 4]), 2)?.toFixed()).toBe('3.5');
    });

    it('buys when oversold and sells a held position when overbought', () => {
      expect(rsiMeanReversion.evaluate({ ticker: ticker('5', '5.01'), candles: series([9, 8, 7, 6, 5]), position: undefined }, params)).toMatchObject({ side: 'buy' });
      expect(rsiMeanReversion.evaluate({ ticker: ticker('9', '9.01'), candles: series([5, 6, 7, 8, 9]), position: HELD }, params)).toMatchObject({ side: 'sell' });
      expect(rsiMeanReversion.evaluate({ ticker: ticker('9', '9.01'), candles: series([5, 6, 7, 8, 9]), position: undefined }, params)).toBeNull();
    });
  });
});
