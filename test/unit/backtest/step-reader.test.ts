/**
 * The data set's steps in columns (backtest/data/step-reader.ts, step-columns.ts) hold what the
 * files hold: every file's candles, read alone and merged by open time, in steps; the numbers are
 * the candles' texts as numbers; the gaps are reported in order; and a bad row stops the read with
 * a coded error naming the file and the line, after the steps before it.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readCandleFile, type CandleGap } from '../../../backtest/data/candle-file.js';
import type { DataSetFile, DataSetOptions, Step } from '../../../backtest/data/data-set.js';
import { BacktestDataError } from '../../../backtest/data/errors.js';
import { stepsOf, VALUES_PER_CANDLE, type StepColumns } from '../../../backtest/data/step-columns.js';
import { MAX_BATCH_CANDLES, MAX_STEPS, readStepColumns } from '../../../backtest/data/step-reader.js';
import type { Candle } from '../../../shared/domain/market.js';
import { candleRows, MINUTE, T0, tempDirPerTest } from '../../support/candle-rows.js';

const tmp = tempDirPerTest('tw-bt-columns-');

const numbersOf = (c: Candle): string => [c.open, c.high, c.low, c.close, c.volume].map(Number).join(',');

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

/** Steps as `flatten` writes them. */
function flattenSteps(steps: readonly Step[]): string[] {
  return steps.map((step) => `${step.time}:${[...step.candles].map(([symbol, c]) => `${symbol}=${JSON.stringify(c)}${numbersOf(c)}`).join('|')}`);
}

/** The reference: each file read alone (readCandleFile), merged by open time, symbols in file order. */
async function merged(files: readonly DataSetFile[], options: DataSetOptions): Promise<{ steps: string[]; gaps: CandleGap[] }> {
  const gaps: CandleGap[] = [];
  const byTime = new Map<number, Map<string, Candle>>();
  for (const f of files) {
    for await (const candle of readCandleFile(f.path, { ...options, onGap: (gap) => gaps.push(gap) })) {
      const step = byTime.get(candle.openTime) ?? new Map<string, Candle>();
      step.set(f.symbol, candle);
      byTime.set(candle.openTime, step);
    }
  }
  const steps = [...byTime.keys()].sort((a, b) => a - b).map((time) => ({ time, candles: byTime.get(time)! }));
  return { steps: flattenSteps(steps), gaps };
}

interface Read {
  readonly steps: string[];
  readonly batches: number;
  readonly gaps: CandleGap[];
  readonly error?: unknown;
}

async function read(files: readonly DataSetFile[], options: DataSetOptions): Promise<Read> {
  const gaps: CandleGap[] = [];
  const batches: StepColumns[] = [];
  try {
    for await (const batch of readStepColumns(files, options, (gap) => gaps.push(gap))) batches.push(batch);
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
  // Per file: where it starts (minutes after T0), its length, and which of its rows are missing (holes).
  const fileArb = fc.record({ start: fc.integer({ min: 0, max: 1500 }), count: fc.integer({ min: 1, max: 2500 }), holes: fc.array(fc.integer({ min: 1, max: 2499 }), { maxLength: 4 }) });
  const dataSetArb = fc.record({ files: fc.array(fileArb, { minLength: 1, maxLength: 4 }), from: fc.option(fc.integer({ min: 0, max: 2000 }), { nil: undefined }), jsonl: fc.boolean() });

  it('merges any data set into the files read alone and merged by time: steps, candles, numbers and gaps', async () => {
    await fc.assert(
      fc.asyncProperty(dataSetArb, async ({ files: specs, from, jsonl }) => {
        const files = specs.map((spec, i) => {
          const holes = new Set(spec.holes);
          const rows = candleRows(spec.count, T0 + spec.start * MINUTE).filter((_, r) => !holes.has(r));
          // The first file as JSON Lines when asked: both formats feed one merge.
          if (jsonl && i === 0) {
            const lines = rows.map((r) => {
              const [t, o, h, l, c, v] = r.split(',');
              return JSON.stringify({ timestamp: Number(t), open: o, high: h, low: l, close: c, volume: v });
            });
            return file(`F${i}/USDT`, lines, 'jsonl');
          }
          return file(`F${i}/USDT`, rows);
        });
        const options = { timeframeMs: MINUTE, ...(from === undefined ? {} : { from: T0 + from * MINUTE }) };
        const expected = await merged(files, options);
        const got = await read(files, options);
        if (expected.steps.length === 0) {
          expect((got.error as Error).message).toMatch(/no candle in the requested window/);
          return;
        }
        expect(got.error).toBeUndefined();
        expect(got.steps).toEqual(expected.steps);
        // Each file's gaps in its order (the files' chunks are read interleaved).
        for (const f of files) expect(got.gaps.filter((g) => g.file === f.path)).toEqual(expected.gaps.filter((g) => g.file === f.path));
        expect(got.gaps).toHaveLength(expected.gaps.length);
      }),
      { numRuns: 25, seed: 4242 },
    );
  });

  it('gives back steps as the columns hold them', async () => {
    const files = [file('AAA/USDT', candleRows(1500)), file('BBB/USDT', candleRows(700, T0 + 400 * MINUTE))];
    const steps: Step[] = [];
    for await (const batch of readStepColumns(files, { timeframeMs: MINUTE })) steps.push(...stepsOf(batch, ['AAA/USDT', 'BBB/USDT']));
    expect(flattenSteps(steps)).toEqual((await merged(files, { timeframeMs: MINUTE })).steps);
  });
});

