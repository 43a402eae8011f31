/**
 * Bundle size and cold-load benchmark (HLT-6, PERF-3). Bundles every function with exactly the
 * esbuild options the CDK functions use (infra/bundling/esbuild-options.ts) and measures each
 * bundle: bytes on disk, gzip bytes (about what the deployment zip adds) and the time to import
 * it in a fresh Node process (module evaluation, including each handler's cold-start wiring).
 *
 * Each function is compared with its own floor: a handler built with the same options that
 * imports and constructs the AWS SDK clients and Powertools utilities the function's bundle
 * contains (read from esbuild's metafile, so the floor cannot drift from the code), and nothing
 * else. `loadVsFloor` is the function's cold load over the floor's, timed back to back.
 * `loadVsFloorCpu` is the same ratio of the CPU time the import used (all of the process's
 * threads): on a shared machine a process waits for a core, which adds to the wall time of one
 * sample and not the other, while the CPU time is the work the code itself costs.
 *
 * Used by `npm run bench`; no AWS access needed: the functions get a valid configuration with
 * placeholder resource names, and nothing is called at import time except, in live mode, the
 * API key secret, which a local stand-in for Secrets Manager answers.
 */
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';
import { JOBS, type JobName } from '../../shared/definitions/schedules.js';
import { bundleSpec, esbuildBuildOptions, handlerEntry, PROJECT_ROOT, type BundleSpec } from '../bundling/esbuild-options.js';
import { functionEnvironment } from '../config/function-environment.js';
import { resolveDeploymentConfig } from '../config/stages.js';

const run = promisify(execFile);

/** Name of the comparison bundle that only logs. */
export const BARE_LOGGER = 'bare-logger';

/** A handler that does nothing but log through Powertools: the smallest realistic function. */
const BARE_LOGGER_SOURCE = `import { Logger } from '@aws-lambda-powertools/logger';
const logger = new Logger({ serviceName: '${BARE_LOGGER}' });
export const handler = async (event: unknown) => { logger.info('invoked', { event }); return { ok: true }; };
`;

/**
 * What a floor handler does for each SDK client or Powertools utility a function bundles:
 * import it and build it once, as a function would at module scope.
 */
const FLOOR_PARTS: Readonly<Record<string, { readonly code: string; readonly onlyWhenTracing?: boolean; readonly onlyWhenLive?: boolean }>> = {
  '@aws-sdk/client-dynamodb': { code: "import { DynamoDBClient } from '@aws-sdk/client-dynamodb'; used.push(new DynamoDBClient({}));" },
  '@aws-sdk/lib-dynamodb': {
    code: "import { DynamoDBClient as DocBase } from '@aws-sdk/client-dynamodb'; import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb'; used.push(DynamoDBDocumentClient.from(new DocBase({})));",
  },
  '@aws-sdk/client-sqs': { code: "import { SQSClient } from '@aws-sdk/client-sqs'; used.push(new SQSClient({}));" },
  '@aws-sdk/client-eventbridge': { code: "import { EventBridgeClient } from '@aws-sdk/client-eventbridge'; used.push(new EventBridgeClient({}));" },
  '@aws-sdk/client-secrets-manager': {
    code: "import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager'; used.push(new SecretsManagerClient({}));",
    onlyWhenLive: true,
  },
  '@aws-sdk/client-s3': { code: "import { S3Client } from '@aws-sdk/client-s3'; used.push(new S3Client({}));" },
  '@aws-sdk/client-cloudwatch': { code: "import { CloudWatchClient } from '@aws-sdk/client-cloudwatch'; used.push(new CloudWatchClient({}));" },
  '@aws-lambda-powertools/logger': { code: "import { Logger } from '@aws-lambda-powertools/logger'; used.push(new Logger({ serviceName: 'floor' }));" },
  '@aws-lambda-powertools/metrics': { code: "import { Metrics } from '@aws-lambda-powertools/metrics'; used.push(new Metrics({ namespace: 'Floor' }));" },
  '@aws-lambda-powertools/tracer': {
    code: "import { Tracer } from '@aws-lambda-powertools/tracer'; used.push(new Tracer({ serviceName: 'floor' }));",
    onlyWhenTracing: true,
  },
  '@aws-lambda-powertools/batch': { code: "import { SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch'; used.push(new SqsFifoPartialProcessorAsync());" },
};

