/**
 * The data set read on a second thread (backtest/data/step-reader.ts, read-worker.ts) gives what
 * reading in this thread gives: the same steps and candles in columns, the same gaps in the same
 * order, and the same coded errors with the file and the line. The reader thread stays a bounded
 * number of batches ahead, however long the files.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CandleGap } from '../../../backtest/data/candle-file.js';
import type { DataSetFile, DataSetOptions, Step } from '../../../backtest/data/data-set.js';
import { BacktestDataError } from '../../../backtest/data/errors.js';
import { columnsOf, decodeSteps, encodeSteps, VALUES_PER_CANDLE, type StepColumns } from '../../../backtest/data/step-columns.js';
import { ReaderThread, readStepColumns } from '../../../backtest/data/step-reader.js';
import type { Candle } from '../../../shared/domain/market.js';
import { candleRows, MINUTE, T0, tempDirPerTest } from '../../support/candle-rows.js';

const tmp = tempDirPerTest('tw-bt-thread-');

/** Every step as `time:symbol=candle fields+values|...`, from columns. */
function flatten(batches: readonly StepColumns[], symbols: readonly string[]): string[] {
  const out: string[] = [];
  for (const b of batches) {
    let start = 0;
    for (let s = 0; s < b.steps; s += 1) {
      const parts: string[] = [];
      for (let k = start; k < b.ends[s]!; k += 1) {
        const values = [...b.values.subarray(k * VALUES_PER_CANDLE, (k + 1) * VALUES_PER_CANDLE)];
        parts.push(`${symbols[b.symbols[k]!]}=${JSON.stringify(b.candles[k])}${values.join(',')}`);
      }
      out.push(`${b.times[s]}:${parts.join('|')}`);
      start = b.ends[s]!;
    }
  }
  return out;
}

interface Read {
  readonly steps: string[];
  readonly batches: number;
  readonly gaps: CandleGap[];
  readonly error?: unknown;
}

async function read(files: readonly DataSetFile[], options: DataSetOptions, onThread: boolean): Promise<Read> {
  const gaps: CandleGap[] = [];
  const batches: StepColumns[] = [];
  const thread = onThread ? await ReaderThread.start() : undefined;
  if (onThread) expect(thread).toBeDefined();
  try {
    for await (const batch of readStepColumns(files, options, (gap) => gaps.push(gap), thread)) batches.push(batch);
  } catch (error) {
    return { steps: flatten(batches, files.map((f) => f.symbol)), batches: batches.length, gaps, error };
  }
  return { steps: flatten(batches, files.map((f) => f.symbol)), batches: batches.length, gaps };
}

function file(symbol: string, lines: readonly string[], ext = 'csv'): DataSetFile {
  const path = join(tmp.path, `${symbol.replace('/', '-')}.${ext}`);
  writeFileSync(path, lines.join('\n') + '\n');
  return { symbol, path };
}

describe('Backtest data: steps in columns', () => {
  const candleArb = fc.record({
    open: fc.integer({ min: 1, max: 10_000_000 }),
    spread: fc.integer({ min: 0, max: 1000 }),
    volume: fc.integer({ min: 0, max: 1_000_000 }),
    scale: fc.constantFrom(1, 100, 10_000),
  });
  const stepsArb = fc.array(fc.array(fc.option(candleArb, { nil: undefined }), { minLength: 3, maxLength: 3 }), { minLength: 1, maxLength: 40 });

  it('decodes what was encoded for a thread into the columns read in line: same candles, texts and numbers', () => {
    const symbols = ['A/USDT', 'B/USDT', 'C/USDT'];
    const index = new Map(symbols.map((s, i) => [s, i]));
    fc.assert(
      fc.property(stepsArb, (raw) => {
        const steps: Step[] = raw.map((row, t) => {
          const candles = new Map<string, Candle>();
          row.forEach((c, i) => {
            if (!c) return;
            const p = (x: number) => String(x / c.scale);
            candles.set(symbols[i]!, { openTime: T0 + t * MINUTE, open: p(c.open), high: p(c.open + c.spread), low: p(c.open), close: p(c.open + Math.floor(c.spread / 2)), volume: p(c.volume) });
          });
          return { time: T0 + t * MINUTE, candles };
        });
        const inLine = columnsOf(steps, index);
        const decoded = decodeSteps(encodeSteps(steps, index));
        expect(decoded).toEqual(inLine);
        expect(flatten([decoded], symbols)).toEqual(flatten([inLine], symbols));
      }),
      { numRuns: 100, seed: 4242 },
    );
  });
});

