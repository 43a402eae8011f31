/**
 * A batch of steps in columns, as the backtest's per-candle loop reads it: the steps' open times,
 * where each step's candles end, and per candle its symbol, its `Candle` (the decimal strings the
 * shared strategies, candle checks and venue read) and its open, high, low, close and volume as
 * numbers, parsed once by the reader instead of again by the venue, the chart and the equity.
 * No `Step` object and no `Map` per step: a step is a range of the candle columns.
 *
 * `encodeSteps` turns steps into the form a reader thread posts (`WireSteps`: typed arrays that
 * are transferred, and the batch's decimal texts as one string with their end offsets);
 * `decodeSteps` builds the columns from it on the receiving side, making each text once.
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

/** A batch of steps as posted between threads: everything in transferable arrays but one string. */
export interface WireSteps {
  readonly times: Float64Array;
  readonly ends: Int32Array;
  readonly symbols: Uint16Array;
  readonly openTimes: Float64Array;
  /** As `StepColumns.values`. */
  readonly values: Float64Array;
  /** Every candle's open, high, low, close and volume texts, one after another. */
  readonly text: string;
  /** Per candle, five end offsets into `text` (the texts' starts are the previous ends). */
  readonly cuts: Int32Array;
}

/** The buffers of a wire batch, to transfer rather than copy. */
export function transferList(wire: WireSteps): ArrayBuffer[] {
  return [wire.times.buffer, wire.ends.buffer, wire.symbols.buffer, wire.openTimes.buffer, wire.values.buffer, wire.cuts.buffer] as ArrayBuffer[];
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

/** Steps in the form a reader thread posts. */
export function encodeSteps(steps: readonly Step[], symbolIndex: ReadonlyMap<string, number>): WireSteps {
  const n = countCandles(steps);
  const times = new Float64Array(steps.length);
  const ends = new Int32Array(steps.length);
  const symbols = new Uint16Array(n);
  const openTimes = new Float64Array(n);
  const values = new Float64Array(n * VALUES_PER_CANDLE);
  const cuts = new Int32Array(n * VALUES_PER_CANDLE);
  const texts: string[] = [];
  let k = 0;
  let at = 0;
  const cut = (text: string, slot: number): void => {
    texts.push(text);
    at += text.length;
    cuts[slot] = at;
  };
  steps.forEach((step, i) => {
    times[i] = step.time;
    step.candles.forEach((candle, symbol) => {
      symbols[k] = symbolIndex.get(symbol)!;
      openTimes[k] = candle.openTime;
      putValues(values, k, candle);
      const c = k * VALUES_PER_CANDLE;
      cut(candle.open, c + OPEN);
      cut(candle.high, c + HIGH);
      cut(candle.low, c + LOW);
      cut(candle.close, c + CLOSE);
      cut(candle.volume, c + VOLUME);
      k += 1;
    });
    ends[i] = k;
  });
  return { times, ends, symbols, openTimes, values, text: texts.join(''), cuts };
}

/** The columns of a posted batch: one `Candle` per candle, its texts cut out of the batch's string. */
export function decodeSteps(wire: WireSteps): StepColumns {
  const { openTimes, text, cuts } = wire;
  const n = wire.symbols.length;
  const candles: Candle[] = new Array<Candle>(n);
  let at = 0;
  for (let k = 0; k < n; k += 1) {
    const c = k * VALUES_PER_CANDLE;
    const open = cuts[c + OPEN]!;
    const high = cuts[c + HIGH]!;
    const low = cuts[c + LOW]!;
    const close = cuts[c + CLOSE]!;
    const volume = cuts[c + VOLUME]!;
    candles[k] = { openTime: openTimes[k]!, open: text.slice(at, open), high: text.slice(open, high), low: text.slice(high, low), close: text.slice(low, close), volume: text.slice(close, volume) };
    at = volume;
  }
  return { steps: wire.times.length, times: wire.times, ends: wire.ends, symbols: wire.symbols, candles, values: wire.values };
}