/** Resource names and URLs the bundles are configured with; never contacted. */
export const PLACEHOLDER_RESOURCES = {
  stateTable: 'bench-state',
  auditTable: 'bench-audit',
  idempotencyTable: 'bench-idempotency',
  paperTable: 'bench-paper',
  executionQueueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/bench-ExecutionQueue.fifo',
  executionDlqUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/bench-ExecutionDlq.fifo',
  eventBusName: 'bench-bus',
  exchangeSecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:bench-keys',
} as const;

/** Measures one module import in a fresh process and prints its wall and CPU milliseconds. */
const IMPORT_PROBE = `const started = performance.now();
const cpu = process.cpuUsage();
await import(process.argv[1]);
const used = process.cpuUsage(cpu);
process.stdout.write(String(performance.now() - started) + ' ' + String((used.user + used.system) / 1000));`;

export interface ColdLoad {
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly samplesMs: readonly number[];
  /** CPU time of the import (user + system, every thread of the process), median and samples. */
  readonly medianCpuMs: number;
  readonly samplesCpuMs: readonly number[];
}

/** One sample: the import's wall time and the CPU time it used. */
interface LoadSample {
  readonly wallMs: number;
  readonly cpuMs: number;
}

export interface BundleMeasurement {
  /** Job name (`-live` for a live-mode bundle), or `bare-logger`. */
  readonly name: string;
  /** Size of the bundled `index.mjs`. */
  readonly bytes: number;
  /** Gzip-compressed size of `index.mjs`. */
  readonly gzipBytes: number;
  /** Size of the source map deployed next to it. */
  readonly sourceMapBytes: number;
  readonly coldLoad: ColdLoad;
  /** The floor handler of this function (absent for `bare-logger`). */
  readonly floor?: { readonly packages: readonly string[]; readonly bytes: number; readonly coldLoad: ColdLoad };
  /** Cold load over the floor's: the median of ratios of back-to-back samples. */
  readonly loadVsFloor?: number;
  /** The same ratio of CPU times. */
  readonly loadVsFloorCpu?: number;
}

/** One function bundle to measure. */
export interface BundleTarget {
  readonly job: JobName;
  /** Trading mode of the deployment the bundle is built for. */
  readonly mode: 'paper' | 'live';
}

/** Every job in paper mode (the default deployment), and the executor in live mode. */
export const DEFAULT_TARGETS: readonly BundleTarget[] = [...JOBS.map((job) => ({ job, mode: 'paper' as const })), { job: 'executor', mode: 'live' }];

export interface MeasureBundlesOptions {
  /**
   * Bundles to build; a job whose handler file does not exist is skipped.
   * @default DEFAULT_TARGETS
   */
  readonly targets?: readonly BundleTarget[];
  /**
   * Stage whose configuration (exchange id, settings, tracing) is used.
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
  /**
   * Build and compare each function with its floor.
   * @default true
   */
  readonly floors?: boolean;
  /**
   * Checkout whose handlers are bundled (another commit's worktree, for before/after tables).
   * @default this repository
   */
  readonly projectRoot?: string;
  /**
   * Bundle specification per mode.
   * @default bundleSpec: no exchange in paper mode, the configured one in live mode
   */
  readonly spec?: (mode: 'paper' | 'live', exchangeId: string) => BundleSpec;
}

/**
 * Bundles and measures each function.
 * @returns one measurement per target, in order, the bare handler last.
 */
