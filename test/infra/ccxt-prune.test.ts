/**
 * PERF-3: the live bundle's Binance class leaves out the REST API families and the methods a spot
 * client never calls (infra/bundling/ccxt-prune.ts). What must hold: the endpoint names are
 * derived exactly as ccxt derives them, no method the project's code names and no method the kept
 * code mentions goes missing, and what is left out fails loudly. The adapter's behaviour on the
 * pruned class is tested case by case in test/unit/ccxt-exchange.test.ts (both builds) and, in a
 * built bundle, in test/infra/ccxt-rest-only.test.ts.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ccxt, { type Exchange as CcxtClient } from 'ccxt';
import { describe, expect, it } from 'vitest';
import { namesMentioned, pruneApiFamilies, pruneUnreachableMethods, UNBUNDLED_ENDPOINT } from '../../infra/bundling/ccxt-prune.js';
import { CCXT_CALLERS, ccxtCallerNames, SPOT_API_FAMILIES } from '../../infra/bundling/ccxt-rest-only.js';
import { PROJECT_ROOT } from '../../infra/bundling/esbuild-options.js';
import { ensureCcxtRestOnlyFiles } from '../../infra/bundling/generated-modules.js';
import { restOnlyExchangeClass } from '../support/rest-only-ccxt.js';

const CCXT_SRC = join(PROJECT_ROOT, 'node_modules', 'ccxt', 'js', 'src');
const binanceSource = readFileSync(join(CCXT_SRC, 'binance.js'), 'utf8');
const baseSource = readFileSync(join(CCXT_SRC, 'base', 'Exchange.js'), 'utf8');
const Pruned = await restOnlyExchangeClass('binance');
const published = new ccxt.binance() as unknown as Record<string, unknown>;
const pruned = new Pruned() as unknown as Record<string, unknown>;

/** The endpoint methods ccxt's constructor defined on an instance (own camelCase functions, not on the prototype chain). */
function endpointMethods(instance: Record<string, unknown>): string[] {
  const proto = Object.getPrototypeOf(instance) as object;
  return Object.getOwnPropertyNames(instance)
    .filter((k) => typeof instance[k] === 'function' && !(k in proto) && /^[a-z][A-Za-z0-9]*$/.test(k) && /(Get|Post|Put|Delete|Patch|Head)/.test(k))
    .sort();
}

/** Every method name along an instance's prototype chain. */
function methodsOf(instance: object): Set<string> {
  const names = new Set<string>();
  for (let proto = Object.getPrototypeOf(instance) as object | null; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto) as object | null) {
    for (const k of Object.getOwnPropertyNames(proto)) if (k !== 'constructor' && typeof Object.getOwnPropertyDescriptor(proto, k)?.value === 'function') names.add(k);
  }
  return names;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const path = join(dir, f);
    return statSync(path).isDirectory() ? tsFiles(path) : f.endsWith('.ts') ? [path] : [];
  });
}

