/** What the reader thread (read-worker.ts) posts to the backtest, and its errors rebuilt on this side. */
import type { CandleGap } from './candle-file.js';
import { BacktestDataError } from './errors.js';
import type { WireSteps } from './step-columns.js';

/** A read error as it crosses threads: a data error by its parts, anything else by its fields. */
export type ReadErrorData =
  | { readonly data: true; readonly file: string; readonly line: number; readonly reason: string }
  | { readonly data: false; readonly name: string; readonly message: string; readonly code?: string; readonly stack?: string };

export type ReaderMessage =
  | { readonly kind: 'gap'; readonly gap: CandleGap }
  | { readonly kind: 'steps'; readonly wire: WireSteps }
  | { readonly kind: 'done' }
  | { readonly kind: 'error'; readonly error: ReadErrorData };

export function describeReadError(error: unknown): ReadErrorData {
  if (error instanceof BacktestDataError) return { data: true, file: error.file, line: error.line, reason: String(error.details['reason']) };
  const e = error instanceof Error ? error : new Error(String(error));
  const code = (e as { code?: unknown }).code;
  return { data: false, name: e.name, message: e.message, ...(typeof code === 'string' ? { code } : {}), ...(e.stack ? { stack: e.stack } : {}) };
}

/** The error the reader thread met, as the in-thread reader throws it (a data error: the same class and text). */
export function rebuildReadError(data: ReadErrorData): Error {
  if (data.data) return new BacktestDataError(data.file, data.line, data.reason);
  const error = new Error(data.message);
  error.name = data.name;
  if (data.code !== undefined) Object.assign(error, { code: data.code });
  if (data.stack !== undefined) error.stack = data.stack;
  return error;
}
