/**
 * One definition of how a function is bundled, used both by the CDK functions (NodejsFunction,
 * local esbuild, no Docker) and by the bundle benchmark (`infra/bench/bundle-sizes.ts`), so the
 * benchmark measures exactly what is deployed.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { BuildOptions } from 'esbuild';
import type { JobName } from '../../shared/definitions/schedules.js';
import { ensureCcxtSingleExchangeAliases, ensureCcxtWithoutExchangesModule, ensureProtobufStub } from './generated-modules.js';

/** The repository root (this file is infra/bundling/esbuild-options.ts). */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Matches `Runtime.NODEJS_24_X`. */
export const BUNDLE_TARGET = 'node24';

/**
 * ESM bundles have no `require`; CommonJS dependencies bundled into them still call it (for
 * Node built-ins), so every bundle defines one.
 */
export const ESM_REQUIRE_BANNER = "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

/** Prefer dependencies' ES module builds: they tree-shake (the AWS SDK in particular). */
const MAIN_FIELDS = ['module', 'main'];

/** Everything that decides a bundle's content, independent of the tool that builds it. */
export interface BundleSpec {
  readonly target: string;
  readonly minify: boolean;
  readonly sourceMap: boolean;
  /**
   * Embed the sources in the source map. Off: stack traces still map to file and line, and the
   * deployed package is several MB smaller.
   */
  readonly sourcesContent: boolean;
  readonly banner: string;
  readonly mainFields: readonly string[];
  /** Import specifier -> path relative to the project root (esbuild resolves aliases from its working directory). */
  readonly alias: Readonly<Record<string, string>>;
  /** Left out of the bundle. The AWS SDK is bundled so the tested version is the deployed one. */
  readonly external: readonly string[];
}

/**
 * The bundle specification for a deployment: a live one bundles the one exchange it trades on;
 * a paper one (`exchangeId` undefined) bundles no exchange at all.
 */
export function bundleSpec(exchangeId: string | undefined, projectRoot: string = PROJECT_ROOT): BundleSpec {
  return {
    target: BUNDLE_TARGET,
    minify: true,
    sourceMap: true,
    sourcesContent: false,
    banner: ESM_REQUIRE_BANNER,
    mainFields: MAIN_FIELDS,
    alias: {
      // A live bundle's ccxt is REST-only: what only websockets or other exchanges use is left out (ccxt-rest-only.ts).
      ...(exchangeId === undefined ? { ccxt: ensureCcxtWithoutExchangesModule(projectRoot) } : ensureCcxtSingleExchangeAliases(projectRoot, exchangeId)),
      protobufjs: ensureProtobufStub(projectRoot),
    },
    // ccxt imports undici (about 500 KB) on its first request for tuned keep-alive pooling, and
    // falls back to Node's global fetch (the same undici engine, built into Node) when the import
    // fails. Left out, the bundle is a fifth smaller and loads faster; requests use Node's fetch.
    external: exchangeId === undefined ? [] : [CCXT_OPTIONAL_HTTP_CLIENT],
  };
}

/** The HTTP client ccxt loads optionally (see `external` above). */
export const CCXT_OPTIONAL_HTTP_CLIENT = 'undici';

/** Source file of a job's handler, relative to the project root. */
export function handlerEntry(job: JobName | string, projectRoot: string = PROJECT_ROOT): string {
  return join(projectRoot, 'functions', job, 'handler.ts');
}

/** The spec as NodejsFunction bundling options. */
export function nodejsBundlingOptions(spec: BundleSpec): BundlingOptions {
  return {
    target: spec.target,
    minify: spec.minify,
    sourceMap: spec.sourceMap,
    sourcesContent: spec.sourcesContent,
    format: OutputFormat.ESM,
    banner: spec.banner,
    mainFields: [...spec.mainFields],
    externalModules: [...spec.external],
    bundleAwsSDK: true,
    forceDockerBundling: false,
    esbuildArgs: { '--alias': Object.entries(spec.alias).map(([from, to]) => `${from}=${to}`) },
  };
}

/** The spec as esbuild API options, equivalent to what NodejsFunction passes on its command line. */
export function esbuildBuildOptions(spec: BundleSpec, entry: string, outfile: string, projectRoot: string = PROJECT_ROOT): BuildOptions {
  return {
    absWorkingDir: projectRoot,
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: spec.target,
    minify: spec.minify,
    sourcemap: spec.sourceMap,
    sourcesContent: spec.sourcesContent,
    banner: { js: spec.banner },
    mainFields: [...spec.mainFields],
    external: [...spec.external],
    alias: { ...spec.alias },
    logLevel: 'silent',
  };
}
