/**
 * The CSV reader's chunked fast path (backtest/data/candle-file.ts): rows split across the
 * reader's chunks, plain numeric rows and rows that need the CSV library, line endings, and bad
 * rows far into a large file all read as the row-by-row parser would, with the file and the line.
 */
import fc from 'fast-check';
import { describe, it, expect } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCandleBatches, readCandleChunks, readCandleFile } from '../../../backtest/data/candle-file.js';
import { BacktestDataError } from '../../../backtest/data/errors.js';
import { VALUES_PER_CANDLE } from '../../../backtest/data/step-columns.js';
import { readDataSet, readStepBatches } from '../../../backtest/data/data-set.js';
import { candleRows, MINUTE, T0, tempDirPerTest, dataFailure } from '../../support/candle-rows.js';

const tmp = tempDirPerTest('tw-bt-chunks-');

async function readAll(path: string, options: { from?: number; to?: number } = {}) {
  const out = [];
  for await (const c of readCandleFile(path, { timeframeMs: MINUTE, ...options })) out.push(c);
  return out;
}

describe('Backtest data: the chunked CSV reader', () => {
  it('reads every row of a file larger than a chunk, rows split across chunks included', async () => {
    const lines = candleRows(60_000);
    const path = join(tmp.path, 'BTC-USDT.csv');
    writeFileSync(path, ['timestamp,open,high,low,close,volume', ...lines].join('\n') + '\n');
    let batches = 0;
    for await (const batch of readCandleBatches(path, { timeframeMs: MINUTE })) {
      expect(batch.length).toBeGreaterThan(0);
      batches += 1;
    }
    expect(batches).toBeGreaterThan(1);
    const candles = await readAll(path);
    expect(candles).toHaveLength(60_000);
    expect(candles.map((c) => [c.openTime, c.open, c.high, c.low, c.close, c.volume].join(','))).toEqual(lines);
  });

  it('reads rows that need the CSV library (quotes, spaces, ISO time, CRLF, no final newline) as the plain rows', async () => {
    const path = join(tmp.path, 'BTC-USDT.csv');
    writeFileSync(path, [`"timestamp","open","high","low","close","volume"`, `${T0},100,101,99,100.5,12`, ` ${T0 + MINUTE} , "100.5",102,100,101,3.25`, `${new Date(T0 + 2 * MINUTE).toISOString()},101,101,101,101,0`, '', `${T0 + 3 * MINUTE},101,102,100,101,1`].join('\r\n'));
    expect(await readAll(path)).toEqual([
      { openTime: T0, open: '100', high: '101', low: '99', close: '100.5', volume: '12' },
      { openTime: T0 + MINUTE, open: '100.5', high: '102', low: '100', close: '101', volume: '3.25' },
      { openTime: T0 + 2 * MINUTE, open: '101', high: '101', low: '101', close: '101', volume: '0' },
      { openTime: T0 + 3 * MINUTE, open: '101', high: '102', low: '100', close: '101', volume: '1' },
    ]);
  });

  it('names the line of a bad row deep in a large file, past the first chunk', async () => {
    const lines = candleRows(40_000);
    lines[35_000] = lines[35_000]!.replace(/,[^,]*$/, ',-3');
    const path = join(tmp.path, 'BTC-USDT.csv');
    writeFileSync(path, ['timestamp,open,high,low,close,volume', ...lines].join('\n') + '\n');
    const error = await dataFailure(() => readAll(path));
    expect([error.code, error.line]).toEqual(['BACKTEST_DATA_INVALID', 35_002]);
    expect(error.message).toContain(`${path}:35002: volume must not be negative`);
  });

  it('stops at the window end without reading the rows after it', async () => {
    const lines = candleRows(100);
    lines[80] = 'not a row at all';
    const path = join(tmp.path, 'BTC-USDT.csv');
    writeFileSync(path, lines.join('\n') + '\n');
    const candles = await readAll(path, { from: T0 + 10 * MINUTE, to: T0 + 50 * MINUTE });
    expect(candles.map((c) => c.openTime)).toEqual(Array.from({ length: 40 }, (_, i) => T0 + (10 + i) * MINUTE));
  });

  it('refuses a file with bare CR line endings instead of reading one row of it', async () => {
    const path = join(tmp.path, 'BTC-USDT.csv');
    writeFileSync(path, candleRows(3).join('\r') + '\r');
    const error = await dataFailure(() => readAll(path));
    expect([error.code, error.line]).toEqual(['BACKTEST_DATA_INVALID', 1]);
    expect(error.message).toMatch(/one row per line/);
  });

  it('merges large files into the same steps in batches as one by one', async () => {
    const a = join(tmp.path, 'AAA-USDT.csv');
    const b = join(tmp.path, 'BBB-USDT.csv');
    writeFileSync(a, candleRows(30_000).join('\n') + '\n');
    // The second file starts later and has a hole: steps hold one or both symbols.
    writeFileSync(b, candleRows(30_000, T0 + 500 * MINUTE).filter((_, i) => i < 1000 || i > 1200).join('\n') + '\n');
    const files = [{ symbol: 'AAA/USDT', path: a }, { symbol: 'BBB/USDT', path: b }];
    const single: string[] = [];
    for await (const step of readDataSet(files, { timeframeMs: MINUTE })) single.push(`${step.time}:${[...step.candles.keys()].join('+')}`);
    const batched: string[] = [];
    let batches = 0;
    for await (const steps of readStepBatches(files, { timeframeMs: MINUTE })) {
      batches += 1;
      for (const step of steps) batched.push(`${step.time}:${[...step.candles.keys()].join('+')}`);
    }
    expect(batches).toBeGreaterThan(1);
    expect(batched).toEqual(single);
    expect(single).toHaveLength(30_500);
    expect(single[0]).toBe(`${T0}:AAA/USDT`);
    expect(single[600]).toBe(`${T0 + 600 * MINUTE}:AAA/USDT+BBB/USDT`);
  });
});

