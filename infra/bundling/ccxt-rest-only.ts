/**
 * A REST-only copy of ccxt's base for one exchange, generated at synth time (PERF-3).
 *
 * ccxt's `Exchange` base class statically imports what other exchanges and the websocket client
 * need: the websocket client with `ws` and `fflate`, the zkLink SDK, Starknet and dYdX helpers,
 * Ethereum ABI encoding, secp256k1/P-256 curves (whose tables are built at import), TOTP, and it
 * may load the MEXC protobuf definitions and the dYdX protos with dynamic imports that a bundler
 * still bundles. A Lambda that talks REST to one exchange evaluates all of it at every cold
 * start (about a third of the exchange's bundle).
 *
 * The bundler's `alias` only redirects package names, not a relative import inside a package, so
 * the three files on the path from the exchange to those imports (the exchange's class, its
 * generated abstract class and `base/Exchange.js`) are copied here with their imports rewritten:
 * every relative import points back at ccxt's own file, except those listed in `REST_ONLY_STUBS`,
 * whose bindings become `unavailable(...)` stand-ins that throw a clear error when used. A stub
 * is applied only when the exchange's own source does not use what it replaces
 * (`unlessExchangeMatches`), and every rewrite must match exactly once, so a ccxt upgrade that
 * moves an import fails the synth instead of bundling something else.
 *
 * The two curve packages ccxt's crypto helpers import (`@noble/curves/secp256k1.js`,
 * `@noble/curves/nist.js`) are package imports, replaced through `alias` by the modules
 * `ccxtRestOnlyAliases` writes, under the same condition.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { namesMentioned, pruneApiFamilies, pruneUnreachableMethods } from './ccxt-prune.js';

/** Where the copies are written, relative to the project root. */
const CCXT_SRC = join('node_modules', 'ccxt', 'js', 'src');

/** One import of `base/Exchange.js` that a REST client of the exchange never reaches. */
interface RestOnlyStub {
  /** The import specifier as written in `base/Exchange.js`. */
  readonly specifier: string;
  /** What it is, for the stand-in's error message. */
  readonly what: string;
  /** Kept when the exchange's own source matches this. */
  readonly unlessExchangeMatches: RegExp;
  /** A dynamic `import(...)` (loaded on demand) rather than a static import. */
  readonly dynamic?: boolean;
  /** Kept for this exchange id (code the base loads by id, not through the exchange's source). */
  readonly unlessExchangeId?: string;
}

