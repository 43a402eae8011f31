/**
 * A data set: one candle file per symbol (a file, or every candle file of a directory), read as
 * one time-ordered stream of steps. Each step holds the candles that opened at one time; memory
 * is one batch of candles per symbol (a chunk of its file), whatever the size of the files.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Candle } from '../../shared/domain/market.js';
import { type CandleGap, symbolFromFileName } from './candle-file.js';
import { BacktestDataError } from './errors.js';
import { stepsOf } from './step-columns.js';
import { readStepColumns } from './step-reader.js';

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

/**
 * `readDataSet` in batches of steps (never empty): the columns of step-reader.ts as `Step` objects.
 * @throws BacktestDataError for the first bad row of any file, or when the window holds no candle.
 */
export async function* readStepBatches(files: readonly DataSetFile[], options: DataSetOptions, onGap: (gap: CandleGap) => void = () => {}): AsyncGenerator<Step[]> {
  const symbols = files.map((f) => f.symbol);
  for await (const columns of readStepColumns(files, options, onGap)) yield stepsOf(columns, symbols);
}
