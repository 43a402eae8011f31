/**
 * The scanner's kept evaluators (scan-evaluators.ts): whatever windows a symbol's scans hand them
 * (grown by new candles, refetched with a changed candle, with a gap, shorter, the same again,
 * the same candles as new objects), each decision is the strategy's `evaluate` on exactly the
 * window, and a window that continues the last one is only pushed its new candles.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Candle, Ticker } from '../../../shared/domain/market.js';
import type { Position } from '../../../shared/domain/position.js';
import { BUILT_IN_STRATEGIES } from '../../../shared/domain/strategies/index.js';
import type { PreparedStrategy, StrategyEvaluator } from '../../../shared/domain/strategies/strategy.js';
import type { StrategyPlugin } from '../../../shared/domain/strategies/strategy.js';
import type { VersionedTunables } from '../../../shared/ports/tunables-store.js';
import { CandleCache } from '../../../shared/use-cases/candle-cache.js';
import { KeptEvaluators, continuation } from '../../../shared/use-cases/scan-evaluators.js';
import { scanMarket } from '../../../shared/use-cases/scan-market.js';
import { scanFixture } from '../../fixtures/scanner-fakes.js';
import { flatCandles } from '../../support/fakes.js';

const START = Date.parse('2026-05-01T10:00:00Z');
const MINUTE = 60_000;
const HELD: Position = { symbol: 'BTC/USDT', qty: '0.01', avgPrice: '100', realizedPnl: '0' };

/** The candle of one minute of a made-up market: a few values only, so ties and triggers happen. */
function candleAt(minute: number, variant: number): Candle {
  const base = 100 + ((minute * 7 + variant * 13) % 9) - 4;
  const close = String(base + (variant % 2 ? 0.5 : 0));
  return { openTime: START + minute * MINUTE, open: String(base), high: String(base + 2), low: String(base - 1), close, volume: '1' };
}

/** One scan's series: `length` candles ending at minute `end`, each the given variant (a refetch may change one). */
const scanWindow = fc.record({
  end: fc.integer({ min: 0, max: 60 }),
  length: fc.integer({ min: 1, max: 40 }),
  changed: fc.option(fc.integer({ min: 0, max: 39 }), { nil: undefined }),
  copies: fc.boolean(),
  ask: fc.constantFrom('90', '95', '97.5', '98', '100', '104'),
  held: fc.boolean(),
});

function ticker(ask: string): Ticker {
  return { symbol: 'BTC/USDT', bid: ask, ask, last: ask, volume: '10', timestamp: START };
}

function prepared(name: string, params: unknown): PreparedStrategy {
  return BUILT_IN_STRATEGIES[name]!.prepare(params);
}

