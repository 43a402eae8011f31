/**
 * Bundle size and cold-load benchmark (HLT-6). Bundles every function with exactly the esbuild
 * options the CDK functions use (infra/bundling/esbuild-options.ts), plus a bare handler that
 * imports only the Powertools logger as a floor to compare against, then measures each bundle:
 * bytes on disk, gzip bytes (about what the deployment zip adds) and the time to import it in a
 * fresh Node process (module evaluation, including each handler's cold-start wiring).
 *
 * Used by `npm run bench`; no AWS access needed: the functions get a valid configuration with
 * placeholder resource names, and nothing is called at import time.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { JOBS, type JobName } from '../../shared/definitions/schedules.js';
import { bundleSpec, esbuildBuildOptions, handlerEntry, PROJECT_ROOT } from '../bundling/esbuild-options.js';
import { functionEnvironment } from '../config/function-environment.js';
import { resolveDeploymentConfig } from '../config/stages.js';

const run = promisify(execFile);

/** Name of the comparison bundle. */
export const BARE_LOGGER = 'bare-logger';

/** A handler that does nothing but log through Powertools: the smallest realistic function. */
const BARE_LOGGER_SOURCE = `import { Logger } from '@aws-lambda-powertools/logger';
const logger = new Logger({ serviceName: '${BARE_LOGGER}' });
export const handler = async (event: unknown) => { logger.info('invoked', { event }); return { ok: true }; };
`;

/** Resource names and URLs the bundles are configured with; never contacted. */
const PLACEHOLDER_RESOURCES = {
  stateTable: 'bench-state',
  auditTable: 'bench-audit',
  idempotencyTable: 'bench-idempotency',
  paperTable: 'bench-paper',
  executionQueueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/bench-ExecutionQueue.fifo',
  executionDlqUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/bench-ExecutionDlq.fifo',
  eventBusName: 'bench-bus',
  exchangeSecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:bench-keys',
} as const;

/** Measures one module import in a fresh process and prints the milliseconds. */
const IMPORT_PROBE = `const started = performance.now();
await import(process.argv[1]);
process.stdout.write(String(performance.now() - started));`;

export interface ColdLoad {
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly samplesMs: readonly number[];
}

export interface BundleMeasurement {
  /** Job name, or `bare-logger`. */
  readonly name: string;
  /** Size of the bundled `index.mjs`. */
  readonly bytes: number;
  /** Gzip-compressed size of `index.mjs`. */
  readonly gzipBytes: number;
  /** Size of the source map deployed next to it. */
  readonly sourceMapBytes: number;
  readonly coldLoad: ColdLoad;
}

export interface MeasureBundlesOptions {
  /**
   * Jobs to bundle; a job whose handler file does not exist is skipped.
   * @default every job
   */
  readonly jobs?: readonly JobName[];
  /**
   * Stage whose configuration (exchange id, settings) is used.
   * @default 'dev'
   */
  readonly stage?: string;
  /**
   * Fresh-process imports per bundle; the median is reported.
   * @default 5
   */
  readonly samples?: number;
  /**
   * Include the bare Powertools-logger handler.
   * @default true
   */
  readonly includeBareLogger?: boolean;
}

/**
 * Bundles and measures each function.
 * @returns one measurement per bundle, in job order, the bare handler last.
 */
export async function measureBundles(options: MeasureBundlesOptions = {}): Promise<BundleMeasurement[]> {
  const config = resolveDeploymentConfig({ stage: options.stage });
  const spec = bundleSpec(config.exchangeId);
  const samples = options.samples ?? 5;
  const outRoot = mkdtempSync(join(tmpdir(), 'tradewarden-bench-'));
  try {
    const results: BundleMeasurement[] = [];
    for (const job of options.jobs ?? JOBS) {
      const entry = handlerEntry(job);
      if (!existsSync(entry)) continue;
      const outfile = join(outRoot, job, 'index.mjs');
      await build(esbuildBuildOptions(spec, entry, outfile));
      const env = { ...functionEnvironment(config, job, PLACEHOLDER_RESOURCES), AWS_REGION: 'us-east-1' };
      results.push(await measure(job, outfile, env, samples));
    }
    if (options.includeBareLogger ?? true) {
      const outfile = join(outRoot, BARE_LOGGER, 'index.mjs');
      const bare = esbuildBuildOptions(spec, '', outfile);
      delete bare.entryPoints;
      await build({ ...bare, stdin: { contents: BARE_LOGGER_SOURCE, resolveDir: PROJECT_ROOT, sourcefile: `${BARE_LOGGER}.ts`, loader: 'ts' } });
      results.push(await measure(BARE_LOGGER, outfile, { AWS_REGION: 'us-east-1' }, samples));
    }
    return results;
  } finally {
    rmSync(outRoot, { recursive: true, force: true });
  }
}

async function measure(name: string, outfile: string, env: Record<string, string>, samples: number): Promise<BundleMeasurement> {
  const code = readFileSync(outfile);
  const mapFile = `${outfile}.map`;
  const samplesMs: number[] = [];
  for (let i = 0; i < samples; i += 1) samplesMs.push(await coldLoadMs(outfile, env));
  const sorted = [...samplesMs].sort((a, b) => a - b);
  return {
    name,
    bytes: code.byteLength,
    gzipBytes: gzipSync(code).byteLength,
    sourceMapBytes: existsSync(mapFile) ? statSync(mapFile).size : 0,
    coldLoad: {
      medianMs: round(sorted[Math.floor(sorted.length / 2)] ?? Number.NaN),
      minMs: round(sorted[0] ?? Number.NaN),
      maxMs: round(sorted[sorted.length - 1] ?? Number.NaN),
      samplesMs: samplesMs.map(round),
    },
  };
}

/** Imports the bundle in a new Node process with only the function's environment. */
async function coldLoadMs(outfile: string, env: Record<string, string>): Promise<number> {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', IMPORT_PROBE, pathToFileURL(outfile).href], {
    env: { PATH: process.env.PATH ?? '', ...env },
  });
  const ms = Number(stdout.trim());
  if (!Number.isFinite(ms)) throw new Error(`cold load of ${outfile} printed ${JSON.stringify(stdout)}`);
  return ms;
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