/** Exchanges that sign with ECDSA or JWT (ES256), or derive Ethereum/dYdX keys, need the curves. */
const CURVES_NEEDED = /\b(ecdsa|jwt)\(|secp256k1|\b[pP]256\b|ethGetAddressFromPrivateKey|retrieveDydxCredentials/;
/** The base's dYdX methods (a currency code DYDX in a table does not count). */
const DYDX_NEEDED = /toDydxLong|retrieveDydxCredentials|encodeDydxTx|loadDydxProtos/;

/** The imports replaced (see the file comment); each names the methods that would need it. */
export const REST_ONLY_STUBS: readonly RestOnlyStub[] = [
  { specifier: './ws/WsClient.js', what: 'the websocket client (ws, fflate)', unlessExchangeMatches: /\bthis\.client\(/ },
  { specifier: '../static_dependencies/zklink/zklink-sdk-web.js', what: 'the zkLink SDK', unlessExchangeMatches: /zklink/i },
  { specifier: '@scure/starknet', what: 'Starknet signing', unlessExchangeMatches: /starknet|retrieveStarkAccount/i },
  { specifier: './functions/starknet.js', what: 'Starknet helpers', unlessExchangeMatches: /starknet|retrieveStarkAccount/i },
  { specifier: '../static_dependencies/dydx-v4-client/helpers.js', what: 'dYdX helpers', unlessExchangeMatches: DYDX_NEEDED },
  { specifier: '../static_dependencies/dydx-v4-client/registry.js', what: 'dYdX protos', unlessExchangeMatches: DYDX_NEEDED, dynamic: true },
  { specifier: '../static_dependencies/dydx-v4-client/cosmos/tx/v1beta1/tx.js', what: 'dYdX protos', unlessExchangeMatches: DYDX_NEEDED, dynamic: true },
  { specifier: '../static_dependencies/dydx-v4-client/cosmos/tx/signing/v1beta1/signing.js', what: 'dYdX protos', unlessExchangeMatches: DYDX_NEEDED, dynamic: true },
  { specifier: '../protobuf/mexc/compiled.cjs', what: 'the MEXC protobuf definitions', unlessExchangeMatches: /protobuf/i, unlessExchangeId: 'mexc', dynamic: true },
  { specifier: './functions/ethabi.js', what: 'Ethereum ABI encoding', unlessExchangeMatches: /ethAbiEncode|ethEncodeStructuredData|ethGetAddressFromPrivateKey/ },
  { specifier: '@noble/hashes/sha3.js', what: 'keccak', unlessExchangeMatches: /keccak|ethAbiEncode|ethEncodeStructuredData|ethGetAddressFromPrivateKey/ },
  { specifier: '@noble/curves/secp256k1.js', what: 'the secp256k1 curve', unlessExchangeMatches: CURVES_NEEDED },
  { specifier: './functions/totp.js', what: 'TOTP', unlessExchangeMatches: /totp|oath\(/ },
];

/** Per exchange, the REST API families its spot client calls; the others are left out (ccxt-prune.ts). */
export const SPOT_API_FAMILIES: Readonly<Record<string, readonly string[]>> = {
  binance: ['public', 'private'],
};

/** The package imports of ccxt's crypto helpers replaced through `alias`, and what each module must export. */
const CURVE_PACKAGES: Readonly<Record<string, { readonly file: string; readonly exports: readonly string[] }>> = {
  '@noble/curves/secp256k1.js': { file: 'secp256k1.mjs', exports: ['secp256k1'] },
  '@noble/curves/nist.js': { file: 'nist.mjs', exports: ['p256', 'p384', 'p521'] },
};

/** The stand-in every stubbed binding becomes: property reads give more stand-ins; calls throw. */
const UNAVAILABLE_SOURCE = `// Generated by infra/bundling/ccxt-rest-only.ts. Do not edit.
export function unavailable(what) {
  return new Proxy(function unavailableInThisBundle() {}, {
    get: (_target, key) => (key === 'then' || typeof key === 'symbol' ? undefined : unavailable(what)),
    apply: () => { throw new Error(\`\${what} is not bundled: this function bundles ccxt for REST calls to one exchange (infra/bundling/ccxt-rest-only.ts)\`); },
    construct: () => { throw new Error(\`\${what} is not bundled: this function bundles ccxt for REST calls to one exchange (infra/bundling/ccxt-rest-only.ts)\`); },
  });
}
`;

/**
 * Writes a generated file (`name` relative to the generated-modules directory) if its content
 * changed; returns its `./...` path relative to the project root, as `alias` expects.
 */
export type WriteGenerated = (name: string, content: string) => string;

/** The copies and stand-ins of one exchange, as paths relative to the project root. */
export interface CcxtRestOnlyFiles {
  /** The exchange class module (default export), to import instead of `ccxt/js/src/<id>.js`. */
  readonly exchange: string;
  /** The `Exchange` base module (named exports `Exchange`, `BaseExchange`). */
  readonly base: string;
  /** Package specifier -> stand-in module, for the bundler's `alias`. */
  readonly aliases: Readonly<Record<string, string>>;
  /** The stubs applied (for tests and the benchmark's notes). */
  readonly stubbed: readonly string[];
}

/**
 * Writes the REST-only copies for `exchangeId` into `dir` of the generated-modules directory
 * `cacheDir` (relative to the project root).
 * @throws Error when an import to rewrite is not found exactly once (a ccxt upgrade moved it).
 */
export function writeCcxtRestOnly(projectRoot: string, cacheDir: string, dir: string, exchangeId: string, write: WriteGenerated): CcxtRestOnlyFiles {
  const src = join(projectRoot, CCXT_SRC);
  const outDir = join(projectRoot, cacheDir, dir);
  const exchangeSource = readFileSync(join(src, `${exchangeId}.js`), 'utf8');
  const applies = (stub: RestOnlyStub) => stub.unlessExchangeId !== exchangeId && !stub.unlessExchangeMatches.test(exchangeSource);
  const stubs = REST_ONLY_STUBS.filter(applies);
  const curvesStubbed = !CURVES_NEEDED.test(exchangeSource);

  write(join(dir, 'unavailable.mjs'), UNAVAILABLE_SOURCE);
  const copies: Record<string, string> = {
    [join(src, 'base', 'Exchange.js')]: 'base-exchange.mjs',
    [join(src, 'abstract', `${exchangeId}.js`)]: `abstract-${exchangeId}.mjs`,
    [join(src, `${exchangeId}.js`)]: `${exchangeId}.mjs`,
  };
  // The stand-ins first (each import must be found exactly once in ccxt's own text), then what a
  // spot client never calls is left out, then the relative imports are pointed back at ccxt.
  const stubbed: Record<string, string> = {};
  for (const [original, name] of Object.entries(copies)) {
    let code = readFileSync(original, 'utf8').replace(/^\/\/# sourceMappingURL=.*$/m, '');
    if (name === 'base-exchange.mjs') for (const stub of stubs) code = applyStub(code, stub, original);
    stubbed[original] = code;
  }
  const sources = { ...stubbed, ...prunedSources(stubbed, projectRoot, src, exchangeId) };
  const rewrite = (original: string): string => {
    const code = (sources[original] ?? '').replace(/(from\s+|import\s*\(\s*)(['"])(\.{1,2}\/[^'"]+)\2/g, (_all, lead: string, _quote: string, specifier: string) => {
      const target = join(dirname(original), specifier);
      const copy = copies[target];
      return `${lead}'${copy ? `./${copy}` : toSpecifier(relative(outDir, target))}'`;
    });
    return copies[original] === 'base-exchange.mjs' && stubs.length > 0 ? `import { unavailable } from './unavailable.mjs';\n${code}` : code;
  };
  const written: Record<string, string> = {};
  for (const [original, name] of Object.entries(copies)) {
    written[name] = write(join(dir, name), `// Generated by infra/bundling/ccxt-rest-only.ts from ccxt's ${relative(src, original)}. Do not edit.\n${rewrite(original)}`);
  }
  const aliases: Record<string, string> = {};
  if (curvesStubbed) {
    for (const [pkg, { file, exports }] of Object.entries(CURVE_PACKAGES)) {
      const body = exports.map((name) => `export const ${name} = unavailable(${JSON.stringify(`${pkg} ${name}`)});`).join('\n');
      aliases[pkg] = write(join(dir, file), `// Generated by infra/bundling/ccxt-rest-only.ts. Do not edit.\nimport { unavailable } from './unavailable.mjs';\n${body}\n`);
    }
  }
  return {
    exchange: written[`${exchangeId}.mjs`] ?? '',
    base: written['base-exchange.mjs'] ?? '',
    aliases,
    stubbed: [...stubs.map((s) => s.specifier), ...Object.keys(aliases)],
  };
}

/**
 * The project's code that holds a ccxt client (relative to the project root; a directory stands
 * for its `.ts` files): every name it mentions is a root of the pruning (ccxt-prune.ts), so a
 * method it calls is never left out. test/infra/ccxt-prune.test.ts fails when another file
 * imports `ccxt`.
 */
export const CCXT_CALLERS: readonly string[] = ['shared/adapters/exchange', 'shared/runtime/entry.ts', 'shared/runtime/container.ts'];

/** Every name the CCXT_CALLERS mention (ccxt-prune.ts `namesMentioned`). */
export function ccxtCallerNames(projectRoot: string): Set<string> {
  const names = new Set<string>();
  for (const caller of CCXT_CALLERS) {
    const path = join(projectRoot, caller);
    const files = caller.endsWith('.ts') ? [path] : readdirSync(path).filter((f) => f.endsWith('.ts')).map((f) => join(path, f));
    for (const file of files) for (const name of namesMentioned(readFileSync(file, 'utf8'), file)) names.add(name);
  }
  return names;
}

/**
 * The exchange's and the base's sources (original path -> stubbed code) with what a spot client
 * never calls left out; nothing for an exchange without SPOT_API_FAMILIES.
 */
function prunedSources(sources: Readonly<Record<string, string>>, projectRoot: string, src: string, exchangeId: string): Record<string, string> {
  const families = SPOT_API_FAMILIES[exchangeId];
  if (!families) return {};
  const exchangeFile = join(src, `${exchangeId}.js`);
  const baseFile = join(src, 'base', 'Exchange.js');
  const api = pruneApiFamilies(sources[exchangeFile] ?? '', families, './base/errors.js', `${exchangeId}.js`);
  const methods = pruneUnreachableMethods(
    [
      { source: api.code, file: `${exchangeId}.js`, classes: ['default'] },
      { source: sources[baseFile] ?? '', file: 'base/Exchange.js', classes: ['BaseExchange', 'Exchange'] },
    ],
    ccxtCallerNames(projectRoot),
  );
  return { [exchangeFile]: methods.code[0] ?? '', [baseFile]: methods.code[1] ?? '' };
}

/** Replaces one import of `stub.specifier` in `code`. @throws Error unless it occurs exactly once. */
function applyStub(code: string, stub: RestOnlyStub, file: string): string {
  const quoted = escapeRegExp(`'${stub.specifier}'`);
  const pattern = stub.dynamic ? new RegExp(`import\\(${quoted}\\)`, 'g') : new RegExp(`^import\\s+([^;]*?)\\s+from\\s+${quoted};$`, 'gm');
  const found = code.match(pattern) ?? [];
  if (found.length !== 1) throw new Error(`ccxt-rest-only: expected one import of ${stub.specifier} in ${file}, found ${found.length} (did ccxt change?)`);
  const what = JSON.stringify(stub.what);
  if (stub.dynamic) return code.replace(pattern, `Promise.resolve().then(() => { throw new Error(${what} + ' is not bundled'); })`);
  return code.replace(pattern, (_all, clause: string) => bindings(clause).map((local) => `const ${local} = unavailable(${what});`).join(' '));
}

/** The local names an import clause binds: `a`, `* as ns`, `{ x, y as z }` and combinations. */
export function bindings(clause: string): string[] {
  const names: string[] = [];
  const braces = /\{([^}]*)\}/.exec(clause);
  const outside = clause.replace(/\{[^}]*\}/, '');
  for (const part of outside.split(',').map((p) => p.trim()).filter(Boolean)) {
    const ns = /^\*\s+as\s+(\w+)$/.exec(part);
    names.push(ns?.[1] ?? part);
  }
  for (const part of (braces?.[1] ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
    names.push(part.split(/\s+as\s+/).pop() ?? part);
  }
  for (const name of names) if (!/^[A-Za-z_$][\w$]*$/.test(name)) throw new Error(`ccxt-rest-only: cannot read the import clause "${clause}"`);
  return names;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function toSpecifier(path: string): string {
  const posix = path.split('\\').join('/');
  return posix.startsWith('.') ? posix : `./${posix}`;
}