describe('Class: KeptEvaluators', () => {
  describe('Method: decide', () => {
    const strategies = [
      prepared('price-drop', { dropPercent: '2', lookbackCandles: 5 }),
      prepared('price-drop', { dropPercent: '1', lookbackCandles: 12 }),
      prepared('ma-crossover', { fastPeriod: 2, slowPeriod: 5 }),
      prepared('rsi-mean-reversion', { period: 3, lookback: 6, oversold: 40, overbought: 60 }),
    ];

    it('decides as evaluate on the last candlesNeeded candles, whatever windows came before', () => {
      // Candles are shared objects across scans (as the candle cache keeps them), except where a
      // scan gets copies (a refetch) or a changed candle (the exchange revised it).
      const market = new Map<number, Candle>();
      const candle = (minute: number) => {
        let c = market.get(minute);
        if (!c) market.set(minute, (c = candleAt(minute, 0)));
        return c;
      };
      fc.assert(
        fc.property(fc.array(scanWindow, { minLength: 1, maxLength: 25 }), (scans) => {
          const kept = new KeptEvaluators();
          for (const scan of scans) {
            const first = Math.max(0, scan.end - scan.length + 1);
            const series: Candle[] = [];
            for (let m = first; m <= scan.end; m += 1) {
              const c = candle(m);
              series.push(scan.changed === m - first ? candleAt(m, 1) : scan.copies ? { ...c } : c);
            }
            const position = scan.held ? HELD : undefined;
            for (const s of strategies) {
              if (series.length < s.candlesNeeded) continue;
              const expected = s.evaluate({ ticker: ticker(scan.ask), candles: series.slice(-s.candlesNeeded), position });
              expect(kept.decide('BTC/USDT', s, series, ticker(scan.ask), position)).toEqual(expected);
            }
          }
        }),
        { numRuns: 300 },
      );
    });

    it('pushes only the new candle when the window grew by one, and rebuilds after a gap', () => {
      const pushes: number[] = [];
      const base = prepared('price-drop', { dropPercent: '2', lookbackCandles: 5 });
      const counting: PreparedStrategy = {
        ...base,
        evaluator: (): StrategyEvaluator => {
          const inner = base.evaluator();
          return { push: (c) => (pushes.push(c.openTime), inner.push(c)), decide: (t, p) => inner.decide(t, p) };
        },
      };
      const kept = new KeptEvaluators();
      const series = Array.from({ length: 20 }, (_, m) => candleAt(m, 0));
      kept.decide('BTC/USDT', counting, series.slice(0, 5), ticker('100'), undefined);
      expect(pushes).toHaveLength(5);
      kept.decide('BTC/USDT', counting, series.slice(0, 6), ticker('100'), undefined);
      expect(pushes).toHaveLength(6);
      // The same candles as other objects (a refetch): still a continuation.
      kept.decide('BTC/USDT', counting, series.slice(2, 7).map((c) => ({ ...c })), ticker('100'), undefined);
      expect(pushes).toHaveLength(7);
      // Ten minutes later: nothing shared, a fresh evaluator over the window.
      kept.decide('BTC/USDT', counting, series.slice(12, 17), ticker('100'), undefined);
      expect(pushes.slice(7)).toEqual(series.slice(12, 17).map((c) => c.openTime));
    });

    it('forgets a symbol with its cached series', () => {
      const cache = new CandleCache(1);
      const s = prepared('price-drop', {});
      const series = Array.from({ length: 30 }, (_, m) => candleAt(m, 0));
      cache.put('BTC/USDT', series);
      cache.evaluators.decide('BTC/USDT', s, series, ticker('100'), undefined);
      expect(cache.evaluators.size).toBe(1);
      // Replaced by a newer series: kept (it may continue).
      cache.put('BTC/USDT', series.slice(1));
      expect(cache.evaluators.size).toBe(1);
      // Evicted by another symbol: forgotten.
      cache.put('ETH/USDT', series);
      expect(cache.evaluators.size).toBe(0);
    });
  });

  describe('Use case: scanMarket with kept evaluators', () => {
    it('a scanner that reads its tunables anew every minute pushes only the candle that closed since, and decides as before', async () => {
      const NOW = new Date('2026-05-01T12:00:30.000Z');
      const f = await scanFixture(NOW);
      const pushed: number[] = [];
      const base = BUILT_IN_STRATEGIES['price-drop']!;
      const counting: StrategyPlugin = {
        ...base,
        prepare(raw) {
          const prepared = base.prepare(raw);
          return {
            ...prepared,
            evaluator: () => {
              const inner = prepared.evaluator();
              return { push: (c) => (pushed.push(c.openTime), inner.push(c)), decide: (t, p) => inner.decide(t, p) };
            },
          };
        },
      };
      // The store returns a new record object on every read, as the DynamoDB adapter does.
      f.tunables.getTunables = async (): Promise<VersionedTunables> => ({ tunables: { maxOpenPositions: 5 }, version: 1 });
      // Highs of 52000 and an ask of 50000: price-drop (1.5 %) buys on every scan.
      const candles = flatCandles(new Date(NOW.getTime() + 60_000), 31, '50500', '52000');
      let now = NOW;
      f.exchange.tickerTime = () => now.getTime();
      const deps = { ...f.deps, strategies: { 'price-drop': counting }, clock: { now: () => now } };

      f.exchange.candles['BTC/USDT'] = candles.slice(0, 30);
      const first = await scanMarket(deps, { slot: new Date('2026-05-01T12:00:00.000Z'), dryRun: true });
      expect(pushed).toHaveLength(30);
      now = new Date(NOW.getTime() + 60_000);
      // The exchange returns new objects for the refetched candles.
      f.exchange.candles['BTC/USDT'] = candles.map((c) => ({ ...c }));
      const second = await scanMarket(deps, { slot: new Date('2026-05-01T12:01:00.000Z'), dryRun: true });
      expect(pushed.slice(30)).toEqual([candles[30]!.openTime]);
      expect(first.signals.map((x) => x.reason)).toEqual([expect.stringMatching(/ask 50000 <= 1.5% below high 52000/)]);
      expect(second.signals).toEqual(first.signals);
    });
  });

  describe('Function: continuation', () => {
    const series = Array.from({ length: 10 }, (_, m) => candleAt(m, 0));
    it('resumes after the shared candles, and only when the new window starts inside the old one', () => {
      expect(continuation(series, 2, series, 3)).toBe(10);
      expect(continuation(series.slice(0, 6), 1, series, 3)).toBe(6);
      expect(continuation(series.slice(0, 6), 1, series, 7)).toBe(-1);
      // The new window starts before the old one: the evaluator holds none of its first candles.
      expect(continuation(series.slice(0, 6), 3, series, 1)).toBe(-1);
      // The new window ends before the old one: the evaluator has pushed past it.
      expect(continuation(series, 0, series.slice(0, 6), 0)).toBe(-1);
      // A changed candle among the shared ones.
      const changed = series.map((c, i) => (i === 4 ? candleAt(4, 1) : c));
      expect(continuation(series.slice(0, 6), 1, changed, 3)).toBe(-1);
    });
  });
});
