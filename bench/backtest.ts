/**
 * Backtest speed and memory: candles per second through the scanner's decision path and the
 * executor's and reconciler's booking path (one symbol, price-drop strategy), and a ten-symbol
 * run for wall time and peak RSS. Each run is a child process, so its peak RSS is its own.
 *
 * `candlesPerSecond` is a throughput: the one-symbol run covers 100,000 one-minute candles
 * (`BACKTEST_CANDLES`; 10,000 with `--quick`), long enough that the run's fixed costs (the
 * report, the final audit verify, JIT warm-up) no longer dominate as they did on 10,000. It is
 * the median of three runs (`candlesPerSecondRuns`). A fourth run of the same candles times its
 * phases (`breakdown1Symbol`, engine.ts `phases`): where the time of a run goes.
 *
 * The ten-symbol run covers a full year (5.3 M candles). With `--quick` it covers 7 days and the
 * year is extrapolated from them, and the output says so (`seconds10Symbols1YearMeasured: false`,
 * `days10Symbols`). `peakRssMb` is that run's, under the Node flags of `npm run backtest` (read
 * from package.json).
 *
 * The candles are testkit/candle-series.ts's seeded walks without a trend, which stay in their
 * start price's range all year.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PhaseTimes } from '../backtest/engine.js';
import { writeCandleFile } from '../testkit/candle-series.js';

/** Milliseconds of each phase of one run (engine.ts `Phase`), with the scans and intents it had. */
export interface PhaseBreakdown {
  readonly seconds: number;
  readonly steps: number;
  readonly scans: number;
  readonly intents: number;
  readonly readMs: number;
  readonly marketMs: number;
  readonly bookingMs: number;
  readonly gateMs: number;
  readonly scanMs: number;
  readonly executeMs: number;
  readonly equityMs: number;
  readonly reportMs: number;
}

export interface BacktestBench {
  readonly candlesPerSecond: number;
  readonly candlesPerSecondRuns: readonly number[];
  readonly breakdown1Symbol: PhaseBreakdown;
  readonly candles1Symbol: number;
  readonly seconds10Symbols1Year: number;
  readonly seconds10Symbols1YearMeasured: boolean;
  readonly candles10Symbols: number;
  /** Days of candles per symbol in the ten-symbol run (365; 7 with `--quick`). */
  readonly days10Symbols: number;
  readonly peakRssMb: number;
}

/** Candles of the one-symbol run (`candlesPerSecond`), and with `--quick`. */
export const BACKTEST_CANDLES = 100_000;
export const BACKTEST_QUICK_CANDLES = 10_000;
/** Days of the ten-symbol run with `--quick` (the year is extrapolated from them). */
export const BACKTEST_QUICK_DAYS = 7;
const YEAR_CANDLES = 525_600;
const T0 = Date.UTC(2025, 0, 1);
const CHILD = fileURLToPath(new URL('./backtest-child.ts', import.meta.url));
const PACKAGE_JSON = fileURLToPath(new URL('../package.json', import.meta.url));

/**
 * The Node flags `npm run backtest` runs under (package.json: `tsx <flags> scripts/backtest.ts`,
 * the heap sizes of README "Backtesting"). The child runs under the same flags, so the peak RSS
 * measured is the npm script's. @throws Error when the script no longer has that shape.
 */
export function backtestNodeFlags(script: string): string[] {
  const words = script.trim().split(/\s+/);
  const flags = words.slice(1, -1);
  if (words[0] !== 'tsx' || words.at(-1) !== 'scripts/backtest.ts' || flags.some((f) => !f.startsWith('--'))) {
    throw new Error(`package.json's backtest script is not "tsx [node flags] scripts/backtest.ts": ${script}`);
  }
  return flags;
}

interface ChildResult {
  readonly candles: number;
  readonly seconds: number;
  readonly maxRssKb: number;
  readonly phases?: PhaseTimes;
}

function runChild(dir: string, phases = false): ChildResult {
  const scripts = (JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { scripts: Record<string, string> }).scripts;
  const out = execFileSync(process.execPath, [...backtestNodeFlags(scripts['backtest']!), '--import', 'tsx', CHILD, dir, ...(phases ? ['--phases'] : [])], { encoding: 'utf8', maxBuffer: 1 << 20, env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'SILENT' } });
  return JSON.parse(out.trim().split('\n').at(-1)!) as ChildResult;
}

/** The phase times of a run as the bench's JSON gives them (whole milliseconds). */
export function phaseBreakdown(seconds: number, phases: PhaseTimes): PhaseBreakdown {
  const ms = (phase: keyof PhaseTimes) => Math.round(phases[phase].ms);
  return {
    seconds: Number(seconds.toFixed(3)),
    steps: phases.read.count,
    scans: phases.scan.count,
    intents: phases.execute.count,
    readMs: ms('read'),
    marketMs: ms('market'),
    bookingMs: ms('booking'),
    gateMs: ms('gate'),
    scanMs: ms('scan'),
    executeMs: ms('execute'),
    equityMs: ms('equity'),
    reportMs: ms('report'),
  };
}

/** @param options.days10Symbols the ten-symbol run's days; 365 measures the year, fewer extrapolate it. */
export async function benchBacktest(options: { candles1Symbol: number; days10Symbols: number }): Promise<BacktestBench> {
  const root = mkdtempSync(join(tmpdir(), 'tw-bench-backtest-'));
  try {
    const one = join(root, 'one');
    mkdirSync(one);
    await writeCandleFile(one, { symbol: 'BTC/USDT', start: T0, candles: options.candles1Symbol, startPrice: 60000 });
    const runs = [runChild(one), runChild(one), runChild(one)];
    const rates = runs.map((r) => Math.round(r.candles / r.seconds));
    const timed = runChild(one, true);

    const ten = join(root, 'ten');
    mkdirSync(ten);
    const full = options.days10Symbols >= 365;
    const perSymbol = full ? YEAR_CANDLES : options.days10Symbols * 1440;
    for (let i = 0; i < 10; i += 1) await writeCandleFile(ten, { symbol: `C${i}/USDT`, start: T0, candles: perSymbol, startPrice: 10 + i * 10, seed: `bench-${i}` });
    const multi = runChild(ten);
    const yearSeconds = full ? multi.seconds : (multi.seconds * YEAR_CANDLES) / perSymbol;
    return {
      candlesPerSecond: [...rates].sort((a, b) => a - b)[1]!,
      candlesPerSecondRuns: rates,
      breakdown1Symbol: phaseBreakdown(timed.seconds, timed.phases!),
      candles1Symbol: runs[0]!.candles,
      seconds10Symbols1Year: Number(yearSeconds.toFixed(1)),
      seconds10Symbols1YearMeasured: full,
      candles10Symbols: multi.candles,
      days10Symbols: perSymbol / 1440,
      peakRssMb: Math.round(multi.maxRssKb / 1024),
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
