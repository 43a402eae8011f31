/** Fixtures of the backtest's data tests: a fresh directory per test, rows of valid candles, and the coded error a read stops with. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect } from 'vitest';
import { BacktestDataError } from '../../backtest/data/errors.js';

export const MINUTE = 60_000;
export const T0 = Date.UTC(2026, 0, 1);

/** A fresh temporary directory for each test of the file (removed after it): read `path` inside a test. */
export function tempDirPerTest(prefix: string): { readonly path: string } {
  const dir = { path: '' };
  beforeEach(() => {
    dir.path = mkdtempSync(join(tmpdir(), prefix));
  });
  afterEach(() => rmSync(dir.path, { recursive: true, force: true }));
  return dir;
}

/** CSV rows (no header) of `count` distinct, valid 1m candles from `start`. */
export function candleRows(count: number, start = T0): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const p = 60000 + (i % 997) + (i % 13) / 100;
    out.push(`${start + i * MINUTE},${p.toFixed(2)},${(p + 5).toFixed(2)},${(p - 5).toFixed(2)},${(p + 1).toFixed(2)},${(1 + (i % 7) / 1000).toFixed(3)}`);
  }
  return out;
}

/** The coded data error `run` stops with; fails the test when it resolves or throws anything else. */
export async function dataFailure(run: () => Promise<unknown>): Promise<BacktestDataError> {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(BacktestDataError);
    return error as BacktestDataError;
  }
  throw new Error('expected a BacktestDataError');
}
