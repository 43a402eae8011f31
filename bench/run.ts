/**
 * `npm run bench`: prints the benchmark tables; `npm run bench -- --json` prints one JSON object
 * instead, one key per section (`machine`, `executor`, `scanner`, `bundles`, ...). Numbers depend
 * on the machine: compare ratios measured in one run. Not a test: nothing here asserts a time.
 *
 * Sections: `executor`, `scanner` (the scanner against an exchange double with 50 ms per request
 * and Binance weights enforced, at 100 and 1000 symbols), `health` (read units per run by stored
 * orders), `backtest`, `usage`, `bundles`; `paperScanner` (the scanner on the in-process paper
 * exchange, no latency) runs only when named in `--only`. The ten-symbol backtest covers a full
 * year (with `--quick`, 7 days and the year extrapolated).
 *
 * Options: `--quick` (smaller runs), `--only a,b` (only these sections), `--baseline DIR` (also
 * bundle the handlers of another checkout, e.g. a worktree of an older commit, with that
 * checkout's own bundle specification, for before/after tables: `bundlesBaseline`), `--write-usage` (store the `usage` section, the billable requests
 * of one run of each function, in infra/cost/measured-usage.json for `npm run cost`).
 */
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { benchExecutor } from './executor.js';
import { BACKTEST_CANDLES, BACKTEST_QUICK_CANDLES, BACKTEST_QUICK_DAYS, benchBacktest } from './backtest.js';
import { benchHealth } from './health.js';
import { benchScanner } from './scanner.js';
import { benchScannerLatency } from './scanner-latency.js';
import { measureUsage } from './usage.js';
import { MEASURED_USAGE_FILE } from '../infra/cost/measured-usage.js';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import type { BundleSpec } from '../infra/bundling/esbuild-options.js';
import { measureBundles, type BundleMeasurement } from '../infra/bench/bundle-sizes.js';

process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.POWERTOOLS_TRACE_ENABLED ??= 'false';
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';

const fmt = (n: number, digits = 1) => n.toFixed(digits);

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** The `bundles` section: one entry per function bundle. */
function bundleRows(bundles: readonly BundleMeasurement[]) {
  return bundles.map((b) => ({
    name: b.name,
    kb: Math.round(b.bytes / 1024),
    gzipKb: Math.round(b.gzipBytes / 1024),
    coldLoadMs: b.coldLoad.medianMs,
    loadVsFloor: b.loadVsFloor ?? null,
    coldLoadCpuMs: b.coldLoad.medianCpuMs,
    loadVsFloorCpu: b.loadVsFloorCpu ?? null,
    floorColdLoadMs: b.floor?.coldLoad.medianMs ?? null,
    floorColdLoadCpuMs: b.floor?.coldLoad.medianCpuMs ?? null,
    floorKb: b.floor ? Math.round(b.floor.bytes / 1024) : null,
    floorPackages: b.floor?.packages ?? [],
  }));
}

