/**
 * The data set's steps in columns (step-columns.ts), read on a second thread: the backtest's loop
 * runs on one core, and reading, checking and merging the files (about a quarter of its per-candle
 * time when done in line) moves to the other. The reader thread (read-worker.ts) runs the same
 * reading code as `readStepBatches` in this thread, so the candles, the gaps (in order) and the
 * coded errors are the same; an error ends the stream where the in-thread reader would end it,
 * after the batches before it.
 *
 * Run from the TypeScript source, the thread runs the reader's module bundled (reader-bundle.ts:
 * made once, kept between runs). A thread can be started before the data set is known
 * (`ReaderThread.start()`) and is handed the files when the run begins; an idle thread does not
 * keep the process alive.
 *
 * Back-pressure: the reader posts a batch only with a credit, and a credit is granted per batch
 * taken here, so at most `READ_AHEAD` batches (each about a chunk of every file) wait between the
 * threads. Stopping early (a `return`, an error downstream) ends the reader thread.
 *
 * Without a thread, or in a build where the reader's module is not a file beside this one, the
 * steps are read in this thread: the same columns, from the same reader.
 */
import { existsSync } from 'node:fs';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { CandleGap } from './candle-file.js';
import { readStepBatches, type DataSetFile, type DataSetOptions } from './data-set.js';
import type { ReaderStart } from './read-worker.js';
import { readerBundle } from './reader-bundle.js';
import { rebuildReadError, type ReaderMessage } from './reader-messages.js';
import { columnsOf, decodeSteps, type StepColumns } from './step-columns.js';

/** Batches of steps the reader thread may post ahead of the one being run. */
export const READ_AHEAD = 4;

const here = fileURLToPath(import.meta.url);
const WORKER = new URL(`./read-worker${extname(here)}`, import.meta.url);

let bundle: Promise<URL> | undefined;

/** The reader thread's worker: the built module as it is, or the source's bundle (no Node flags needed). */
async function startWorker(): Promise<Worker> {
  if (extname(here) !== '.ts') return new Worker(WORKER);
  // Looked up once per process; a failed build is not kept: the next start tries again.
  bundle ??= readerBundle(fileURLToPath(WORKER)).then(
    (b) => b.url,
    (error: unknown) => {
      bundle = undefined;
      throw error;
    },
  );
  return new Worker(await bundle, { execArgv: [] });
}

/** A reader thread, started ahead of its one read. */
export class ReaderThread {
  readonly #worker: Worker;
  /** Messages in arrival order; a taken one is cleared, and the list emptied once all are taken. */
  readonly #inbox: (ReaderMessage | undefined)[] = [];
  #failure: Error | undefined;
  #exited = false;
  #used = false;
  #wake: (() => void) | undefined;

  private constructor(worker: Worker) {
    this.#worker = worker;
    this.#worker.unref();
    this.#worker.on('message', (message: ReaderMessage) => {
      this.#inbox.push(message);
      this.#notify();
    });
    this.#worker.on('error', (error: Error) => {
      this.#failure ??= error;
      this.#notify();
    });
    this.#worker.on('exit', () => {
      this.#exited = true;
      this.#notify();
    });
  }

  /** Starts a reader thread; undefined where the reader's module is not at hand (a bundled build). */
  static async start(): Promise<ReaderThread | undefined> {
    return existsSync(WORKER) ? new ReaderThread(await startWorker()) : undefined;
  }

  /** Whether the thread is still there (it ends with its read, or when closed). */
  get running(): boolean {
    return !this.#exited;
  }

  /** Batches of steps posted by the reader and not yet taken (at most the read-ahead). */
  get pending(): number {
    let n = 0;
    for (const message of this.#inbox) if (message?.kind === 'steps') n += 1;
    return n;
  }

  #notify(): void {
    this.#wake?.();
    this.#wake = undefined;
  }

  /**
   * Reads the data set on this thread (once), then ends it.
   * @throws BacktestDataError for the first bad row of any file, or when the window holds no candle.
   */
  async *read(files: readonly DataSetFile[], options: DataSetOptions, onGap: (gap: CandleGap) => void = () => {}, readAhead = READ_AHEAD): AsyncGenerator<StepColumns> {
    if (this.#used) throw new Error('a reader thread reads one data set');
    this.#used = true;
    const worker = this.#worker;
    const inbox = this.#inbox;
    try {
      worker.ref();
      worker.postMessage({ files, options, credits: readAhead } satisfies ReaderStart);
      for (let next = 0; ; ) {
        if (next === inbox.length) {
          if (this.#failure) throw this.#failure;
          if (this.#exited) throw new Error('the backtest reader thread ended before the end of the data');
          inbox.length = next = 0;
          await new Promise<void>((resolve) => (this.#wake = resolve));
          continue;
        }
        const message = inbox[next]!;
        inbox[next] = undefined;
        next += 1;
        switch (message.kind) {
          case 'gap':
            onGap(message.gap);
            break;
          case 'steps':
            worker.postMessage(0);
            yield decodeSteps(message.wire);
            break;
          case 'done':
            return;
          case 'error':
            throw rebuildReadError(message.error);
          default:
            message satisfies never;
        }
      }
    } finally {
      await this.close();
    }
  }

  /** Ends the thread (idempotent). */
  async close(): Promise<void> {
    this.#used = true;
    await this.#worker.terminate();
  }
}

/**
 * The steps of the data set in time order, in columns: on `thread` when given, else in this thread.
 * Gaps are handed to `onGap`.
 * @throws BacktestDataError for the first bad row of any file, or when the window holds no candle.
 */
export async function* readStepColumns(files: readonly DataSetFile[], options: DataSetOptions, onGap: (gap: CandleGap) => void = () => {}, thread?: ReaderThread): AsyncGenerator<StepColumns> {
  if (thread) {
    yield* thread.read(files, options, onGap);
    return;
  }
  const symbolIndex = new Map(files.map((f, i) => [f.symbol, i]));
  for await (const steps of readStepBatches(files, options, onGap)) yield columnsOf(steps, symbolIndex);
}
