/**
 * A data set: one candle file per symbol (a file, or every candle file of a directory), read as
 * one time-ordered stream of steps. Each step holds the candles that opened at one time; memory
 * is one batch of candles per symbol (a chunk of its file), whatever the size of the files.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Candle } from '../../shared/domain/market.js';
import { type CandleGap, readCandleBatches, symbolFromFileName } from './candle-file.js';
import { BacktestDataError } from './errors.js';

export interface DataSetOptions {
  readonly timeframeMs: number;
  readonly from?: number;
  readonly to?: number;
  /** The symbols the settings name; a file for any other symbol is an error. Undefined: all files. */
  readonly symbols?: readonly string[];
}

export interface DataSetFile {
  readonly symbol: string;
  readonly path: string;
}

/** The candles that opened at `time`, by symbol (a symbol with a gap here is absent). */
export interface Step {
  readonly time: number;
  readonly candles: ReadonlyMap<string, Candle>;
}

/**
 * Lists the data set's files, one per symbol.
 * @throws BacktestDataError for a missing path, a file that names no symbol, two files of one
 *   symbol, a symbol the settings do not name, or a named symbol without a file.
 */
export async function listDataSet(path: string, symbols?: readonly string[]): Promise<DataSetFile[]> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new BacktestDataError(path, 0, 'no such file or directory');
  const paths = info.isDirectory() ? (await readdir(path)).sort().map((name) => join(path, name)) : [path];
  const files: DataSetFile[] = [];
  for (const file of paths) {
    const symbol = symbolFromFileName(file);
    if (!symbol) {
      if (!info.isDirectory()) throw new BacktestDataError(file, 0, 'a candle file is named by its symbol, e.g. BTC-USDT.csv or BTC-USDT.jsonl');
      continue;
    }
    if (files.some((f) => f.symbol === symbol)) throw new BacktestDataError(file, 0, `a second file for ${symbol}`);
    if (symbols && !symbols.includes(symbol)) throw new BacktestDataError(file, 0, `${symbol} is not among the symbols the settings name (${symbols.join(', ')})`);
    files.push({ symbol, path: file });
  }
  if (files.length === 0) throw new BacktestDataError(path, 0, 'no candle files (.csv, .jsonl) found');
  for (const symbol of symbols ?? []) {
    if (!files.some((f) => f.symbol === symbol)) throw new BacktestDataError(path, 0, `no candle file for ${symbol}`);
  }
  return files;
}

/**
 * Merges the files into one stream of steps in time order. Gaps are handed to `onGap`.
 * @throws BacktestDataError for the first bad row of any file, or when the window holds no candle.
 */
export async function* readDataSet(files: readonly DataSetFile[], options: DataSetOptions, onGap: (gap: CandleGap) => void = () => {}): AsyncGenerator<Step> {
  for await (const steps of readStepBatches(files, options, onGap)) yield* steps;
}

/** One file's candles being merged: the batch read last and the position in it. */
interface Reader {
  readonly symbol: string;
  readonly batches: AsyncIterator<Candle[]>;
  batch: Candle[];
  index: number;
  /** The next candle of the file; undefined once it is read to its end. */
  head: Candle | undefined;
}

/** Moves a reader to its next candle, reading the next batch when this one is used up. */
async function advance(reader: Reader): Promise<void> {
  reader.index += 1;
  if (reader.index < reader.batch.length) {
    reader.head = reader.batch[reader.index];
    return;
  }
  const next = await reader.batches.next();
  reader.batch = next.done ? [] : next.value;
  reader.index = 0;
  reader.head = reader.batch[0];
}

/** The most steps handed over at once: a batch ends where any file's batch of candles ends. */
const MAX_STEPS = 512;

/**
 * `readDataSet` in batches of steps (never empty): between two batches the files are read on,
 * within one batch every step is at hand without waiting.
 * @throws BacktestDataError for the first bad row of any file, or when the window holds no candle.
 */
export async function* readStepBatches(files: readonly DataSetFile[], options: DataSetOptions, onGap: (gap: CandleGap) => void = () => {}): AsyncGenerator<Step[]> {
  const readers: Reader[] = files.map((f) => ({ symbol: f.symbol, batches: readCandleBatches(f.path, { ...options, onGap })[Symbol.asyncIterator](), batch: [], index: -1, head: undefined }));
  try {
    for (const reader of readers) await advance(reader);
    if (readers.every((r) => r.head === undefined)) {
      throw new BacktestDataError(files.length === 1 ? files[0]!.path : files.map((f) => f.path).join(', '), 0, 'no candle in the requested window');
    }
    let steps: Step[] = [];
    for (;;) {
      let time = Infinity;
      for (const reader of readers) if (reader.head && reader.head.openTime < time) time = reader.head.openTime;
      if (time === Infinity) break;
      const candles = new Map<string, Candle>();
      let refill = false;
      for (const reader of readers) {
        const head = reader.head;
        if (head?.openTime !== time) continue;
        candles.set(reader.symbol, head);
        if (reader.index + 1 < reader.batch.length) {
          reader.index += 1;
          reader.head = reader.batch[reader.index];
        } else refill = true;
      }
      steps.push({ time, candles });
      if (refill || steps.length >= MAX_STEPS) {
        yield steps;
        steps = [];
        for (const reader of readers) if (reader.head?.openTime === time) await advance(reader);
      }
    }
    if (steps.length > 0) yield steps;
  } finally {
    await Promise.all(readers.map((r) => r.batches.return?.()));
  }
}
