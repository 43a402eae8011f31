/**
 * `npm run bench`: prints the benchmark tables. Numbers depend on the machine; compare ratios
 * measured in one run. Not a test: nothing here asserts a time.
 *
 *   --quick          smaller runs
 *   --json           one JSON object on stdout, one key per section (progress on stderr)
 *   --only a,b       only these sections (executor, paperScanner, scanner, health, bundles)
 */
import { cpus, totalmem } from 'node:os';
import { benchExecutor } from './executor.js';
import { benchHealth } from './health.js';
import { benchScanner } from './scanner.js';
import { benchScannerLatency } from './scanner-latency.js';
import { measureBundles } from '../infra/bench/bundle-sizes.js';

process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.POWERTOOLS_TRACE_ENABLED ??= 'false';
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';

const fmt = (n: number, digits = 1) => n.toFixed(digits);

/** One section: runs, stores its figures under its key, prints its table unless --json. */
type Section = (options: { quick: boolean; print: (line: string) => void }) => Promise<unknown>;

const SECTIONS: Readonly<Record<string, Section>> = {
  async executor({ quick, print }) {
    const ex = await benchExecutor(quick ? 40 : 200);
    print('\nExecutor on embedded emulators (dynalite + fauxqs)');
    print('| metric | value |\n| --- | --- |');
    print(`| intents per run | ${ex.intents} |`);
    print(`| DynamoDB requests per executed intent (1 worker) | ${fmt(ex.dynamoRequestsPerIntent)} |`);
    print(`| intents/s, 1 worker | ${fmt(ex.intentsPerSecond[1] ?? 0)} |`);
    print(`| intents/s, 8 workers | ${fmt(ex.intentsPerSecond[8] ?? 0)} |`);
    print(`| emulator conditional puts/s (8 in flight) | ${fmt(ex.conditionalWritesPerSecond, 0)} |`);
    print(`| conditional puts per second / intents per second (8 workers) | ${fmt(ex.conditionalWritesPerSecond / (ex.intentsPerSecond[8] ?? 1))} |`);
    return ex;
  },
  async paperScanner({ quick, print }) {
    const sc = await benchScanner(quick ? [10, 100] : [10, 100, 1000], quick ? 3 : 5);
    print('\nScanner per scan (dry run, paper exchange on the synthetic market, emulators in process)');
    print('| symbols | exchange requests | CPU ms (process) | wall ms |\n| --- | --- | --- | --- |');
    for (const r of sc) print(`| ${r.symbols} | ${fmt(r.exchangeRequestsPerScan)} | ${fmt(r.cpuMsPerScan)} | ${fmt(r.wallMsPerScan)} |`);
    return sc;
  },
  async scanner({ quick, print }) {
    const sc = await benchScannerLatency([100, 1000], { latencyMs: 50, scans: quick ? 2 : 5 });
    print('\nScanner per scan against an exchange double: 50 ms per request, Binance weights enforced, one new candle per symbol');
    print('| symbols | latency ms | wall ms | requests | weight | scanner CPU ms | market simulation CPU ms | evaluated | failed | not reached |');
    print('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const r of sc) {
      print(
        `| ${r.symbols} | ${r.latencyMs} | ${fmt(r.wallMsPerScan)} | ${fmt(r.requestsPerScan)} | ${fmt(r.weightPerScan)} | ${fmt(r.scannerCpuMsPerScan)} | ${fmt(r.marketSimCpuMsPerScan)} | ${fmt(r.symbolsEvaluatedPerScan)} | ${fmt(r.symbolsFailedPerScan)} | ${fmt(r.symbolsUnreachedPerScan)} |`,
      );
    }
    return sc;
  },
  async health({ quick, print }) {
    const h = await benchHealth(quick ? [1000, 10_000] : [1000, 100_000]);
    print('\nHealth: DynamoDB read units per run by stored orders (dynalite reports consumed capacity)');
    print('| stored orders | read units per run | read requests per run | the former lock table scan, read units |\n| --- | --- | --- | --- |');
    for (const r of h) print(`| ${r.storedOrders} | ${fmt(r.readUnitsPerRun)} | ${fmt(r.readRequestsPerRun)} | ${fmt(r.tableScanReadUnits)} |`);
    return h;
  },
  async bundles({ quick, print }) {
    const bundles = await measureBundles({ samples: quick ? 3 : 7 });
    const bare = bundles.find((b) => b.name === 'bare-logger');
    print('\nFunction bundles (esbuild, minified, as deployed) next to a bare Powertools handler');
    print('| bundle | KB | gzip KB | cold load ms (median) | size x bare | load x bare |\n| --- | --- | --- | --- | --- | --- |');
    for (const b of bundles) {
      const sizeRatio = bare ? b.bytes / bare.bytes : 0;
      const loadRatio = bare ? b.coldLoad.medianMs / bare.coldLoad.medianMs : 0;
      print(`| ${b.name} | ${fmt(b.bytes / 1024, 0)} | ${fmt(b.gzipBytes / 1024, 0)} | ${fmt(b.coldLoad.medianMs)} | ${fmt(sizeRatio)} | ${fmt(loadRatio)} |`);
    }
    return bundles;
  },
};

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const quick = argv.includes('--quick');
  const json = argv.includes('--json');
  const onlyAt = argv.indexOf('--only');
  const only = onlyAt >= 0 ? (argv[onlyAt + 1] ?? '').split(',').filter((s) => s.length > 0) : Object.keys(SECTIONS);
  const unknown = only.filter((name) => !SECTIONS[name]);
  if (unknown.length > 0) throw new Error(`unknown bench section ${unknown.join(', ')}; known: ${Object.keys(SECTIONS).join(', ')}`);
  // With --json, stdout carries the one JSON object only; tables and progress go to stderr.
  const print = json ? (line: string) => console.error(line) : (line: string) => console.log(line);
  const machine = { cpus: cpus().length, model: cpus()[0]?.model ?? 'cpu', memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
  print(`machine: ${machine.cpus} x ${machine.model}, ${machine.memoryGiB} GiB, node ${machine.node}`);
  const report: Record<string, unknown> = { machine };
  for (const name of only) report[name] = await SECTIONS[name]?.({ quick, print });
  if (json) console.log(JSON.stringify(report));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
