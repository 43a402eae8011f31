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

function countCandles(steps: readonly Step[]): number {
  let n = 0;
  for (const step of steps) n += step.candles.size;
  return n;
}

/** Candle `k`'s numbers into `values`. */
function putValues(values: Float64Array, k: number, candle: Candle): void {
  const v = k * VALUES_PER_CANDLE;
  values[v + OPEN] = Number(candle.open);
  values[v + HIGH] = Number(candle.high);
  values[v + LOW] = Number(candle.low);
  values[v + CLOSE] = Number(candle.close);
  values[v + VOLUME] = Number(candle.volume);
}

/** The columns of steps read in this thread (the candles are these steps' own objects). */
export function columnsOf(steps: readonly Step[], symbolIndex: ReadonlyMap<string, number>): StepColumns {
  const n = countCandles(steps);
  const times = new Float64Array(steps.length);
  const ends = new Int32Array(steps.length);
  const symbols = new Uint16Array(n);
  const values = new Float64Array(n * VALUES_PER_CANDLE);
  const candles: Candle[] = new Array<Candle>(n);
  let k = 0;
  steps.forEach((step, i) => {
    times[i] = step.time;
    step.candles.forEach((candle, symbol) => {
      symbols[k] = symbolIndex.get(symbol)!;
      candles[k] = candle;
      putValues(values, k, candle);
      k += 1;
    });
    ends[i] = k;
  });
  return { steps: steps.length, times, ends, symbols, candles, values };
}
