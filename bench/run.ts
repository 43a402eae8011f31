/**
 * `npm run bench`: prints the benchmark tables. Numbers depend on the machine; compare ratios
 * measured in one run. Not a test: nothing here asserts a time.
 */
import { cpus, totalmem } from 'node:os';
import { benchExecutor } from './executor.js';
import { benchScanner } from './scanner.js';
import { measureBundles } from '../infra/bench/bundle-sizes.js';

process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.POWERTOOLS_TRACE_ENABLED ??= 'false';
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';

const fmt = (n: number, digits = 1) => n.toFixed(digits);

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  console.log(`machine: ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${fmt(totalmem() / 2 ** 30, 0)} GiB, node ${process.version}`);

  const ex = await benchExecutor(quick ? 40 : 200);
  console.log('\nExecutor on embedded emulators (dynalite + fauxqs)');
  console.log('| metric | value |\n| --- | --- |');
  console.log(`| intents per run | ${ex.intents} |`);
  console.log(`| DynamoDB requests per executed intent (1 worker) | ${fmt(ex.dynamoRequestsPerIntent)} |`);
  console.log(`| intents/s, 1 worker | ${fmt(ex.intentsPerSecond[1] ?? 0)} |`);
  console.log(`| intents/s, 8 workers | ${fmt(ex.intentsPerSecond[8] ?? 0)} |`);
  console.log(`| emulator conditional puts/s (8 in flight) | ${fmt(ex.conditionalWritesPerSecond, 0)} |`);
  console.log(`| conditional puts per second / intents per second (8 workers) | ${fmt(ex.conditionalWritesPerSecond / (ex.intentsPerSecond[8] ?? 1))} |`);

  const sc = await benchScanner(quick ? [10, 100] : [10, 100, 1000], quick ? 3 : 5);
  console.log('\nScanner per scan (dry run, paper exchange on the synthetic market)');
  console.log('| symbols | exchange requests | CPU ms (process) | wall ms |\n| --- | --- | --- | --- |');
  for (const r of sc) console.log(`| ${r.symbols} | ${fmt(r.exchangeRequestsPerScan)} | ${fmt(r.cpuMsPerScan)} | ${fmt(r.wallMsPerScan)} |`);

  const bundles = await measureBundles({ samples: quick ? 3 : 7 });
  const bare = bundles.find((b) => b.name === 'bare-logger');
  console.log('\nFunction bundles (esbuild, minified, as deployed) next to a bare Powertools handler');
  console.log('| bundle | KB | gzip KB | cold load ms (median) | size x bare | load x bare |\n| --- | --- | --- | --- | --- | --- |');
  for (const b of bundles) {
    const sizeRatio = bare ? b.bytes / bare.bytes : 0;
    const loadRatio = bare ? b.coldLoad.medianMs / bare.coldLoad.medianMs : 0;
    console.log(`| ${b.name} | ${fmt(b.bytes / 1024, 0)} | ${fmt(b.gzipBytes / 1024, 0)} | ${fmt(b.coldLoad.medianMs)} | ${fmt(sizeRatio)} | ${fmt(loadRatio)} |`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
