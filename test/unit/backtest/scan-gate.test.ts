/**
 * The scan gate (backtest/scan-gate.ts) skips only scans that do nothing or that repeat the last
 * scan's blocked entries: over random data sets, strategies and protections, the gated engine and
 * the engine that scans every slot give byte-identical reports and charts (apart from `seconds`,
 * the repeated blocks included), while the gated one scans fewer slots.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fc from 'fast-check';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBacktest } from '../../../backtest/engine.js';
import type { Tunables } from '../../../shared/ports/tunables-store.js';
import { writeCandleFile } from '../../../testkit/candle-series.js';
import { backtestSettings } from '../../support/backtest-settings.js';

const T0 = Date.UTC(2026, 0, 1, 22);
let root: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'tw-bt-gate-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Case {
  readonly seed: number;
  readonly symbols: number;
  readonly candles: number;
  readonly gapEvery: number;
  readonly tunables: Tunables;
  readonly feeAsset: 'quote' | 'base' | 'BNB';
  readonly volumeSharePercent: string;
}

const strategyChoice = fc.record({
  priceDrop: fc.record({ enabled: fc.boolean(), dropPercent: fc.constantFrom('0.3', '0.8', '1.5'), lookbackCandles: fc.integer({ min: 3, max: 40 }) }),
  maCrossover: fc.boolean(),
  rsi: fc.boolean(),
});

const caseArbitrary: fc.Arbitrary<Case> = fc
  .record({
    seed: fc.integer({ min: 0, max: 1_000_000 }),
    symbols: fc.integer({ min: 1, max: 4 }),
    candles: fc.integer({ min: 150, max: 400 }),
    gapEvery: fc.constantFrom(0, 0, 97),
    strategies: strategyChoice,
    stopLossPercent: fc.constantFrom('0.3', '1', '3'),
    takeProfitPercent: fc.constantFrom('0.2', '0.5', '2'),
    cooldownSeconds: fc.constantFrom(0, 120, 900),
    // Mostly off: while they are on and a position is held, every slot is scanned.
    maxDrawdownPercent: fc.constantFrom(undefined, undefined, undefined, '0.1', '0.3'),
    maxDailyLoss: fc.constantFrom(undefined, undefined, undefined, '0.5'),
    maxOpenPositions: fc.integer({ min: 1, max: 3 }),
    // Mostly off: while it is on, blocked entries are never repeated without a scan.
    maxTotalExposure: fc.constantFrom(undefined, undefined, undefined, '150'),
    feeAsset: fc.constantFrom('quote' as const, 'base' as const, 'BNB' as const),
    volumeSharePercent: fc.constantFrom('0.01', '10'),
  })
  .map((c) => ({
    seed: c.seed,
    symbols: c.symbols,
    candles: c.candles,
    gapEvery: c.gapEvery,
    feeAsset: c.feeAsset,
    volumeSharePercent: c.volumeSharePercent,
    tunables: {
      stopLossPercent: c.stopLossPercent,
      takeProfitPercent: c.takeProfitPercent,
      cooldownSeconds: c.cooldownSeconds,
      maxOpenPositions: c.maxOpenPositions,
      ...(c.maxTotalExposure ? { maxTotalExposure: c.maxTotalExposure } : {}),
      ...(c.maxDrawdownPercent ? { maxDrawdownPercent: c.maxDrawdownPercent } : {}),
      ...(c.maxDailyLoss ? { maxDailyLoss: c.maxDailyLoss } : {}),
      strategies: {
        // At least one strategy runs: price-drop when nothing else is chosen.
        'price-drop': { enabled: c.strategies.priceDrop.enabled || (!c.strategies.maCrossover && !c.strategies.rsi), params: { dropPercent: c.strategies.priceDrop.dropPercent, lookbackCandles: c.strategies.priceDrop.lookbackCandles } },
        'ma-crossover': { enabled: c.strategies.maCrossover, params: { fastPeriod: 3, slowPeriod: 8 } },
        'rsi-mean-reversion': { enabled: c.strategies.rsi, params: { period: 5, lookback: 12, oversold: 35, overbought: 60 } },
      },
    },
  }));

async function dataSet(c: Case, index: number): Promise<string> {
  const dir = join(root, `case-${index}`);
  mkdirSync(dir);
  for (let i = 0; i < c.symbols; i += 1) {
    const path = await writeCandleFile(dir, { symbol: `S${i}/USDT`, start: T0, candles: c.candles, startPrice: 50 + 40 * i, seed: `gate-${c.seed}-${i}` });
    if (c.gapEvery > 0) {
      // Holes in the data: the scanner refuses a window across them, the gate must not differ.
      const lines = readFileSync(path, 'utf8').split('\n');
      writeFileSync(path, lines.filter((_, n) => n < 2 || (n + i) % c.gapEvery !== 0).join('\n'));
    }
  }
  return dir;
}

async function run(dir: string, c: Case, gate: boolean): Promise<{ text: string; scans: number; repeats: number; trades: number }> {
  let scans = 0;
  let repeats = 0;
  const settings = await backtestSettings(dir, {
    tunables: c.tunables,
    initialQuote: '1000',
    feeAsset: c.feeAsset,
    ...(c.feeAsset === 'BNB' ? { initialFeeAsset: '0.05', feeAssetPrice: '600' } : {}),
    volumeSharePercent: c.volumeSharePercent,
    onIntents: () => {
      scans += 1;
    },
    onGate: (kind) => {
      if (kind === 'repeat') repeats += 1;
    },
    gate,
  });
  const { report, charts } = await runBacktest(settings);
  return { text: JSON.stringify({ report: { ...report, seconds: 0 }, charts }), scans, repeats, trades: report.totals.trades };
}

describe('Backtest: the scan gate', () => {
  it('gives the same report and charts as scanning every slot, for any data, strategies and protections', async () => {
    let index = 0;
    let traded = 0;
    let skipped = 0;
    let repeated = 0;
    await fc.assert(
      fc.asyncProperty(caseArbitrary, async (c) => {
        index += 1;
        const dir = await dataSet(c, index);
        const ungated = await run(dir, c, false);
        const gated = await run(dir, c, true);
        expect(gated.text).toBe(ungated.text);
        expect(gated.scans).toBeLessThanOrEqual(ungated.scans);
        if (ungated.trades > 0) traded += 1;
        if (gated.scans < ungated.scans) skipped += 1;
        if (gated.repeats > 0) repeated += 1;
      }),
      { numRuns: 20, seed: 1717 },
    );
    // Not vacuous: the cases traded (positions opened and closed), the gate skipped scans, and
    // blocked entries were repeated without a scan.
    expect(traded).toBeGreaterThan(10);
    expect(skipped).toBeGreaterThan(10);
    expect(repeated).toBeGreaterThan(0);
  }, 600_000);

  it('repeats blocked entries only where the scan would block them again (many symbols, few positions)', async () => {
    let index = 100;
    let repeated = 0;
    const crowded = caseArbitrary.map((c) => ({ ...c, symbols: 5, candles: 300, volumeSharePercent: '10', tunables: { ...c.tunables, maxOpenPositions: 1 + (c.seed % 2) } }));
    await fc.assert(
      fc.asyncProperty(crowded, async (c) => {
        index += 1;
        const dir = await dataSet(c, index);
        const ungated = await run(dir, c, false);
        const gated = await run(dir, c, true);
        expect(gated.text).toBe(ungated.text);
        expect(gated.scans + gated.repeats).toBeLessThanOrEqual(ungated.scans);
        if (gated.repeats > 0) repeated += 1;
      }),
      { numRuns: 6, seed: 2024 },
    );
    expect(repeated).toBeGreaterThan(2);
  }, 600_000);
});
