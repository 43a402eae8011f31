/**
 * Backtest speed and memory: candles per second through the scanner's decision path and the
 * executor's and reconciler's booking path (one symbol, price-drop strategy), and a ten-symbol
 * run for wall time and peak RSS. Each run is a child process, so its peak RSS is its own.
 *
 * `candlesPerSecond` is a throughput: the one-symbol run covers 100,000 one-minute candles
 * (`BACKTEST_CANDLES`; 10,000 with `--quick`), long enough that the run's fixed costs (the
 * report, the final audit verify, JIT warm-up) no longer dominate as they did on 10,000.
 *
 * A full year of ten symbols (5.3 M candles) takes long at today's speed: it runs only with
 * `--backtest-full`. Otherwise the ten-symbol run covers `days` (30; 7 with `--quick`) and the
 * year is extrapolated from it, and the output says so (`seconds10Symbols1YearMeasured: false`,
 * `days10Symbols`). `peakRssMb` is that run's, under the Node flags of `npm run backtest` (read
 * from package.json).
 *
 * The candles are testkit/candle-series.ts's seeded walks without a trend, which stay in their
 * start price's range all year. A month covers more of a walk's moods than a week, so the
 * extrapolation leans less on the first days.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeCandleFile } from '../testkit/candle-series.js';

export interface BacktestBench {
  readonly candlesPerSecond: number;
  readonly candles1Symbol: number;
  readonly seconds10Symbols1Year: number;
  readonly seconds10Symbols1YearMeasured: boolean;
  readonly candles10Symbols: number;
  /** Days of candles per symbol in the ten-symbol run (365 with `--backtest-full`). */
  readonly days10Symbols: number;
  readonly peakRssMb: number;
}

/** Candles of the one-symbol run (`candlesPerSecond`), and with `--quick`. */
export const BACKTEST_CANDLES = 100_000;
export const BACKTEST_QUICK_CANDLES = 10_000;
/** Days of the ten-symbol run, and with `--quick`. */
export const BACKTEST_DAYS = 30;
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
}

function runChild(dir: string): ChildResult {
  const scripts = (JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { scripts: Record<string, string> }).scripts;
  const out = execFileSync(process.execPath, [...backtestNodeFlags(scripts['backtest']!), '--import', 'tsx', CHILD, dir], { encoding: 'utf8', maxBuffer: 1 << 20, env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'SILENT' } });
  return JSON.parse(out.trim().split('\n').at(-1)!) as ChildResult;
}

export async function benchBacktest(options: { candles1Symbol: number; days10Symbols: number; full: boolean }): Promise<BacktestBench> {
  const root = mkdtempSync(join(tmpdir(), 'tw-bench-backtest-'));
  try {
    const one = join(root, 'one');
    mkdirSync(one);
    await writeCandleFile(one, { symbol: 'BTC/USDT', start: T0, candles: options.candles1Symbol, startPrice: 60000 });
    const single = runChild(one);

    const ten = join(root, 'ten');
    mkdirSync(ten);
    const perSymbol = options.full ? YEAR_CANDLES : options.days10Symbols * 1440;
    for (let i = 0; i < 10; i += 1) await writeCandleFile(ten, { symbol: `C${i}/USDT`, start: T0, candles: perSymbol, startPrice: 10 + i * 10, seed: `bench-${i}` });
    const multi = runChild(ten);
    const yearSeconds = options.full ? multi.seconds : (multi.seconds * YEAR_CANDLES) / perSymbol;
    return {
      candlesPerSecond: Math.round(single.candles / single.seconds),
      candles1Symbol: single.candles,
      seconds10Symbols1Year: Number(yearSeconds.toFixed(1)),
      seconds10Symbols1YearMeasured: options.full,
      candles10Symbols: multi.candles,
      days10Symbols: perSymbol / 1440,
      peakRssMb: Math.round(multi.maxRssKb / 1024),
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
