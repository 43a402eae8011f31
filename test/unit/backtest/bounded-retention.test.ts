/**
 * What a backtest keeps while it runs is bounded by construction, not by the length of the data:
 * the chart of a symbol (bars and trade markers), the equity curves, the listed rejections, and
 * the reader's batches. Sizes are counted here; memory in megabytes is the bench's (BENCHMARKS.md).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHUNK_BYTES, readCandleBatches } from '../../../backtest/data/candle-file.js';
import { CandleThinner } from '../../../backtest/report/candle-thinner.js';
import { EquityTracker, MAX_CURVE_POINTS } from '../../../backtest/report/equity-tracker.js';
import { BoundedList, MAX_LISTED } from '../../../backtest/report/report.js';
import { SymbolChart } from '../../../backtest/report/symbol-chart.js';
import type { Candle } from '../../../shared/domain/market.js';
import { seededRandom } from '../../../testkit/seeded-random.js';
import { writeCandleFile } from '../../../testkit/candle-series.js';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 0, 1);

function candle(i: number): Candle {
  const p = 100 + (i % 50);
  return { openTime: T0 + i * MINUTE, open: String(p), high: String(p + 2), low: String(p - 2), close: String(p + 1), volume: '3' };
}

/** The markers as the report drew them before they were bounded: every fill kept, snapped onto the final bars at the end. */
function markersMarkedAtTheEnd(thinner: CandleThinner, fills: readonly { openTime: number; side: 'buy' | 'sell' }[]) {
  const seen = new Set<string>();
  return fills
    .map((f) => ({ time: thinner.barTime(f.openTime), side: f.side, text: f.side === 'buy' ? 'B' : 'S' }))
    .filter((m) => {
      const key = `${m.time}:${m.side}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}

describe('Backtest memory: a symbol chart', () => {
  it('holds at most two markers per bar however many fills it is shown, and draws the markers of snapping every fill at the end', () => {
    const maxBars = 50;
    const chart = new SymbolChart(MINUTE, maxBars);
    const reference = new CandleThinner(MINUTE, maxBars);
    const random = seededRandom('markers');
    const fills: { openTime: number; side: 'buy' | 'sell' }[] = [];
    let most = 0;
    for (let i = 0; i < 20_000; i += 1) {
      chart.add(candle(i));
      reference.add(candle(i));
      // Several fills on some candles, of either side, as a run with partial fills has.
      while (random() < 0.3) {
        const fill = { openTime: T0 + i * MINUTE, side: random() < 0.5 ? ('buy' as const) : ('sell' as const) };
        fills.push(fill);
        chart.mark(fill.openTime, fill.side);
      }
      most = Math.max(most, chart.markerCount);
    }
    const drawn = chart.chart();
    expect(fills.length).toBeGreaterThan(5_000);
    expect(drawn.bars.length).toBeLessThanOrEqual(maxBars);
    // Between two merges the bars may reach maxBars + 1 (the one that triggers the merge).
    expect(most).toBeLessThanOrEqual(2 * (maxBars + 1));
    expect(drawn.markers).toEqual(markersMarkedAtTheEnd(reference, fills));
  });
});

describe('Backtest memory: the report\'s running figures', () => {
  it('keeps the equity curves and the listed rejections at their limits after a long run', () => {
    const tracker = new EquityTracker();
    const rejected = new BoundedList<number>();
    const n = 10 * MAX_CURVE_POINTS + 7;
    for (let i = 0; i < n; i += 1) {
      tracker.update(T0 + i * MINUTE, 1000 + Math.sin(i / 100) * 50, i % 2 === 0);
      rejected.push(i);
    }
    const curves = tracker.curves();
    expect(curves.equity.length).toBeLessThanOrEqual(MAX_CURVE_POINTS + 1);
    expect(curves.drawdownPercent.length).toBe(curves.equity.length);
    expect(rejected.items.length).toBe(MAX_LISTED);
    expect(rejected.count).toBe(n);
  });
});

describe('Backtest memory: the candle reader', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tw-bt-bounded-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('hands over a file in batches of about one chunk, so the candles alive at once do not grow with the file', async () => {
    const candles = 60_000;
    const path = await writeCandleFile(dir, { symbol: 'BTC/USDT', start: T0, candles, startPrice: 60000 });
    let read = 0;
    let largest = 0;
    let batches = 0;
    for await (const batch of readCandleBatches(path, { timeframeMs: MINUTE })) {
      read += batch.length;
      largest = Math.max(largest, batch.length);
      batches += 1;
    }
    expect(read).toBe(candles);
    // A row is more than 40 bytes, so a chunk holds fewer than CHUNK_BYTES / 40 candles: about a
    // thousand, whatever the file's length.
    expect(largest).toBeLessThan(CHUNK_BYTES / 40);
    expect(largest).toBeLessThanOrEqual(2_048);
    expect(batches).toBeGreaterThan(candles / (CHUNK_BYTES / 40));
  });
});

/** Packages a backtest run does not use; loading them costs resident memory for nothing. */
const NOT_FOR_A_BACKTEST = /^(@aws-sdk\/|@aws-lambda-powertools\/|@middy\/|ccxt)/;

describe('Backtest memory: what `npm run backtest` loads', () => {
  let metafile: Metafile;
  beforeAll(async () => {
    const entry = join(import.meta.dirname, '../../../scripts/backtest.ts');
    metafile = (await build({ entryPoints: [entry], bundle: true, write: false, metafile: true, platform: 'node', format: 'esm', packages: 'external', logLevel: 'silent' })).metafile;
  }, 60_000);

  /** Packages reached from the entry through imports of the given kinds. */
  function packagesReached(kinds: ReadonlySet<string>): Set<string> {
    const entry = Object.keys(metafile.inputs).find((p) => p.endsWith('scripts/backtest.ts'))!;
    const packages = new Set<string>();
    const seen = new Set<string>([entry]);
    const queue = [entry];
    while (queue.length > 0) {
      for (const imported of metafile.inputs[queue.pop()!]?.imports ?? []) {
        if (!kinds.has(imported.kind)) continue;
        if (imported.external) packages.add(imported.path);
        else if (!seen.has(imported.path)) {
          seen.add(imported.path);
          queue.push(imported.path);
        }
      }
    }
    return packages;
  }

  it('loads no AWS SDK, Lambda middleware or ccxt on the candle venue; only the parity run\'s paper exchange brings the SDK, when asked for', () => {
    const statically = packagesReached(new Set(['import-statement', 'require-call']));
    expect(statically.has('decimal.js')).toBe(true);
    expect([...statically].filter((p) => NOT_FOR_A_BACKTEST.test(p))).toEqual([]);
    const withDynamic = packagesReached(new Set(['import-statement', 'require-call', 'dynamic-import']));
    expect([...withDynamic].filter((p) => p.startsWith('@aws-sdk/'))).not.toEqual([]);
  });
});
