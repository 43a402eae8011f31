import { describe, it, expect } from 'vitest';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { readCandleFile, symbolFromFileName, type CandleGap } from '../../../backtest/data/candle-file.js';
import { listDataSet, readDataSet } from '../../../backtest/data/data-set.js';
import { MINUTE, T0, tempDirPerTest, dataFailure } from '../../support/candle-rows.js';

const tmp = tempDirPerTest('tw-bt-data-');

function csv(name: string, lines: readonly string[]): string {
  const path = join(tmp.path, name);
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}

async function readAll(path: string, options: { from?: number; to?: number; onGap?: (g: CandleGap) => void } = {}) {
  const out = [];
  for await (const c of readCandleFile(path, { timeframeMs: MINUTE, ...options })) out.push(c);
  return out;
}

describe('Backtest data: candle files', () => {
  it('names the symbol from the file name', () => {
    expect(symbolFromFileName('/x/BTC-USDT.csv')).toBe('BTC/USDT');
    expect(symbolFromFileName('eth_usdt.jsonl')).toBe('ETH/USDT');
    expect(symbolFromFileName('notes.txt')).toBeUndefined();
    expect(symbolFromFileName('BTCUSDT.csv')).toBeUndefined();
  });

  it('reads CSV with a header, epoch-ms and ISO timestamps alike', async () => {
    const path = csv('BTC-USDT.csv', [
      'timestamp,open,high,low,close,volume',
      `${T0},100,101,99,100.5,12`,
      `${new Date(T0 + MINUTE).toISOString()},100.5,102,100,101,3.25`,
    ]);
    const candles = await readAll(path);
    expect(candles).toEqual([
      { openTime: T0, open: '100', high: '101', low: '99', close: '100.5', volume: '12' },
      { openTime: T0 + MINUTE, open: '100.5', high: '102', low: '100', close: '101', volume: '3.25' },
    ]);
  });

  it('reads JSON Lines with numbers or strings', async () => {
    const path = join(tmp.path, 'ETH-USDT.jsonl');
    writeFileSync(path, `{"timestamp":${T0},"open":10,"high":11,"low":9,"close":10,"volume":0}\n\n{"timestamp":"${T0 + MINUTE}","open":"10","high":"10","low":"10","close":"10","volume":"1"}\n`);
    const candles = await readAll(path);
    expect(candles.map((c) => [c.openTime, c.close, c.volume])).toEqual([[T0, '10', '0'], [T0 + MINUTE, '10', '1']]);
  });

  it.each([
    ['a malformed row', [`${T0},100,101,99`], 1, /expected 6 columns/],
    ['a non-numeric price', [`${T0},abc,101,99,100,1`], 1, /open must be a decimal/],
    ['a non-monotonic timestamp', [`${T0 + MINUTE},100,101,99,100,1`, `${T0},100,101,99,100,1`], 2, /not after the previous/],
    ['a repeated timestamp', [`${T0},100,101,99,100,1`, `${T0},100,101,99,100,1`], 2, /not after the previous/],
    ['a negative price', [`${T0},100,101,-99,100,1`], 1, /low must not be negative/],
    ['a zero price', [`${T0},0,101,0,100,1`], 1, /open must be positive/],
    ['a negative volume', [`${T0},100,101,99,100,-1`], 1, /volume must not be negative/],
    ['high below low', [`${T0},100,98,99,100,1`], 1, /high 98 is below low 99/],
    ['high below the close', [`${T0},100,101,99,102,1`], 1, /below the open or the close/],
    ['a timestamp off the timeframe', [`${T0 + 1},100,101,99,100,1`], 1, /not aligned/],
    ['a bad timestamp', ['yesterday,100,101,99,100,1'], 1, /epoch milliseconds or ISO/],
    ['a wrong header', ['time,o,h,l,c,v', `${T0},100,101,99,100,1`], 1, /header must be/],
  ])('refuses %s with a coded error naming the file and line', async (_name, lines, line, message) => {
    const path = csv('BTC-USDT.csv', ['timestamp,open,high,low,close,volume', ...lines].filter((l, i) => i > 0 || !lines[0]!.startsWith('time')));
    const headerOffset = lines[0]!.startsWith('time') ? 0 : 1;
    const error = await dataFailure(() => readAll(path));
    expect(error.code).toBe('BACKTEST_DATA_INVALID');
    expect(error.file).toBe(path);
    expect(error.line).toBe(line + headerOffset);
    expect(error.message).toMatch(message);
    expect(error.message).toContain(`${path}:${line + headerOffset}`);
  });

  it('refuses malformed JSON with the line', async () => {
    const path = join(tmp.path, 'ETH-USDT.jsonl');
    writeFileSync(path, `{"timestamp":${T0},"open":10,"high":11,"low":9,"close":10,"volume":0}\n{"timestamp":1,\n`);
    const error = await dataFailure(() => readAll(path));
    expect([error.line, error.message]).toEqual([2, `${path}:2: malformed JSON`]);
  });

  it('reports a gap inside the window and never bridges it', async () => {
    const path = csv('BTC-USDT.csv', [`${T0},100,101,99,100,1`, `${T0 + 4 * MINUTE},100,101,99,100,1`, `${T0 + 5 * MINUTE},100,101,99,100,1`]);
    const gaps: CandleGap[] = [];
    const candles = await readAll(path, { onGap: (g) => gaps.push(g) });
    expect(candles.map((c) => c.openTime)).toEqual([T0, T0 + 4 * MINUTE, T0 + 5 * MINUTE]);
    expect(gaps).toEqual([{ symbol: 'BTC/USDT', file: path, after: T0, before: T0 + 4 * MINUTE, missingCandles: 3 }]);
  });

  it('keeps only the window, validating the rows before it', async () => {
    const path = csv('BTC-USDT.csv', [0, 1, 2, 3].map((i) => `${T0 + i * MINUTE},100,101,99,100,1`));
    const candles = await readAll(path, { from: T0 + MINUTE, to: T0 + 3 * MINUTE });
    expect(candles.map((c) => c.openTime)).toEqual([T0 + MINUTE, T0 + 2 * MINUTE]);
  });
});

