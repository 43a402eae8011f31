/**
 * DATA-6 as deployed: the scanner's Lambda bundle of a paper stage with `paperMarket: 'exchange'`
 * (built with the specification and environment the stack gives it), run in a fresh Node process
 * against the DynamoDB and SQS emulators, with the exchange's public API answered by a local
 * server replaying recorded Binance responses. Node's fetch is redirected to that server by a
 * preload; any other host fails the run, so nothing reaches the network.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleSpec, esbuildBuildOptions, handlerEntry } from '../../infra/bundling/esbuild-options.js';
import { bundledExchange } from '../../infra/config/deployment-config.js';
import { functionEnvironment } from '../../infra/config/function-environment.js';
import { resolveDeploymentConfig } from '../../infra/config/stages.js';
import { ENV } from '../../shared/runtime/config.js';
import { RecordedFetch, recorded, type RecordedResponse } from '../fixtures/binance/recorded-fetch.js';
import { startTestDynamo, startTestSqs, TEST_CREDENTIALS, TEST_REGION, type TestDynamo, type TestSqs } from '../support/emulators.js';

const BUNDLING_TIMEOUT_MS = 180_000;
/** The fixtures' "now": 2026-03-02T10:00:30Z. */
const RECORDED_AT = 1772445630000;
const MINUTE = 60_000;
const EXCHANGE_HOST = 'https://api.binance.com';

/** A recorded response moved forward by `shiftMs`, so its data is as fresh now as it was when recorded. */
function shifted(response: RecordedResponse, shiftMs: number): RecordedResponse {
  const body = response.body as unknown;
  if (Array.isArray(body) && Array.isArray(body[0])) {
    return { ...response, body: (body as unknown[][]).map((row) => row.map((v, i) => (i === 0 || i === 6 ? Number(v) + shiftMs : v))) };
  }
  if (Array.isArray(body)) return { ...response, body: (body as Record<string, number>[]).map((t) => ({ ...t, openTime: Number(t['openTime']) + shiftMs, closeTime: Number(t['closeTime']) + shiftMs })) };
  const time = body as { serverTime?: number };
  return time.serverTime === undefined ? response : { ...response, body: { serverTime: time.serverTime + shiftMs } };
}

