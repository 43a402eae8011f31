/**
 * The one infra test that bundles for real (esbuild, no Docker): a full synth of the app as
 * `cdk synth` runs it, then each function's bundle checked against a size budget and for test
 * tools (fault injectors, seeded randomness) that must never reach a Lambda.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { App } from 'aws-cdk-lib';
import { build } from 'esbuild';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { JOBS, type JobName } from '../../shared/definitions/schedules.js';
import { bundleSpec, CCXT_OPTIONAL_HTTP_CLIENT, esbuildBuildOptions } from '../../infra/bundling/esbuild-options.js';
import { PLACEHOLDER_RESOURCES } from '../../infra/bench/bundle-sizes.js';
import { functionEnvironment } from '../../infra/config/function-environment.js';
import { resolveDeploymentConfig } from '../../infra/config/stages.js';
import { addNagChecks } from '../../infra/nag.js';
import { TradewardenStack } from '../../infra/stacks/tradewarden-stack.js';

/** Largest acceptable bundle (index.mjs, before zipping). */
const BUNDLE_BUDGET_BYTES = 3 * 1024 * 1024;
/** A paper-mode bundle holds no exchange: the AWS SDK, Powertools, zod and our code (about 0.8 MB). */
const PAPER_BUNDLE_BUDGET_BYTES = 1.2 * 1024 * 1024;
/** A bundle with the whole of ccxt is over 6 MB; one exchange stays well under this. */
const SINGLE_EXCHANGE_BUDGET_BYTES = 2 * 1024 * 1024;
const BUNDLING_TIMEOUT_MS = 180_000;

const outdir = mkdtempSync(join(tmpdir(), 'tradewarden-synth-'));
let bundles: Record<JobName, string>;

