/**
 * The data set's steps in columns (step-columns.ts), read in the run's own thread: the files are
 * read, checked and merged by `readStepBatches` (data-set.ts), every coded error is that code's.
 */
import type { CandleGap } from './candle-file.js';
import { readStepBatches, type DataSetFile, type DataSetOptions } from './data-set.js';
import { columnsOf, type StepColumns } from './step-columns.js';

/**
 * The steps of the data set in time order, in columns. Gaps are handed to `onGap`.
 * @throws BacktestDataError for the first bad row of any file, or when the window holds no candle.
 */
export async function* readStepColumns(files: readonly DataSetFile[], options: DataSetOptions, onGap: (gap: CandleGap) => void = () => {}): AsyncGenerator<StepColumns> {
  const symbolIndex = new Map(files.map((f, i) => [f.symbol, i]));
  for await (const steps of readStepBatches(files, options, onGap)) yield columnsOf(steps, symbolIndex);
}