describe('Bundling: what a spot client never calls is left out of the live bundle\'s ccxt (PERF-3)', () => {
  it('derives the endpoint names exactly as ccxt does, and keeps only the spot families', () => {
    const api = pruneApiFamilies(binanceSource, ['public', 'private'], './base/errors.js', 'binance.js');
    // Every endpoint method the published class defines is accounted for, and nothing else.
    expect([...new Set([...api.keptEndpoints, ...api.removedEndpoints])].sort()).toEqual(endpointMethods(published));
    expect(endpointMethods(pruned)).toEqual([...api.keptEndpoints].sort());
    expect(api.keptEndpoints.size).toBeGreaterThan(20);
    expect(api.removedEndpoints.size).toBeGreaterThan(700);
    expect(api.removedFamilies).toEqual(expect.arrayContaining(['sapi', 'fapiPrivate', 'dapiPublic', 'eapiPrivate', 'papi']));
    expect(api.removedFamilies).not.toContain('public');
    // Calls of removed endpoints are rewritten, never those of a kept one.
    expect(api.rewrittenCalls).toContain('sapiGetCapitalConfigGetall');
    expect(api.rewrittenCalls.filter((name) => api.keptEndpoints.has(name))).toEqual([]);
    expect(api.code).not.toMatch(/this\.(sapi|fapi|dapi|eapi|papi)[A-Za-z0-9]*(Get|Post|Put|Delete)[A-Z]/);
    expect(api.code).toContain(`${UNBUNDLED_ENDPOINT}("sapiGetCapitalConfigGetall")`);
  });

  it('keeps every method the project\'s ccxt callers name, and every one the kept code mentions', () => {
    const before = methodsOf(published);
    const after = methodsOf(pruned);
    const named = [...ccxtCallerNames(PROJECT_ROOT)].filter((name) => before.has(name));
    // The adapter's calls, among them (a sample checked by hand against ccxt-exchange.ts):
    expect(named).toEqual(expect.arrayContaining(['loadMarkets', 'fetchTickers', 'fetchOHLCV', 'createOrder', 'fetchOrder', 'fetchOpenOrders', 'cancelOrder', 'fetchBalance', 'loadTimeDifference', 'amountToPrecision', 'priceToPrecision']));
    expect(named.filter((name) => !after.has(name))).toEqual([]);
    // What ccxt itself calls on the way (signing, errors, markets, the clock) is there too.
    expect(['sign', 'handleErrors', 'fetchMarkets', 'fetchTime', 'parseOrder', 'parseTrade', 'parseBalanceCustom', 'request', 'fetch2', 'throttle'].filter((name) => !after.has(name))).toEqual([]);
    // No property the generated copies mention names a method that was removed.
    const files = ensureCcxtRestOnlyFiles(PROJECT_ROOT, 'binance');
    const mentioned = new Set([...namesMentioned(readFileSync(join(PROJECT_ROOT, files.exchange), 'utf8'), 'binance.mjs'), ...namesMentioned(readFileSync(join(PROJECT_ROOT, files.base), 'utf8'), 'base.mjs')]);
    expect([...mentioned].filter((name) => before.has(name) && !after.has(name))).toEqual([]);
    // And most of the rest is gone.
    expect(after.size).toBeLessThan(before.size / 2);
    expect(after.has('fetchPositions')).toBe(false);
    expect(after.has('fetchFundingRates')).toBe(false);
  });

  it('a removed method is gone from every class, so no base implementation takes the place of an override', () => {
    const base = pruneUnreachableMethods(
      [
        { source: 'export default class x extends Exchange { describe() { return {}; } fetchTicker() { return this.parseTicker(); } parseTicker() {} fetchPositions() {} }', file: 'x.js', classes: ['default'] },
        { source: 'export class BaseExchange { constructor() { this.describe(); } fetchPositions() {} safeTicker() {} fetchOrder() { return this.safeOrder(); } }\nexport default class Exchange extends BaseExchange { safeOrder() {} }', file: 'E.js', classes: ['BaseExchange', 'Exchange'] },
      ],
      ['fetchTicker'],
    );
    expect(base.removed).toEqual([['fetchPositions'], ['fetchOrder', 'fetchPositions', 'safeOrder', 'safeTicker']]);
    expect(base.code[0]).toContain('parseTicker()');
    expect(base.code[1]).not.toContain('fetchPositions');
  });

  it('follows methods ccxt calls by name through a string ("this[method]")', () => {
    const result = pruneUnreachableMethods(
      [{ source: "export class BaseExchange { fetchMyTrades() { return this.paginate('fetchTrades'); } paginate(method) { return this[method](); } fetchTrades() {} fetchPositions() {} }", file: 'E.js', classes: ['BaseExchange'] }],
      ['fetchMyTrades'],
    );
    expect(result.removed).toEqual([['fetchPositions']]);
  });

  it('the copies fail the synth when ccxt changes shape, instead of bundling something else', () => {
    expect(() => pruneApiFamilies(binanceSource, ['public', 'spotV9'], './base/errors.js', 'binance.js')).toThrow(/no API family spotV9/);
    expect(() => pruneApiFamilies('export default class x { describe() { return {}; } }', ['public'], './e.js', 'x.js')).toThrow(/no describe\(\)\.api object/);
    expect(() => pruneUnreachableMethods([{ source: baseSource, file: 'base/Exchange.js', classes: ['NoSuchClass'] }], [])).toThrow(/no class NoSuchClass/);
    expect(SPOT_API_FAMILIES['binance']).toEqual(['public', 'private']);
  });

  it('every file that imports ccxt is one of the callers whose names are kept', () => {
    const importers = ['shared', 'functions']
      .flatMap((dir) => tsFiles(join(PROJECT_ROOT, dir)))
      .filter((file) => /from 'ccxt'|import\('ccxt'\)/.test(readFileSync(file, 'utf8')))
      .map((file) => relative(PROJECT_ROOT, file).split('\\').join('/'));
    expect(importers.length).toBeGreaterThan(2);
    expect(importers.filter((file) => !CCXT_CALLERS.some((caller) => file === caller || file.startsWith(`${caller}/`)))).toEqual([]);
  });

  it('constructs with the settings of a live client and signs like the published class', () => {
    const settings = { apiKey: 'k', secret: 's', options: { defaultType: 'spot', adjustForTimeDifference: false } };
    const a = new ccxt.binance(settings as never) as CcxtClient;
    const b = new Pruned(settings);
    const request = (client: CcxtClient) => client.sign('order', 'private', 'POST', { symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: '0.002', newClientOrderId: 'tw-1', timestamp: 1772445630000, recvWindow: 10000 });
    expect(request(b)).toEqual(request(a));
    expect(b.has['fetchOpenOrders']).toBe(true);
  });
});