describe('Backtest data: the numeric row scan', () => {
  const digits = (min: number, max: number) => fc.stringMatching(new RegExp(`^[0-9]{${min},${max}}$`));
  /** Plain decimals at and past the limits of a field (20 integer, 18 fraction digits), and near misses. */
  const fieldArb = fc.oneof(
    { weight: 8, arbitrary: fc.tuple(digits(1, 20), fc.option(digits(1, 18), { nil: undefined })).map(([int, frac]) => (frac === undefined ? int : `${int}.${frac}`)) },
    { weight: 1, arbitrary: digits(21, 22) },
    { weight: 1, arbitrary: fc.tuple(digits(1, 3), digits(19, 19)).map(([int, frac]) => `${int}.${frac}`) },
    { weight: 2, arbitrary: fc.constantFrom('1.', '.5', '', '+1', '1e3', ' 1', '1 ', '-1', '0', '0.0', '"2"', '1,5', '１') },
  );
  /** A row: one price for all four (so most rows pass the checks) or five fields of any kind. */
  const rowArb = fc.oneof(
    { weight: 3, arbitrary: fc.tuple(fieldArb, fieldArb).map(([p, v]) => [p, p, p, p, v]) },
    { weight: 1, arbitrary: fc.array(fieldArb, { minLength: 5, maxLength: 5 }) },
  );
  const timestampArb = (t: number) => fc.constantFrom(`${t}`, `${t}`, `${t}`, `0${t}`, new Date(t).toISOString(), `${t + 1}`, `1${t}${t}`.slice(0, 17), '');
  const fileArb = fc
    .array(rowArb, { minLength: 1, maxLength: 25 })
    .chain((rows) => fc.tuple(fc.tuple(...rows.map((r, i) => timestampArb(T0 + i * MINUTE).map((t) => [t, ...r]))), fc.constantFrom('\n', '\r\n'), fc.boolean()));

  async function outcome(path: string) {
    try {
      const candles = [];
      const values = [];
      for await (const chunk of readCandleChunks(path, { timeframeMs: MINUTE })) {
        candles.push(...chunk.candles);
        values.push(...chunk.values.subarray(0, chunk.candles.length * VALUES_PER_CANDLE));
        expect([...chunk.times.subarray(0, chunk.candles.length)]).toEqual(chunk.candles.map((c) => c.openTime));
      }
      return { candles, values };
    } catch (error) {
      if (!(error instanceof BacktestDataError)) throw error;
      return { line: error.line, reason: error.message.replace(path, '<file>') };
    }
  }

  it('reads a plain row as the CSV library path reads it: the same candle, numbers and coded error', async () => {
    mkdirSync(join(tmp.path, 'plain'));
    mkdirSync(join(tmp.path, 'quoted'));
    const plain = join(tmp.path, 'plain', 'BTC-USDT.csv');
    const quoted = join(tmp.path, 'quoted', 'BTC-USDT.csv');
    await fc.assert(
      fc.asyncProperty(fileArb, async ([rows, eol, finalEol]) => {
        const text = (quote: boolean) => rows.map(([t, ...rest]) => [quote ? `"${t}"` : t, ...rest].join(',')).join(eol) + (finalEol ? eol : '');
        writeFileSync(plain, text(false));
        // A quoted field sends every row through the CSV library.
        writeFileSync(quoted, text(true));
        expect(await outcome(plain)).toEqual(await outcome(quoted));
      }),
      { numRuns: 300, seed: 41 },
    );
  });
});