export async function measureBundles(options: MeasureBundlesOptions = {}): Promise<BundleMeasurement[]> {
  const projectRoot = options.projectRoot ?? PROJECT_ROOT;
  const specFor = options.spec ?? ((mode, exchangeId) => bundleSpec(mode === 'live' ? exchangeId : undefined, projectRoot));
  const samples = options.samples ?? 5;
  const outRoot = mkdtempSync(join(tmpdir(), 'tradewarden-bench-'));
  const secrets = await startSecretsStandIn();
  try {
    const results: BundleMeasurement[] = [];
    for (const target of options.targets ?? DEFAULT_TARGETS) {
      const { job, mode } = target;
      const entry = handlerEntry(job, projectRoot);
      if (!existsSync(entry)) continue;
      const config = resolveDeploymentConfig({ stage: options.stage, ...(mode === 'live' ? { live: true, alarmEmail: 'bench@example.com' } : {}) });
      const spec = specFor(mode, config.exchangeId);
      const name = mode === 'live' ? `${job}-live` : job;
      const outfile = join(outRoot, name, 'index.mjs');
      const built = await build({ ...esbuildBuildOptions(spec, entry, outfile, projectRoot), metafile: true });
      const env: Record<string, string> = {
        ...functionEnvironment(config, job, PLACEHOLDER_RESOURCES),
        AWS_REGION: 'us-east-1',
        ...(mode === 'live' ? secrets.env : {}),
      };
      if (options.floors === false) {
        results.push(await measure(name, outfile, env, samples));
        continue;
      }
      const packages = floorPackages(built.metafile, { tracing: env['POWERTOOLS_TRACE_ENABLED'] === 'true', live: mode === 'live' });
      const floorFile = join(outRoot, `${name}-floor`, 'index.mjs');
      await buildFromSource(spec, floorSource(packages), floorFile, projectRoot);
      const [measured, floor, loadVsFloor, loadVsFloorCpu] = await measureAgainstFloor(name, outfile, floorFile, env, samples);
      results.push({ ...measured, floor: { packages, bytes: floor.bytes, coldLoad: floor.coldLoad }, loadVsFloor, loadVsFloorCpu });
    }
    if (options.includeBareLogger ?? true) {
      const outfile = join(outRoot, BARE_LOGGER, 'index.mjs');
      await buildFromSource(specFor('paper', 'binance'), BARE_LOGGER_SOURCE, outfile, projectRoot);
      results.push(await measure(BARE_LOGGER, outfile, { AWS_REGION: 'us-east-1' }, samples));
    }
    return results;
  } finally {
    await secrets.stop();
    rmSync(outRoot, { recursive: true, force: true });
  }
}

/**
 * The SDK clients and Powertools utilities a bundle contains, as keys of FLOOR_PARTS; those a
 * bundle loads only with tracing on or in live mode count only then.
 */
export function floorPackages(metafile: Metafile, loaded: { tracing: boolean; live: boolean }): string[] {
  const inputs = Object.keys(metafile.inputs);
  return Object.entries(FLOOR_PARTS)
    .filter(([, part]) => (loaded.tracing || !part.onlyWhenTracing) && (loaded.live || !part.onlyWhenLive))
    .filter(([pkg]) => inputs.some((path) => path.includes(`node_modules/${pkg}/`)))
    .map(([pkg]) => pkg);
}

/** Source of a floor handler for the given packages. */
export function floorSource(packages: readonly string[]): string {
  const parts = packages.map((pkg) => FLOOR_PARTS[pkg]?.code ?? '');
  // Imports are hoisted; `used` keeps every client alive so nothing is tree-shaken away.
  return `const used: unknown[] = [];\n${parts.join('\n')}\nexport const handler = async () => used.length;\n`;
}

