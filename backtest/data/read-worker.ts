/**
 * The reader thread of a backtest (step-reader.ts starts it, possibly before the data set is
 * known: the first message it gets names the files and the window). It reads and merges the data set's files
 * with the same code as the in-thread reader (`readStepBatches`: every check and coded error is
 * that code's) and posts the batches of steps in columns, their arrays transferred. It posts a
 * batch only while it holds a credit; the main thread grants one per batch it takes, so at most
 * `credits` batches wait between the threads whatever the size of the files.
 */
import { parentPort } from 'node:worker_threads';
import { readStepBatches, type DataSetFile, type DataSetOptions } from './data-set.js';
import { encodeSteps, transferList } from './step-columns.js';
import { describeReadError, type ReaderMessage } from './reader-messages.js';

/** The first message to the reader: what to read, and how many batches it may post ahead. */
export interface ReaderStart {
  readonly files: readonly DataSetFile[];
  readonly options: DataSetOptions;
  readonly credits: number;
}

const port = parentPort!;
let available = 0;
let started: ((start: ReaderStart) => void) | undefined;
let granted: (() => void) | undefined;
const start = new Promise<ReaderStart>((resolve) => (started = resolve));
// The first message starts the read; every later one is a credit for one more batch.
port.on('message', (message: ReaderStart | number) => {
  if (started) {
    const begin = started;
    started = undefined;
    available = (message as ReaderStart).credits;
    begin(message as ReaderStart);
    return;
  }
  available += 1;
  granted?.();
  granted = undefined;
});
const post = (message: ReaderMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

try {
  const { files, options } = await start;
  const symbolIndex = new Map(files.map((f, i) => [f.symbol, i]));
  for await (const steps of readStepBatches(files, options, (gap) => post({ kind: 'gap', gap }))) {
    while (available === 0) await new Promise<void>((resolve) => (granted = resolve));
    available -= 1;
    const wire = encodeSteps(steps, symbolIndex);
    post({ kind: 'steps', wire }, transferList(wire));
  }
  post({ kind: 'done' });
} catch (error) {
  post({ kind: 'error', error: describeReadError(error) });
}
port.close();
