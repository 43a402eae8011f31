/**
 * The CSV reader's chunked fast path (backtest/data/candle-file.ts): rows split across the
 * reader's chunks, plain numeric rows and rows that need the CSV library, line endings, and bad
 * rows far into a large file all read as the row-by-row parser would, with the file and the line.
 */
import { describe, it, expect } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCandleBatches, readCandleFile } from '../../../backtest/data/candle-file.js';
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