beforeAll(() => {
  // As the CLI does: asset metadata points each function at its bundle directory.
  const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
  const stack = new TradewardenStack(app, 'Tradewarden-bundling', { config: resolveDeploymentConfig({}) });
  addNagChecks(app);
  const assembly = app.synth();
  const template = assembly.getStackByName(stack.stackName).template as {
    Resources: Record<string, { Type: string; Metadata?: Record<string, string>; Properties: { Environment: { Variables: Record<string, string> } } }>;
  };
  const found: Partial<Record<JobName, string>> = {};
  for (const resource of Object.values(template.Resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const job = resource.Properties.Environment.Variables['POWERTOOLS_SERVICE_NAME'] as JobName;
    const assetPath = resource.Metadata?.['aws:asset:path'];
    if (assetPath) found[job] = join(outdir, assetPath, 'index.mjs');
  }
  bundles = found as Record<JobName, string>;
}, BUNDLING_TIMEOUT_MS);

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe('Bundling: synth with real bundles', () => {
  it.each(JOBS)('bundles the %s handler as one ESM file under the size budget', (job) => {
    const bundle = bundles[job];
    expect(bundle, job).toBeDefined();
    expect(existsSync(bundle)).toBe(true);
    expect(statSync(bundle).size).toBeLessThan(BUNDLE_BUDGET_BYTES);
    expect(existsSync(`${bundle}.map`)).toBe(true);
    // The createRequire banner comes first, so CommonJS dependencies can require Node built-ins.
    expect(readFileSync(bundle, 'utf8').startsWith("import { createRequire } from 'module'; const require = createRequire(import.meta.url);")).toBe(true);
  });
});

describe('Bundling: paper deployments carry no exchange and no tracer unless tracing is on', () => {
  it.each(JOBS)('leaves every exchange out of the paper-mode %s bundle', (job) => {
    const code = readFileSync(bundles[job], 'utf8');
    expect(statSync(bundles[job]).size).toBeLessThan(PAPER_BUNDLE_BUDGET_BYTES);
    // The Binance class carries its API host; ccxt's Exchange base class defines its REST API methods.
    expect(code).not.toContain('api.binance.com');
    expect(code).not.toContain('defineRestApi');
  });

  it.each(JOBS)('carries the CloudWatch client in the health bundle only (checking %s)', (job) => {
    // Health alone reads queue ages from CloudWatch; any other bundle with the client would load
    // it for nothing (and its cold-load floor would count it).
    expect(readFileSync(bundles[job], 'utf8').includes('GetMetricData'), job).toBe(job === 'health');
  });

  it.each(JOBS)('builds the %s bundle\'s schemas with zod/mini, without the full zod build', (job) => {
    // The full build costs a cold start about 63 KB of code and a slower schema-building pass (PERF-3).
    const { sources } = JSON.parse(readFileSync(`${bundles[job]}.map`, 'utf8')) as { sources: string[] };
    expect(sources.some((s) => s.includes('node_modules/zod/v4/mini/')), job).toBe(true);
    expect(sources.filter((s) => s.includes('node_modules/zod/v4/classic/')), job).toEqual([]);
  });

  it('evaluates the X-Ray SDK (and its async hook) only when POWERTOOLS_TRACE_ENABLED is true', async () => {
    const env = { ...functionEnvironment(resolveDeploymentConfig({}), 'health', PLACEHOLDER_RESOURCES), AWS_REGION: 'us-east-1', PATH: process.env.PATH ?? '' };
    // Counts async hooks created while the bundle's cold start runs (the X-Ray SDK creates one on import).
    const probe =
      "import hooks from 'node:async_hooks'; let created = 0; const original = hooks.createHook;" +
      ' hooks.createHook = (...a) => { created += 1; return original(...a); };' +
      ' await import(process.argv[1]); process.stdout.write(String(created));';
    const hooksWith = async (tracing: string) =>
      (await promisify(execFile)(process.execPath, ['--input-type=module', '-e', probe, pathToFileURL(bundles.health).href], { env: { ...env, POWERTOOLS_TRACE_ENABLED: tracing } })).stdout;
    expect(await hooksWith('false')).toBe('0');
    expect(await hooksWith('true')).toBe('1');
  }, BUNDLING_TIMEOUT_MS);

  it('gives paper bundles the ccxt error classes and no exchange class', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tradewarden-ccxt-'));
    try {
      const outfile = join(dir, 'index.mjs');
      const entry = fileURLToPath(new URL('./fixtures/ccxt-errors-probe.ts', import.meta.url));
      await build(esbuildBuildOptions(bundleSpec(undefined), entry, outfile));
      expect(statSync(outfile).size).toBeLessThan(20 * 1024);
      const { probe } = (await import(pathToFileURL(outfile).href)) as { probe: Record<string, unknown> };
      expect(probe).toEqual({ exchanges: [], binance: undefined, networkErrorIsError: true, invalidOrderIsExchangeError: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, BUNDLING_TIMEOUT_MS);
});

describe('Bundling: no test tool reaches a Lambda', () => {
  it.each(JOBS)('leaves every fault injector and the seeded randomness out of the %s bundle', (job) => {
    // The source map names every module the bundle was built from.
    const { sources } = JSON.parse(readFileSync(`${bundles[job]}.map`, 'utf8')) as { sources: string[] };
    const own = sources.filter((s) => !s.includes('node_modules'));
    // The list is real: the bundle's own domain code is in it.
    expect(own.some((s) => s.endsWith('shared/domain/errors.ts')), job).toBe(true);
    if (job === 'executor') expect(own.some((s) => s.endsWith('shared/domain/order-aggregate.ts'))).toBe(true);
    expect(own.filter((s) => s.includes('testkit/') || s.includes('test/') || /fault-injecting|seeded-random/.test(s)), job).toEqual([]);
    expect(readFileSync(bundles[job], 'utf8')).not.toMatch(/FaultInjecting(Exchange|Store)/);
  });
});

describe('Bundling: ccxt reduced to the configured exchange', () => {
  it('leaves out the HTTP client ccxt loads optionally, so it falls back to the fetch built into Node', () => {
    expect(bundleSpec('binance').external).toEqual([CCXT_OPTIONAL_HTTP_CLIENT]);
    expect(bundleSpec(undefined).external).toEqual([]);
  });

  it('resolves `ccxt` to one exchange class with the package API an adapter uses', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tradewarden-ccxt-'));
    try {
      const outfile = join(dir, 'index.mjs');
      const entry = fileURLToPath(new URL('./fixtures/ccxt-probe.ts', import.meta.url));
      await build(esbuildBuildOptions(bundleSpec('binance'), entry, outfile));
      expect(statSync(outfile).size).toBeLessThan(SINGLE_EXCHANGE_BUDGET_BYTES);
      const probeModule = (await import(pathToFileURL(outfile).href)) as { probe: Record<string, unknown> };
      expect(probeModule.probe).toEqual({ exchanges: ['binance'], exchangeId: 'binance', isExchange: true, networkErrorIsError: true, sum: '0.3' });
      // Outside the project no `undici` package resolves, as in Lambda: ccxt requests go through Node's fetch.
      const server = createServer((_request, response) => response.end(JSON.stringify({ serverTime: 1 })));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        const { port } = server.address() as AddressInfo;
        // A fresh Node process, as in Lambda (the test runner resolves imports its own way).
        const script = 'const m = await import(process.argv[1]); process.stdout.write(JSON.stringify(await m.fetchThroughCcxt(process.argv[2])));';
        const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script, pathToFileURL(outfile).href, `http://127.0.0.1:${port}/api/v3/time`]);
        expect(JSON.parse(stdout)).toEqual({ body: { serverTime: 1 }, usedUndiciPackage: false });
      } finally {
        server.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, BUNDLING_TIMEOUT_MS);

  it('refuses an exchange id ccxt does not have', () => {
    expect(() => bundleSpec('nosuchexchange')).toThrow(/ccxt has no exchange "nosuchexchange"/);
  });
});
