/**
 * PERF-3: a live bundle carries ccxt for REST calls to its one exchange. What only websockets or
 * other exchanges use (ws, fflate, zkLink, dYdX, Starknet, Ethereum ABI, the MEXC protobufs, the
 * secp256k1/P-256 curves, TOTP) is replaced by stand-ins (infra/bundling/ccxt-rest-only.ts); the
 * live adapter still loads markets, reads and places signed orders through ccxt's own HTTP path,
 * here against a local HTTP server replaying recorded Binance responses, in a fresh Node process.
 */
import { createHmac } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build, type Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindings, REST_ONLY_STUBS } from '../../infra/bundling/ccxt-rest-only.js';
import { bundleSpec, esbuildBuildOptions, PROJECT_ROOT } from '../../infra/bundling/esbuild-options.js';
import { ensureCcxtSingleExchangeAliases } from '../../infra/bundling/generated-modules.js';
import { RecordedFetch, recorded } from '../fixtures/binance/recorded-fetch.js';

const BUNDLING_TIMEOUT_MS = 180_000;
const SECRET = 'probe-secret';
const dir = mkdtempSync(join(tmpdir(), 'tradewarden-rest-only-'));
const outfile = join(dir, 'index.mjs');
let metafile: Metafile;

beforeAll(async () => {
  const entry = fileURLToPath(new URL('./fixtures/live-adapter-probe.ts', import.meta.url));
  metafile = (await build({ ...esbuildBuildOptions(bundleSpec('binance'), entry, outfile), metafile: true })).metafile;
}, BUNDLING_TIMEOUT_MS);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `script` in a fresh Node process with the bundle as argv[1] (the test runner resolves imports its own way). */
async function inFreshProcess(script: string, ...args: string[]): Promise<unknown> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script, pathToFileURL(outfile).href, ...args]);
  return JSON.parse(stdout) as unknown;
}