describe('Backtest data: reading the steps', () => {
  it('reads a multi-file data set with a hole, a quoted row and a window into the files merged by time, with their gaps', async () => {
    const a = file('AAA/USDT', ['timestamp,open,high,low,close,volume', ...candleRows(10_000)]);
    // Starts later, has a hole (a gap) and a row the CSV library reads (quoted).
    const bRows = candleRows(10_000, T0 + 500 * MINUTE).filter((_, i) => i < 1000 || i > 1200);
    bRows[5] = bRows[5]!.replace(/^(\d+),([^,]+),/, '$1,"$2",');
    const b = file('BBB/USDT', bRows);
    const files = [a, b];
    const options = { timeframeMs: MINUTE, from: T0 + 100 * MINUTE, to: T0 + 9000 * MINUTE };
    const got = await read(files, options);
    const expected = await merged(files, options);
    expect(got.error).toBeUndefined();
    expect(got.steps).toEqual(expected.steps);
    expect(got.gaps).toEqual(expected.gaps);
    expect(got.gaps).toHaveLength(1);
    expect(got.steps).toHaveLength(8900);
    // Batches of at most MAX_STEPS steps.
    expect(got.batches).toBe(Math.ceil(8900 / MAX_STEPS));
  });

  it('hands over fewer steps at once when the files are many: at most MAX_BATCH_CANDLES candles a batch', async () => {
    const files = Array.from({ length: 12 }, (_, i) => file(`F${i}/USDT`, candleRows(600, T0 + i * MINUTE)));
    const sizes: number[] = [];
    const batches: StepColumns[] = [];
    for await (const batch of readStepColumns(files, { timeframeMs: MINUTE })) {
      sizes.push(batch.candles.length);
      batches.push(batch);
    }
    expect(flatten(batches, files.map((f) => f.symbol))).toEqual((await merged(files, { timeframeMs: MINUTE })).steps);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(MAX_BATCH_CANDLES);
    expect(batches[0]!.steps).toBe(Math.floor(MAX_BATCH_CANDLES / 12));
  });

  it('reads JSON Lines', async () => {
    const lines = candleRows(3000).map((r) => {
      const [t, o, h, l, c, v] = r.split(',');
      return JSON.stringify({ timestamp: Number(t), open: o, high: h, low: l, close: Number(c), volume: v });
    });
    const files = [file('JJJ/USDT', lines, 'jsonl')];
    const got = await read(files, { timeframeMs: MINUTE });
    expect(got.steps).toEqual((await merged(files, { timeframeMs: MINUTE })).steps);
    expect(got.steps).toHaveLength(3000);
  });

  const bad: readonly [string, (lines: string[]) => void, RegExp][] = [
    ['a timestamp going back', (l) => (l[5000] = l[4998]!), /is not after the previous row's/],
    ['a negative price', (l) => (l[5000] = l[5000]!.replace(/,([^,]+),/, ',-$1,')), /open must not be negative/],
    ['a high below the low', (l) => (l[5000] = l[5000]!.replace(/^(\d+),([^,]+),([^,]+),([^,]+),/, '$1,$2,$4,$3,')), /high .* is below low/],
    ['a malformed row', (l) => (l[5000] = 'nonsense'), /expected 6 columns/],
  ];
  for (const [what, spoil, reason] of bad) {
    it(`stops with a coded error for ${what}, naming the file and the line, after the steps before it`, async () => {
      // The bad row is past the reader's first chunks (about 1,400 rows each).
      const lines = candleRows(8000);
      spoil(lines);
      const files = [file('AAA/USDT', candleRows(8000)), file('BBB/USDT', lines)];
      const got = await read(files, { timeframeMs: MINUTE });
      expect(got.error).toBeInstanceOf(BacktestDataError);
      const error = got.error as BacktestDataError;
      expect(error.message).toMatch(reason);
      expect(error.message).toContain(`${files[1]!.path}:5001`);
      expect([error.code, error.file, error.line]).toEqual(['BACKTEST_DATA_INVALID', files[1]!.path, 5001]);
      // What came before the error is the good data's beginning, and nothing at or past the bad row.
      const good = await merged([files[0]!, file('BBB/USDT', candleRows(8000))], { timeframeMs: MINUTE });
      expect(got.steps.length).toBeGreaterThan(0);
      expect(got.steps.length).toBeLessThan(5000);
      expect(got.steps).toEqual(good.steps.slice(0, got.steps.length));
    });
  }

  it('refuses an empty window', async () => {
    const files = [file('AAA/USDT', candleRows(100))];
    const got = await read(files, { timeframeMs: MINUTE, from: T0 + 1000 * MINUTE });
    expect(got.error).toBeInstanceOf(BacktestDataError);
    expect((got.error as Error).message).toMatch(/no candle in the requested window/);
    expect(got.steps).toEqual([]);
  });
});