describe('Backtest data: data sets', () => {
  it('merges the files of a directory into time-ordered steps', async () => {
    csv('BTC-USDT.csv', [`${T0},100,101,99,100,1`, `${T0 + MINUTE},100,101,99,100,1`]);
    csv('ETH-USDT.csv', [`${T0 + MINUTE},10,11,9,10,1`, `${T0 + 2 * MINUTE},10,11,9,10,1`]);
    writeFileSync(join(tmp.path, 'README.txt'), 'not data');
    const files = await listDataSet(tmp.path);
    expect(files.map((f) => f.symbol)).toEqual(['BTC/USDT', 'ETH/USDT']);
    const steps = [];
    for await (const step of readDataSet(files, { timeframeMs: MINUTE })) steps.push([step.time, [...step.candles.keys()]]);
    expect(steps).toEqual([[T0, ['BTC/USDT']], [T0 + MINUTE, ['BTC/USDT', 'ETH/USDT']], [T0 + 2 * MINUTE, ['ETH/USDT']]]);
  });

  it('refuses a file for a symbol the settings do not name', async () => {
    const path = csv('DOGE-USDT.csv', [`${T0},1,1,1,1,1`]);
    const error = await dataFailure(() => listDataSet(tmp.path, ['BTC/USDT']));
    expect(error.file).toBe(path);
    expect(error.message).toMatch(/DOGE\/USDT is not among the symbols/);
  });

  it('refuses a named symbol without a file, and an empty directory', async () => {
    csv('BTC-USDT.csv', [`${T0},1,1,1,1,1`]);
    expect((await dataFailure(() => listDataSet(tmp.path, ['BTC/USDT', 'ETH/USDT']))).message).toMatch(/no candle file for ETH\/USDT/);
    const empty = join(tmp.path, 'empty');
    mkdirSync(empty);
    expect((await dataFailure(() => listDataSet(empty))).message).toMatch(/no candle files/);
  });

  it('refuses an empty window', async () => {
    csv('BTC-USDT.csv', [`${T0},1,1,1,1,1`]);
    const files = await listDataSet(tmp.path);
    const error = await dataFailure(async () => {
      for await (const _ of readDataSet(files, { timeframeMs: MINUTE, from: T0 + 10 * MINUTE })) void _;
    });
    expect(error.message).toMatch(/no candle in the requested window/);
  });
});
