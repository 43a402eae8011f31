/**
 * A batch of steps in columns, as the backtest's per-candle loop reads it: the steps' open times,
 * where each step's candles end, and per candle its symbol, its `Candle` (the decimal strings the
 * shared strategies, candle checks and venue read) and its open, high, low, close and volume as
 * numbers, parsed once by the reader instead of again by the venue, the chart and the equity.
 * No `Step` object and no `Map` per step: a step is a range of the candle columns.
 */
import type { Candle } from '../../shared/domain/market.js';
import type { Step } from './data-set.js';

/** Numbers per candle in `StepColumns.values`: open, high, low, close, volume. */
export const VALUES_PER_CANDLE = 5;
export const OPEN = 0;
export const HIGH = 1;
export const LOW = 2;
export const CLOSE = 3;
export const VOLUME = 4;

export interface StepColumns {
  /** Number of steps. */
  readonly steps: number;
  /** Open time of each step (epoch ms). */
  readonly times: Float64Array;
  /** Step `i`'s candles are the candles from `ends[i - 1]` (0 for the first) up to `ends[i]`, exclusive. */
  readonly ends: Int32Array;
  /** Per candle: its symbol, as an index into the data set's files. */
  readonly symbols: Uint16Array;
  readonly candles: readonly Candle[];
  /** Per candle, `VALUES_PER_CANDLE` numbers: `Number()` of its open, high, low, close, volume. */
  readonly values: Float64Array;
}

/** The steps of a batch of columns, as `Step` objects (symbols: the data set's, by index). */
export function stepsOf(columns: StepColumns, symbols: readonly string[]): Step[] {
  const steps: Step[] = [];
  for (let s = 0, k = 0; s < columns.steps; s += 1) {
    const candles = new Map<string, Candle>();
    for (const end = columns.ends[s]!; k < end; k += 1) candles.set(symbols[columns.symbols[k]!]!, columns.candles[k]!);
    steps.push({ time: columns.times[s]!, candles });
  }
  return steps;
}
