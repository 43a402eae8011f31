/**
 * Strategy evaluators kept between scans of one container, per symbol and prepared strategy.
 *
 * An evaluator decides on the last `candlesNeeded` candles pushed into it (strategy.ts). A scan
 * hands each symbol's validated window; when the window continues what the kept evaluator took
 * last time (its first candles are the last ones pushed before, the same candles: the candle
 * cache appends new candles to the series it kept), only the newer candles are pushed. A window
 * that grew by one candle then costs one push instead of a rebuilt evaluator and a push of every
 * candle. Anything else (no overlap, a candle that differs from the one pushed at its time) starts
 * a fresh evaluator over the whole window: the decision is always the one over exactly the window.
 *
 * Only incremental strategies are kept (`PreparedStrategy.incremental`): the others decide by
 * running over the window anyway, so they are evaluated on it directly.
 */
import type { Candle, Ticker } from '../domain/market.js';
import type { Position } from '../domain/position.js';
import type { Decision, PreparedStrategy, StrategyEvaluator } from '../domain/strategies/strategy.js';

interface Kept {
  readonly evaluator: StrategyEvaluator;
  /** The window last pushed: `series` from index `start` on. */
  series: readonly Candle[];
  start: number;
}

export class KeptEvaluators {
  readonly #bySymbol = new Map<string, WeakMap<PreparedStrategy, Kept>>();

  /**
   * What `strategy` decides for `symbol` on the last `strategy.candlesNeeded` candles of `series`
   * (a validated, gap-free series holding at least that many), the ticker and the position:
   * `strategy.evaluate` on that window.
   */
  decide(symbol: string, strategy: PreparedStrategy, series: readonly Candle[], ticker: Ticker, position: Position | undefined): Decision | null {
    const needed = strategy.candlesNeeded;
    if (needed === 0 || series.length < needed || strategy.incremental !== true) {
      return strategy.evaluate({ ticker, candles: needed === 0 ? [] : series.slice(-needed), position });
    }
    const start = series.length - needed;
    let bySymbol = this.#bySymbol.get(symbol);
    if (!bySymbol) this.#bySymbol.set(symbol, (bySymbol = new WeakMap()));
    let kept = bySymbol.get(strategy);
    let from = kept ? continuation(kept.series, kept.start, series, start) : -1;
    if (!kept || from < 0) {
      kept = { evaluator: strategy.evaluator(), series, start };
      bySymbol.set(strategy, kept);
      from = start;
    }
    for (let i = from; i < series.length; i += 1) kept.evaluator.push(series[i]!);
    kept.series = series;
    kept.start = start;
    return kept.evaluator.decide(ticker, position);
  }

  /** Forgets a symbol's evaluators (its series left the cache). */
  forget(symbol: string): void {
    this.#bySymbol.delete(symbol);
  }

  /** Symbols with kept evaluators. */
  get size(): number {
    return this.#bySymbol.size;
  }
}

/**
 * Where pushing has to resume in `next` (from index `nextStart`) for an evaluator that took
 * `prev` (from `prevStart`) last: the index after the candles the two windows share, when `next`
 * begins with the end of `prev` (the same candles: equal open time and values); -1 when it does not.
 */
export function continuation(prev: readonly Candle[], prevStart: number, next: readonly Candle[], nextStart: number): number {
  const first = next[nextStart];
  if (!first) return -1;
  // The candle of `prev` at `next`'s first open time, searched from the end (windows overlap at prev's end).
  let at = prev.length - 1;
  while (at >= prevStart && prev[at]!.openTime > first.openTime) at -= 1;
  if (at < prevStart || prev[at]!.openTime !== first.openTime) return -1;
  const shared = prev.length - at;
  if (shared > next.length - nextStart) return -1;
  for (let j = 0; j < shared; j += 1) if (!sameCandle(prev[at + j]!, next[nextStart + j]!)) return -1;
  return nextStart + shared;
}

/** Whether two candles are the same to a strategy (it reads only these fields). */
function sameCandle(a: Candle, b: Candle): boolean {
  return a === b || (a.openTime === b.openTime && a.open === b.open && a.high === b.high && a.low === b.low && a.close === b.close && a.volume === b.volume);
}
