/**
 * Strategies as evaluators over a candle stream (strategy.ts): after any pushes, an evaluator
 * decides what the strategy decides on the last `candlesNeeded` candles, computed from scratch.
 * The naive references below recompute from the window with decimal arithmetic only.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Candle, Ticker } from '../../shared/domain/market.js';
import { Decimal, dec } from '../../shared/domain/money.js';
import type { Position } from '../../shared/domain/position.js';
import { BUILT_IN_STRATEGIES } from '../../shared/domain/strategies/index.js';
import { RollingMax } from '../../shared/domain/strategies/rolling-max.js';

const START = Date.parse('2026-05-01T10:00:00Z');
const HELD: Position = { symbol: 'BTC/USDT', qty: '0.01', avgPrice: '100', realizedPnl: '0' };

/** Prices with few distinct values, so ties, equal highs and asks exactly at a trigger happen often. */
const price = fc.oneof(fc.constantFrom('100', '100.0', '98.5', '101.5', '99', '102.44', '104'), fc.integer({ min: 9000, max: 11000 }).map((n) => (n / 100).toString()));
const candle = fc.record({ a: price, b: price, c: price }).map(({ a, b, c }) => {
  const sorted = [a, b, c].sort((x, y) => dec(x).comparedTo(y));
  return { open: b, high: sorted[2]!, low: sorted[0]!, close: c, volume: '1' };
});
const stream = fc.array(candle, { minLength: 0, maxLength: 80 }).map((cs) => cs.map((c, i): Candle => ({ ...c, openTime: START + i * 60_000 })));

function ticker(ask: string): Ticker {
  return { symbol: 'BTC/USDT', bid: ask, ask, last: ask, volume: '10', timestamp: START };
}

/** price-drop from scratch: the highest high of the window, the trigger, the ask. */
function naivePriceDrop(window: readonly Candle[], ask: string, dropPercent: string, position: Position | undefined) {
  if (position || window.length === 0) return null;
  const high = Decimal.max(...window.map((c) => c.high));
  const trigger = high.times(dec('1').minus(dec(dropPercent).div('100')));
  return dec(ask).lte(trigger) ? { side: 'buy', reason: `ask ${ask} <= ${dropPercent}% below high ${high.toFixed()}` } : null;
}

describe('Strategy evaluators', () => {
  describe('Class: RollingMax', () => {
    it('is the exact decimal maximum of the last window values, at every push', () => {
      fc.assert(
        fc.property(fc.array(fc.oneof(price, fc.constantFrom('1.000000000000000000001', '1.000000000000000000002', '1')), { maxLength: 200 }), fc.integer({ min: 1, max: 12 }), (values, window) => {
          const max = new RollingMax(window);
          values.forEach((v, i) => {
            max.push(v);
            const expected = Decimal.max(...values.slice(Math.max(0, i + 1 - window), i + 1));
            expect(dec(max.max()!.text).eq(expected)).toBe(true);
            // The allocation-free accessors give the same maximum.
            expect(max.empty).toBe(false);
            expect(max.maxText()).toBe(max.max()!.text);
            expect(max.maxNum()).toBe(Number(max.max()!.text));
          });
        }),
      );
    });

    it('has no maximum before the first push', () => {
      const max = new RollingMax(3);
      expect(max.empty).toBe(true);
      expect(max.max()).toBeUndefined();
      expect(max.maxText()).toBeUndefined();
      expect(max.maxNum()).toBeNaN();
    });
  });

  describe('Method: evaluator (price-drop)', () => {
    it('decides on the last lookbackCandles candles as the naive recomputation does, at every push', () => {
      fc.assert(
        fc.property(stream, fc.integer({ min: 1, max: 20 }), fc.constantFrom('1.5', '0.3', '2'), price, fc.boolean(), (candles, lookbackCandles, dropPercent, ask, held) => {
          const prepared = BUILT_IN_STRATEGIES['price-drop']!.prepare({ lookbackCandles, dropPercent });
          const evaluator = prepared.evaluator();
          const position = held ? HELD : undefined;
          candles.forEach((c, i) => {
            evaluator.push(c);
            const window = candles.slice(Math.max(0, i + 1 - lookbackCandles), i + 1);
            // The ask at the trigger and a hair above and below it too, where numbers alone could not decide.
            const nearTrigger = dec(Decimal.max(...window.map((w) => w.high))).times(dec('1').minus(dec(dropPercent).div(100)));
            const near = [nearTrigger, nearTrigger.times('1.00000000000001'), nearTrigger.times('0.99999999999999')].map((d) => d.toFixed());
            for (const a of [ask, ...near]) {
              expect(evaluator.decide(ticker(a), position)).toEqual(naivePriceDrop(window, a, dropPercent, position));
              expect(prepared.evaluate({ ticker: ticker(a), candles: window, position })).toEqual(naivePriceDrop(window, a, dropPercent, position));
            }
          });
        }),
      );
    });
  });

  describe('Method: evaluator (strategies without an incremental form)', () => {
    it.each([
      ['ma-crossover', { fastPeriod: 2, slowPeriod: 5 }],
      ['rsi-mean-reversion', { period: 3, lookback: 6, oversold: 40, overbought: 60 }],
    ])('%s decides on its last candlesNeeded candles as evaluate does', (name, params) => {
      fc.assert(
        fc.property(stream, price, fc.boolean(), (candles, ask, held) => {
          const prepared = BUILT_IN_STRATEGIES[name]!.prepare(params);
          const evaluator = prepared.evaluator();
          const position = held ? HELD : undefined;
          candles.forEach((c, i) => {
            evaluator.push(c);
            const window = candles.slice(Math.max(0, i + 1 - prepared.candlesNeeded), i + 1);
            const expected = prepared.evaluate({ ticker: ticker(ask), candles: window, position });
            expect(evaluator.decide(ticker(ask), position)).toEqual(expected);
          });
        }),
      );
    });
  });
});
