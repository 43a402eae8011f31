/**
 * The data set's steps in columns (step-columns.ts), read in the run's own thread: every file is
 * read and checked by candle-file.ts (every coded error is that code's), and the files are merged
 * by open time straight into the columns, with the numbers the checks parsed. No `Step` object
 * and no `Map` per step.
 */
import type { Candle } from '../../shared/domain/market.js';
import { type CandleChunk, type CandleGap, readCandleChunks } from './candle-file.js';
import type { DataSetFile, DataSetOptions } from './data-set.js';
import { BacktestDataError } from './errors.js';
import { VALUES_PER_CANDLE, type StepColumns } from './step-columns.js';

/** The most steps handed over at once. */
export const MAX_STEPS = 512;

/** One file's candles being merged: the chunk read last and the position in it. */
interface Reader {
  readonly chunks: AsyncIterator<CandleChunk>;
  candles: readonly Candle[];
  values: Float64Array;
  times: Float64Array;
  index: number;
  /** Open time of the next candle of the file; Infinity once it is read to its end. */
  head: number;
  /** The head was taken into a step and was its chunk's last candle: the next chunk is due. */
  due: boolean;
}

/** Moves a reader to the first candle of its next chunk. */
async function refill(reader: Reader): Promise<void> {
  const next = await reader.chunks.next();
  reader.due = false;
  reader.index = 0;
  if (next.done) {
    reader.candles = [];
    reader.head = Infinity;
    return;
  }
  reader.candles = next.value.candles;
  reader.values = next.value.values;
  reader.times = next.value.times;
  reader.head = reader.times[0]!;
}

/** A batch being filled: room for `MAX_STEPS` steps of every file. */
class ColumnsBuilder {
  readonly times = new Float64Array(MAX_STEPS);
  readonly ends = new Int32Array(MAX_STEPS);
  readonly symbols: Uint16Array;
  readonly values: Float64Array;
  readonly candles: Candle[] = [];
  steps = 0;

  constructor(files: number) {
    this.symbols = new Uint16Array(MAX_STEPS * files);
    this.values = new Float64Array(MAX_STEPS * files * VALUES_PER_CANDLE);
  }

  columns(): StepColumns {
    const n = this.candles.length;
    return { steps: this.steps, times: this.times.subarray(0, this.steps), ends: this.ends.subarray(0, this.steps), symbols: this.symbols.subarray(0, n), candles: this.candles, values: this.values.subarray(0, n * VALUES_PER_CANDLE) };
  }
}

/**
 * The steps of the data set in time order, in columns (never an empty batch); each step holds the
 * candles of the files, in file order, that opened at its time. Gaps are handed to `onGap`, in the
 * order the files' chunks are read.
 * @throws BacktestDataError for the first bad row of any file, or when the window holds no candle.
 */
export async function* readStepColumns(files: readonly DataSetFile[], options: DataSetOptions, onGap: (gap: CandleGap) => void = () => {}): AsyncGenerator<StepColumns> {
  const readers: Reader[] = files.map((f) => ({ chunks: readCandleChunks(f.path, { ...options, onGap })[Symbol.asyncIterator](), candles: [], values: new Float64Array(0), times: new Float64Array(0), index: 0, head: Infinity, due: false }));
  try {
    for (const reader of readers) await refill(reader);
    if (readers.every((r) => r.head === Infinity)) {
      throw new BacktestDataError(files.length === 1 ? files[0]!.path : files.map((f) => f.path).join(', '), 0, 'no candle in the requested window');
    }
    let out = new ColumnsBuilder(readers.length);
    for (;;) {
      let time = Infinity;
      for (const reader of readers) if (reader.head < time) time = reader.head;
      if (time === Infinity) break;
      let k = out.candles.length;
      let due = false;
      for (let i = 0; i < readers.length; i += 1) {
        const reader = readers[i]!;
        if (reader.head !== time) continue;
        const index = reader.index;
        out.symbols[k] = i;
        out.candles.push(reader.candles[index]!);
        const from = index * VALUES_PER_CANDLE;
        const to = k * VALUES_PER_CANDLE;
        for (let v = 0; v < VALUES_PER_CANDLE; v += 1) out.values[to + v] = reader.values[from + v]!;
        k += 1;
        if (index + 1 < reader.candles.length) {
          reader.index = index + 1;
          reader.head = reader.times[index + 1]!;
        } else due = reader.due = true;
      }
      out.times[out.steps] = time;
      out.ends[out.steps] = k;
      out.steps += 1;
      if (out.steps === MAX_STEPS) {
        yield out.columns();
        out = new ColumnsBuilder(readers.length);
      }
      if (due) for (const reader of readers) if (reader.due) await refill(reader);
    }
    if (out.steps > 0) yield out.columns();
  } finally {
    await Promise.all(readers.map((r) => r.chunks.return?.()));
  }
}