/** Serves recorded responses over HTTP; records each request's API key header and whether its HMAC signature checks out. */
async function startBinanceStandIn(routes: RecordedFetch): Promise<{ url: string; signed: { path: string; apiKey: string | undefined; valid: boolean }[]; server: Server }> {
  const signed: { path: string; apiKey: string | undefined; valid: boolean }[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      const payload = body || url.search.slice(1);
      const match = /^(.*)&signature=([0-9a-f]+)$/.exec(payload);
      if (match) signed.push({ path: url.pathname, apiKey: request.headers['x-mbx-apikey'] as string | undefined, valid: createHmac('sha256', SECRET).update(match[1] ?? '').digest('hex') === match[2] });
      routes
        .fetch(url.href, { method: request.method ?? 'GET', body })
        .then(async (reply) => {
          response.writeHead(reply.status, Object.fromEntries(reply.headers.entries()));
          response.end(await reply.text());
        })
        .catch((error: unknown) => {
          response.writeHead(599);
          response.end(String(error));
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, signed, server };
}

describe('Bundling: ccxt for REST calls to one exchange (PERF-3)', () => {
  it('leaves out of the live bundle what only websockets and other exchanges use', () => {
    const inputs = Object.keys(metafile.inputs);
    const leftOut = /node_modules\/(ws|fflate|protobufjs|@scure\/starknet)\/|ccxt\/js\/src\/(base\/ws\/(WsClient|Client)\.js|static_dependencies\/(zklink|dydx-v4-client)\/|protobuf\/|base\/functions\/(starknet|ethabi|totp)\.js|base\/Exchange\.js)|@noble\/curves\/(secp256k1|nist)\.js|@noble\/hashes\/sha3\.js/;
    // The list is real: the exchange, its REST copy of the base and the curve it signs Ed25519 keys with are in it.
    expect(inputs.some((p) => p.endsWith('ccxt-binance-rest/base-exchange.mjs'))).toBe(true);
    expect(inputs.some((p) => p.endsWith('ccxt-binance-rest/binance.mjs'))).toBe(true);
    expect(inputs.some((p) => p.includes('@noble/curves/ed25519.js'))).toBe(true);
    expect(inputs.filter((p) => leftOut.test(p))).toEqual([]);
    expect(statSync(outfile).size).toBeLessThan(700 * 1024);
  });

  it('loads markets, reads a ticker and the balances, and places a signed order through ccxt\'s HTTP path', async () => {
    const routes = new RecordedFetch()
      .on('GET', '/api/v3/exchangeInfo', recorded('exchange-info'))
      .on('GET', '/api/v3/time', recorded('time'))
      .on('GET', '/api/v3/ticker/24hr', recorded('ticker-24hr'))
      .on('GET', '/api/v3/account', recorded('account'))
      .on('POST', '/api/v3/order', recorded('order-market-buy-full'))
      .on('GET', '/api/v3/order', recorded('order-limit-partially-filled'))
      .on('GET', '/api/v3/openOrders', recorded('open-orders'))
      .on('DELETE', '/api/v3/order', recorded('order-canceled'))
      .on('GET', '/api/v3/klines', recorded('klines-btcusdt'));
    const standIn = await startBinanceStandIn(routes);
    try {
      const script = 'const m = await import(process.argv[1]); process.stdout.write(JSON.stringify(await m.runLiveAdapter(process.argv[2])));';
      const result = (await inFreshProcess(script, standIn.url)) as Record<string, unknown>;

      expect(result['markets']).toEqual(['BTC/USDT', 'ETH/USDT', 'SOL/USDT']);
      expect(result['ticker']).toMatchObject({ symbol: 'BTC/USDT', bid: '65234.49', ask: '65234.5' });
      expect(result['btc']).toMatchObject({ free: '0.01234' });
      expect(result['order']).toMatchObject({ status: 'closed', filled: '0.002' });
      expect(result['found']).toEqual({ status: 'open', filled: '0.001' });
      expect(result['open']).toEqual(['tw-open-eth']);
      expect(result['canceled']).toEqual({ status: 'canceled', clientOrderId: 'tw-open-eth' });
      expect(result['candles']).toBeGreaterThan(0);
      // Every private call was signed with the secret (HMAC-SHA256) and carried the key.
      expect(standIn.signed.map((s) => [s.path, s.apiKey, s.valid])).toEqual([
        ['/api/v3/account', 'probe-key', true],
        ['/api/v3/order', 'probe-key', true],
        ['/api/v3/order', 'probe-key', true],
        ['/api/v3/openOrders', 'probe-key', true],
        ['/api/v3/order', 'probe-key', true],
      ]);
    } finally {
      standIn.server.close();
    }
  }, BUNDLING_TIMEOUT_MS);

  it('fails with an error naming what is left out when it is called', async () => {
    const script = 'const m = await import(process.argv[1]); process.stdout.write(JSON.stringify(m.callLeftOut()));';
    expect(await inFreshProcess(script)).toMatch(/the websocket client \(ws, fflate\) is not bundled/);
  }, BUNDLING_TIMEOUT_MS);

  it('fails with NotSupported naming the endpoint when a kept method reaches an API family left out', async () => {
    const standIn = await startBinanceStandIn(new RecordedFetch().on('GET', '/api/v3/exchangeInfo', recorded('exchange-info')).on('GET', '/api/v3/time', recorded('time')));
    try {
      const script = 'const m = await import(process.argv[1]); process.stdout.write(JSON.stringify(await m.callLeftOutEndpoint(process.argv[2])));';
      expect(await inFreshProcess(script, standIn.url)).toMatch(/^NotSupported: sapiGetMarginAccount is not bundled/);
    } finally {
      standIn.server.close();
    }
  }, BUNDLING_TIMEOUT_MS);

  it('keeps what an exchange\'s own code uses: the curves and Ethereum encoding of an exchange that signs with them', () => {
    // Hyperliquid signs with secp256k1 and Ethereum typed data: nothing of that is replaced for it.
    expect(Object.keys(ensureCcxtSingleExchangeAliases(PROJECT_ROOT, 'hyperliquid'))).toEqual(['ccxt']);
    expect(Object.keys(ensureCcxtSingleExchangeAliases(PROJECT_ROOT, 'binance')).sort()).toEqual(['@noble/curves/nist.js', '@noble/curves/secp256k1.js', 'ccxt']);
  });

  it('reads every binding of an import clause it replaces', () => {
    expect(bindings('init, * as zklink')).toEqual(['init', 'zklink']);
    expect(bindings('{ getStarkKey, ethSigToPrivate, sign as starknetCurveSign }')).toEqual(['getStarkKey', 'ethSigToPrivate', 'starknetCurveSign']);
    expect(bindings('WsClient')).toEqual(['WsClient']);
    expect(() => bindings('{ a-b }')).toThrow(/cannot read the import clause/);
    expect(REST_ONLY_STUBS.length).toBeGreaterThan(0);
  });
});