/** Serves `routes` over HTTP (the path and query as sent to the exchange). */
async function serve(handle: (method: string, url: URL, body: string) => Promise<{ status: number; headers: Record<string, string>; text: string }>): Promise<{ url: string; server: Server }> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      handle(request.method ?? 'GET', new URL(request.url ?? '/', 'http://127.0.0.1'), Buffer.concat(chunks).toString())
        .then((reply) => {
          response.writeHead(reply.status, reply.headers);
          response.end(reply.text);
        })
        .catch((error: unknown) => {
          response.writeHead(599);
          response.end(String(error));
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** Node's fetch, redirected from the exchange's host to the stand-in; anything else is refused. */
const preloadSource = (standIn: string) => `const original = globalThis.fetch;
globalThis.fetch = (input, init) => {
  const url = String(input instanceof Request ? input.url : input);
  if (!url.startsWith(${JSON.stringify(EXCHANGE_HOST)})) return Promise.reject(new TypeError('network access refused in this test: ' + url));
  return original(${JSON.stringify(standIn)} + url.slice(${EXCHANGE_HOST.length}), init);
};
`;

describe('A deployed paper stage on real prices: the scanner bundle (DATA-6)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tradewarden-paper-stage-'));
  const outfile = join(dir, 'scanner', 'index.mjs');
  const preload = join(dir, 'redirect-fetch.mjs');
  let dynamo: TestDynamo;
  let sqs: TestSqs;
  let exchange: { url: string; server: Server };
  let events: { url: string; server: Server; entries: unknown[] };
  const routes = new RecordedFetch();

  beforeAll(async () => {
    [dynamo, sqs] = await Promise.all([startTestDynamo(), startTestSqs()]);
    const config = resolveDeploymentConfig({ paperMarket: 'exchange' });
    await build(esbuildBuildOptions(bundleSpec(bundledExchange(config, 'scanner')), handlerEntry('scanner'), outfile));
    const shift = Math.floor((Date.now() - RECORDED_AT) / MINUTE) * MINUTE;
    routes
      .on('GET', '/api/v3/exchangeInfo', recorded('exchange-info'))
      .on('GET', '/api/v3/time', shifted(recorded('time'), shift))
      .on('GET', '/api/v3/ticker/24hr', shifted(recorded('ticker-24hr'), shift))
      .on('GET', '/api/v3/klines', shifted(recorded('klines-btcusdt'), shift));
    exchange = await serve(async (method, url, body) => {
      const reply = await routes.fetch(`${EXCHANGE_HOST}${url.pathname}${url.search}`, { method, body });
      return { status: reply.status, headers: Object.fromEntries(reply.headers.entries()), text: await reply.text() };
    });
    const entries: unknown[] = [];
    const bus = await serve(async (_method, _url, body) => {
      entries.push(...((JSON.parse(body) as { Entries?: unknown[] }).Entries ?? []));
      return { status: 200, headers: { 'content-type': 'application/x-amz-json-1.1' }, text: JSON.stringify({ FailedEntryCount: 0, Entries: [] }) };
    });
    events = { ...bus, entries };
    writeFileSync(preload, preloadSource(exchange.url));
  }, BUNDLING_TIMEOUT_MS);

  afterAll(async () => {
    exchange?.server.close();
    events?.server.close();
    await Promise.all([dynamo?.stop(), sqs?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('scans the exchange\'s prices through the bundled ccxt class and records the source as exchange', async () => {
    const config = resolveDeploymentConfig({ paperMarket: 'exchange' });
    const env: Record<string, string> = {
      ...functionEnvironment(config, 'scanner', {
        stateTable: dynamo.tables.state,
        auditTable: dynamo.tables.audit,
        idempotencyTable: dynamo.tables.idempotency,
        paperTable: dynamo.tables.paper,
        executionQueueUrl: sqs.queues.executionQueueUrl,
        executionDlqUrl: sqs.queues.executionDlqUrl,
        eventBusName: 'paper-stage-bus',
        exchangeSecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:never-read',
      }),
      [ENV.dynamodbEndpoint]: dynamo.emulator.endpoint,
      [ENV.sqsEndpoint]: sqs.emulator.endpoint,
      AWS_ENDPOINT_URL_EVENTBRIDGE: events.url,
      AWS_REGION: TEST_REGION,
      AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
      // No X-Ray daemon here.
      POWERTOOLS_TRACE_ENABLED: 'false',
      PATH: process.env.PATH ?? '',
    };
    const script =
      'const { handler } = await import(process.argv[1]);' +
      " const context = { functionName: 'scanner', awsRequestId: 'paper-stage-1', getRemainingTimeInMillis: () => 25000 };" +
      ' const result = await handler({ scheduledTime: new Date().toISOString() }, context);' +
      ' process.stdout.write("RESULT " + JSON.stringify(result));';
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', pathToFileURL(preload).href, '--input-type=module', '-e', script, pathToFileURL(outfile).href], { env });
    const result = JSON.parse(stdout.slice(stdout.lastIndexOf('RESULT ') + 'RESULT '.length)) as Record<string, unknown>;

    expect(env[ENV.paperMarket]).toBe('exchange');
    expect(result).toMatchObject({ status: 'scanned', source: 'exchange', pairs: ['BTC/USDT', 'ETH/USDT', 'SOL/USDT'], evaluated: 3, rejectedData: [] });
    // The prices came from the recorded exchange responses, through ccxt's HTTP path.
    expect(routes.count('GET', '/api/v3/exchangeInfo')).toBe(1);
    expect(routes.count('GET', '/api/v3/ticker/24hr')).toBe(1);
    expect(routes.count('GET', '/api/v3/klines')).toBeGreaterThanOrEqual(3);
  }, BUNDLING_TIMEOUT_MS);
});