async function buildFromSource(spec: BundleSpec, source: string, outfile: string, projectRoot: string): Promise<void> {
  const options = esbuildBuildOptions(spec, '', outfile, projectRoot);
  delete options.entryPoints;
  await build({ ...options, stdin: { contents: source, resolveDir: projectRoot, sourcefile: 'floor.ts', loader: 'ts' } });
}

/**
 * Answers every Secrets Manager call with a well-formed key pair, so a live-mode bundle can run
 * its cold start (which reads the keys once) without AWS.
 */
async function startSecretsStandIn(): Promise<{ env: Record<string, string>; stop: () => Promise<void> }> {
  const server: Server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.setHeader('content-type', 'application/x-amz-json-1.1');
      response.end(JSON.stringify({ ARN: PLACEHOLDER_RESOURCES.exchangeSecretArn, Name: 'bench-keys', SecretString: JSON.stringify({ apiKey: 'bench-key', secret: 'bench-secret' }) }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    env: {
      AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://127.0.0.1:${port}`,
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function measure(name: string, outfile: string, env: Record<string, string>, samples: number): Promise<BundleMeasurement> {
  const taken: LoadSample[] = [];
  for (let i = 0; i < samples; i += 1) taken.push(await coldLoad(outfile, env));
  return describeBundle(name, outfile, taken);
}

/**
 * Times the function and its floor alternately (function, floor, function, ...), so both see the
 * same load on a shared machine. Each ratio is the median of the per-pair ratios: wall, then CPU.
 */
async function measureAgainstFloor(
  name: string,
  outfile: string,
  floorFile: string,
  env: Record<string, string>,
  samples: number,
): Promise<[BundleMeasurement, BundleMeasurement, number, number]> {
  const own: LoadSample[] = [];
  const floor: LoadSample[] = [];
  for (let i = 0; i < samples; i += 1) {
    own.push(await coldLoad(outfile, env));
    floor.push(await coldLoad(floorFile, env));
  }
  const ratio = (of: (s: LoadSample) => number) => {
    const ratios = own.map((s, i) => of(s) / of(floor[i] ?? { wallMs: Number.NaN, cpuMs: Number.NaN })).sort((a, b) => a - b);
    return Math.round((ratios[Math.floor(ratios.length / 2)] ?? Number.NaN) * 100) / 100;
  };
  return [describeBundle(name, outfile, own), describeBundle(`${name}-floor`, floorFile, floor), ratio((s) => s.wallMs), ratio((s) => s.cpuMs)];
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return round(sorted[Math.floor(sorted.length / 2)] ?? Number.NaN);
}

function describeBundle(name: string, outfile: string, taken: readonly LoadSample[]): BundleMeasurement {
  const code = readFileSync(outfile);
  const mapFile = `${outfile}.map`;
  const wall = taken.map((s) => s.wallMs);
  return {
    name,
    bytes: code.byteLength,
    gzipBytes: gzipSync(code).byteLength,
    sourceMapBytes: existsSync(mapFile) ? statSync(mapFile).size : 0,
    coldLoad: {
      medianMs: median(wall),
      minMs: round(Math.min(...wall)),
      maxMs: round(Math.max(...wall)),
      samplesMs: wall.map(round),
      medianCpuMs: median(taken.map((s) => s.cpuMs)),
      samplesCpuMs: taken.map((s) => round(s.cpuMs)),
    },
  };
}

/** Imports the bundle in a new Node process with only the function's environment. */
async function coldLoad(outfile: string, env: Record<string, string>): Promise<LoadSample> {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', IMPORT_PROBE, pathToFileURL(outfile).href], {
    env: { PATH: process.env.PATH ?? '', ...env },
  });
  const [wallMs, cpuMs] = stdout.trim().split(' ').map(Number);
  if (!Number.isFinite(wallMs) || !Number.isFinite(cpuMs)) throw new Error(`cold load of ${outfile} printed ${JSON.stringify(stdout)}`);
  return { wallMs: wallMs!, cpuMs: cpuMs! };
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