function printBundles(title: string, rows: ReturnType<typeof bundleRows>): void {
  console.log(`\n${title}`);
  console.log('| bundle | KB | gzip KB | cold load ms (median) | floor ms | load x floor | CPU ms | floor CPU ms | CPU x floor | floor KB |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) {
    console.log(
      `| ${r.name} | ${r.kb} | ${r.gzipKb} | ${fmt(r.coldLoadMs)} | ${r.floorColdLoadMs ?? '-'} | ${r.loadVsFloor ?? '-'} | ${fmt(r.coldLoadCpuMs)} | ${r.floorColdLoadCpuMs ?? '-'} | ${r.loadVsFloorCpu ?? '-'} | ${r.floorKb ?? '-'} |`,
    );
  }
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const json = process.argv.includes('--json');
  const only = option('--only')?.split(',');
  const wanted = (section: string) => !only || only.includes(section);
  const known = ['executor', 'scanner', 'paperScanner', 'health', 'backtest', 'usage', 'bundles'];
  const unknown = (only ?? []).filter((name) => !known.includes(name));
  if (unknown.length > 0) throw new Error(`unknown bench section ${unknown.join(', ')}; known: ${known.join(', ')}`);
  const baseline = option('--baseline');
  const log = json ? () => undefined : (line: string) => console.log(line);
  const report: Record<string, unknown> = {
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'cpu', memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
  };
  log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${fmt(totalmem() / 2 ** 30, 0)} GiB, node ${process.version}`);

  if (wanted('executor')) {
    const ex = await benchExecutor(quick ? 40 : 200);
    report.executor = {
      intents: ex.intents,
      dynamoRequestsPerIntent: round(ex.dynamoRequestsPerIntent),
      roundTripsBeforeSend: ex.roundTripsBeforeSend,
      intentsPerSecond1Worker: round(ex.intentsPerSecond[1] ?? 0),
      intentsPerSecond8Workers: round(ex.intentsPerSecond[8] ?? 0),
      conditionalWritesPerSecond: Math.round(ex.conditionalWritesPerSecond),
      requestsPerIntentByOperation: ex.requestsPerIntentByOperation,
    };
    log('\nExecutor on embedded emulators (dynalite + fauxqs)');
    log('| metric | value |\n| --- | --- |');
    log(`| intents per run | ${ex.intents} |`);
    log(`| DynamoDB requests per executed intent (1 worker) | ${fmt(ex.dynamoRequestsPerIntent)} |`);
    log(`| sequential DynamoDB round trips before the exchange call | ${ex.roundTripsBeforeSend} |`);
    log(`| intents/s, 1 worker | ${fmt(ex.intentsPerSecond[1] ?? 0)} |`);
    log(`| intents/s, 8 workers | ${fmt(ex.intentsPerSecond[8] ?? 0)} |`);
    log(`| emulator conditional puts/s (8 in flight) | ${fmt(ex.conditionalWritesPerSecond, 0)} |`);
    log(`| requests per intent by operation | ${Object.entries(ex.requestsPerIntentByOperation).map(([k, v]) => `${k} ${fmt(v)}`).join(', ')} |`);
  }

  if (wanted('scanner')) {
    // One new candle per symbol per scan, 50 ms per request, the exchange's weight limit enforced;
    // the simulated market's CPU is measured apart so `scannerCpuMsPerScan` is the scanner alone.
    const sc = await benchScannerLatency([100, 1000], { latencyMs: 50, scans: quick ? 2 : 5 });
    report.scanner = sc;
    log('\nScanner per scan against an exchange double: 50 ms per request, Binance weights enforced, one new candle per symbol');
    log('| symbols | latency ms | wall ms | requests | weight | scanner CPU ms | market simulation CPU ms | evaluated | failed | not reached |');
    log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const r of sc) {
      log(
        `| ${r.symbols} | ${r.latencyMs} | ${fmt(r.wallMsPerScan)} | ${fmt(r.requestsPerScan)} | ${fmt(r.weightPerScan)} | ${fmt(r.scannerCpuMsPerScan)} | ${fmt(r.marketSimCpuMsPerScan)} | ${fmt(r.symbolsEvaluatedPerScan)} | ${fmt(r.symbolsFailedPerScan)} | ${fmt(r.symbolsUnreachedPerScan)} |`,
      );
    }
  }

  if (only?.includes('paperScanner')) {
    const sc = await benchScanner(quick ? [10, 100] : [10, 100, 1000], quick ? 3 : 5);
    report.paperScanner = sc;
    log('\nScanner per scan (dry run, paper exchange on the synthetic market, no latency)');
    log('| symbols | exchange requests | CPU ms (process) | wall ms |\n| --- | --- | --- | --- |');
    for (const r of sc) log(`| ${r.symbols} | ${fmt(r.exchangeRequestsPerScan)} | ${fmt(r.cpuMsPerScan)} | ${fmt(r.wallMsPerScan)} |`);
  }

  if (wanted('health')) {
    const h = await benchHealth(quick ? [1000, 10_000] : [1000, 100_000]);
    report.health = h;
    log('\nHealth: DynamoDB read units per run by stored orders (dynalite reports consumed capacity)');
    log('| stored orders | read units per run | read requests per run | the former lock table scan, read units |\n| --- | --- | --- | --- |');
    for (const r of h) log(`| ${r.storedOrders} | ${fmt(r.readUnitsPerRun)} | ${fmt(r.readRequestsPerRun)} | ${fmt(r.tableScanReadUnits)} |`);
  }

  if (wanted('backtest')) {
    const bt = await benchBacktest({ candles1Symbol: quick ? BACKTEST_QUICK_CANDLES : BACKTEST_CANDLES, days10Symbols: quick ? BACKTEST_QUICK_DAYS : 365 });
    report.backtest = bt;
    log('\nBacktest (price-drop, child process per run)');
    log('| metric | value |\n| --- | --- |');
    log(`| candles per second, 1 symbol (${bt.candles1Symbol} candles; median of ${bt.candlesPerSecondRuns.join(', ')}) | ${fmt(bt.candlesPerSecond, 0)} |`);
    const b = bt.breakdown1Symbol;
    log(`| where a 1-symbol run's ${fmt(b.seconds * 1000, 0)} ms go (${b.steps} steps, ${b.scans} scans, ${b.intents} intents), ms | read ${b.readMs}, market ${b.marketMs}, booking ${b.bookingMs}, gate ${b.gateMs}, scan ${b.scanMs}, execute ${b.executeMs}, equity ${b.equityMs}, report ${b.reportMs} |`);
    log(`| seconds for 10 symbols x 1 year${bt.seconds10Symbols1YearMeasured ? '' : ' (extrapolated)'} | ${fmt(bt.seconds10Symbols1Year)} |`);
    log(`| peak RSS MB (${bt.candles10Symbols} candles, 10 symbols x ${fmt(bt.days10Symbols)} days) | ${fmt(bt.peakRssMb)} |`);
  }

  if (wanted('usage') || process.argv.includes('--write-usage')) {
    const usage = await measureUsage(quick ? 3 : 5);
    // Scanner time per extra watched symbol, for profiles with longer watchlists.
    const [small, large] = await benchScanner([10, 1000], 2);
    const scannerMsPerSymbol = small && large ? Math.max(0, (large.wallMsPerScan - small.wallMsPerScan) / (large.symbols - small.symbols)) : 0;
    const section = { ...usage, scannerMsPerSymbol: Math.round(scannerMsPerSymbol * 100) / 100 };
    report.usage = section;
    log('\nBillable usage of one run (embedded stack, default settings)');
    log('| run | ms | DynamoDB RRU | DynamoDB WRU | DynamoDB requests | SQS requests | events |\n| --- | --- | --- | --- | --- | --- | --- |');
    for (const [job, r] of Object.entries(usage.perRun)) {
      log(`| ${job} | ${fmt(r.durationMs)} | ${fmt(r.dynamoReadUnits)} | ${fmt(r.dynamoWriteUnits)} | ${fmt(r.dynamoRequests)} | ${fmt(r.sqsRequests)} | ${fmt(r.eventsPublished, 2)} |`);
    }
    log(`custom metric series: ${usage.metricSeries.map((m) => `${m.series} ${m.share}`).join(', ')}; health read units per stored order: ${usage.healthReadUnitsPerStoredOrder}`);
    if (process.argv.includes('--write-usage')) {
      writeFileSync(MEASURED_USAGE_FILE, `${JSON.stringify(section, null, 2)}\n`);
      log(`wrote ${MEASURED_USAGE_FILE}`);
    }
  }

  if (wanted('bundles')) {
    const samples = quick ? 3 : 9;
    const rows = bundleRows(await measureBundles({ samples }));
    report.bundles = rows;
    if (!json) printBundles('Function bundles (esbuild, minified, as deployed), each next to its floor', rows);
    if (baseline) {
      const before = bundleRows(await measureBundles({ samples, projectRoot: baseline, spec: await baselineSpec(baseline) }));
      report.bundlesBaseline = before;
      if (!json) printBundles(`Baseline: the same from ${baseline}`, before);
    }
  }

  if (json) console.log(JSON.stringify(report, null, 2));
}

/**
 * The baseline checkout's own bundle specification (its `infra/bundling/esbuild-options.ts`), so
 * its bundles are built as that commit deploys them: no exchange in paper mode, the configured
 * one in live mode.
 */
async function baselineSpec(baseline: string): Promise<(mode: 'paper' | 'live', exchangeId: string) => BundleSpec> {
  const own = (await import(pathToFileURL(join(baseline, 'infra', 'bundling', 'esbuild-options.ts')).href)) as {
    bundleSpec: (exchangeId: string | undefined, projectRoot: string) => BundleSpec;
  };
  return (mode, exchangeId) => own.bundleSpec(mode === 'live' ? exchangeId : undefined, baseline);
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