describe('Backtest data: reading on a second thread', () => {
  it('reads a multi-file data set with a hole and a window into the same steps, values and gaps as in line', async () => {
    const a = file('AAA/USDT', ['timestamp,open,high,low,close,volume', ...candleRows(10_000)]);
    // Starts later, has a hole (a gap) and a row the CSV library reads (quoted).
    const bRows = candleRows(10_000, T0 + 500 * MINUTE).filter((_, i) => i < 1000 || i > 1200);
    bRows[5] = bRows[5]!.replace(/^(\d+),([^,]+),/, '$1,"$2",');
    const b = file('BBB/USDT', bRows);
    const files = [a, b];
    const options = { timeframeMs: MINUTE, from: T0 + 100 * MINUTE, to: T0 + 9000 * MINUTE };
    const inLine = await read(files, options, false);
    const onThread = await read(files, options, true);
    expect(inLine.error).toBeUndefined();
    expect(onThread.error).toBeUndefined();
    expect(onThread.steps).toEqual(inLine.steps);
    expect(onThread.gaps).toEqual(inLine.gaps);
    expect(inLine.gaps).toHaveLength(1);
    expect(inLine.steps).toHaveLength(8900);
    expect(onThread.batches).toBeGreaterThan(10);
  });

  it('reads JSON Lines as in line', async () => {
    const lines = candleRows(3000).map((r) => {
      const [t, o, h, l, c, v] = r.split(',');
      return JSON.stringify({ timestamp: Number(t), open: o, high: h, low: l, close: Number(c), volume: v });
    });
    const files = [file('JJJ/USDT', lines, 'jsonl')];
    const onThread = await read(files, { timeframeMs: MINUTE }, true);
    expect(onThread.steps).toEqual((await read(files, { timeframeMs: MINUTE }, false)).steps);
    expect(onThread.steps).toHaveLength(3000);
  });

  const bad: readonly [string, (lines: string[]) => void, RegExp][] = [
    ['a timestamp going back', (l) => (l[5000] = l[4998]!), /is not after the previous row's/],
    ['a negative price', (l) => (l[5000] = l[5000]!.replace(/,([^,]+),/, ',-$1,')), /must not be negative|must be a decimal number/],
    ['a high below the low', (l) => (l[5000] = l[5000]!.replace(/^(\d+),([^,]+),([^,]+),([^,]+),/, '$1,$2,$4,$3,')), /high .* is below/],
    ['a malformed row', (l) => (l[5000] = 'nonsense'), /expected 6 columns|timestamp must be/],
  ];
  for (const [what, spoil, reason] of bad) {
    it(`stops with the in-line reader's coded error for ${what}, naming the file and the line, after the same steps`, async () => {
      // The bad row is past the reader's first chunks (about 1,400 rows each).
      const lines = candleRows(8000);
      spoil(lines);
      const files = [file('AAA/USDT', candleRows(8000)), file('BBB/USDT', lines)];
      const inLine = await read(files, { timeframeMs: MINUTE }, false);
      const onThread = await read(files, { timeframeMs: MINUTE }, true);
      expect(inLine.error).toBeInstanceOf(BacktestDataError);
      expect(onThread.error).toBeInstanceOf(BacktestDataError);
      const [expected, got] = [inLine.error as BacktestDataError, onThread.error as BacktestDataError];
      expect(got.message).toBe(expected.message);
      expect(got.message).toMatch(reason);
      expect(got.message).toContain(`${files[1]!.path}:5001`);
      expect([got.code, got.file, got.line, got.details]).toEqual([expected.code, expected.file, expected.line, expected.details]);
      expect(onThread.steps).toEqual(inLine.steps);
    });
  }

  it('refuses an empty window with the in-line error', async () => {
    const files = [file('AAA/USDT', candleRows(100))];
    const options = { timeframeMs: MINUTE, from: T0 + 1000 * MINUTE };
    const onThread = await read(files, options, true);
    expect(onThread.error).toBeInstanceOf(BacktestDataError);
    expect((onThread.error as Error).message).toBe(((await read(files, options, false)).error as Error).message);
    expect((onThread.error as Error).message).toMatch(/no candle in the requested window/);
  });

  it('stays at most the read-ahead in batches ahead of the reader, however long the file', async () => {
    const files = [file('AAA/USDT', candleRows(100_000))];
    const thread = (await ReaderThread.start())!;
    const stream = thread.read(files, { timeframeMs: MINUTE }, () => {}, 2);
    try {
      const first = await stream.next();
      expect(first.done).toBe(false);
      // The reader fills the read-ahead, then waits for a credit: however long we wait, no more come.
      while (thread.pending < 2) await new Promise((resolve) => setTimeout(resolve, 10));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(thread.pending).toBe(2);
      let batches = 1;
      for (let next = await stream.next(); !next.done; next = await stream.next()) {
        batches += 1;
        expect(thread.pending).toBeLessThanOrEqual(2);
      }
      // 100,000 rows come in about a hundred batches: far more than were ever waiting.
      expect(batches).toBeGreaterThan(50);
    } finally {
      await stream.return(undefined);
    }
  });

  it('ends the reader thread when the run stops taking steps early', async () => {
    const files = [file('AAA/USDT', candleRows(50_000))];
    const thread = (await ReaderThread.start())!;
    let taken = 0;
    for await (const batch of thread.read(files, { timeframeMs: MINUTE })) {
      taken += batch.steps;
      if (taken > 2000) break;
    }
    expect(taken).toBeGreaterThan(2000);
    expect(thread.running).toBe(false);
    // A second read of it is refused rather than left waiting.
    await expect(thread.read(files, { timeframeMs: MINUTE }).next()).rejects.toThrow(/reads one data set/);
  });
});
