/**
 * OPS-3 on a deployed stack: `npm run invoke -- --outputs <file> <function> <event-file>` calls
 * the function named by the stack's outputs with Lambda Invoke (the real AWS SDK, SigV4-signed,
 * AWS_ENDPOINT_URL_LAMBDA pointing at a small Lambda stand-in on 127.0.0.1) and prints its
 * result the way the local invoke does. Real processes.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_STACK_NAME, STACK_OUTPUT, functionNameOutput } from '../../shared/definitions/stack-outputs.js';
import { runProcess } from '../../testkit/local-processes.js';

interface Call {
  readonly path: string;
  readonly authorization: string;
  readonly body: unknown;
}

const body = async (req: IncomingMessage) => {
  let text = '';
  for await (const chunk of req) text += String(chunk);
  return text;
};

describe('npm run invoke on a deployed function (Lambda Invoke)', () => {
  let server: Server;
  let endpoint: string;
  let dir: string;
  let outputsFile: string;
  const calls: Call[] = [];

  beforeAll(async () => {
    // A Lambda stand-in: the executor fails, every other function answers with what it was sent.
    server = createServer((req, res) => {
      void body(req).then((text) => {
        const path = req.url ?? '';
        calls.push({ path, authorization: String(req.headers.authorization ?? ''), body: text ? JSON.parse(text) : null });
        if (path.includes('/functions/prod-executor-fn/')) {
          res.writeHead(200, { 'content-type': 'application/json', 'x-amz-function-error': 'Unhandled', 'x-amz-executed-version': '$LATEST' });
          res.end(JSON.stringify({ errorType: 'ValidationError', errorMessage: 'intent.symbol: must look like BTC/USDT', trace: [] }));
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json', 'x-amz-executed-version': '$LATEST' });
        res.end(JSON.stringify({ status: 'OK', echoed: text ? JSON.parse(text) : null }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    dir = mkdtempSync(join(tmpdir(), 'tw-invoke-'));
    outputsFile = join(dir, 'outputs.json');
    writeFileSync(outputsFile, JSON.stringify({ 'Tradewarden-prod': { [functionNameOutput('health')]: 'prod-health-fn', [functionNameOutput('executor')]: 'prod-executor-fn', [STACK_OUTPUT.tradingMode]: 'paper' } }));
  });

  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const sdkEnv = () => ({
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'operator',
    AWS_SECRET_ACCESS_KEY: 'operator',
    AWS_ENDPOINT_URL_LAMBDA: endpoint,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
    AWS_CONFIG_FILE: '/nonexistent/config',
    TW_LOCAL_DATA_DIR: join(dir, 'no-local-state'),
  });

  it('invokes the function named by the outputs with the event file and prints its result', async () => {
    const r = await runProcess('scripts/invoke.ts', ['--outputs', outputsFile, 'health', 'events/health.scheduled.json'], sdkEnv());

    expect(r.code, r.stderr).toBe(0);
    const event = JSON.parse(readFileSync('events/health.scheduled.json', 'utf8')) as unknown;
    expect(JSON.parse(r.stdout)).toEqual({ status: 'OK', echoed: event });
    expect(calls.at(-1)).toMatchObject({ path: '/2015-03-31/functions/prod-health-fn/invocations', body: event });
    expect(calls.at(-1)?.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=operator\/\d{8}\/eu-west-1\/lambda\/aws4_request/);
  }, 120_000);

  it('exits 1 with a coded error carrying the function\'s own error', async () => {
    const r = await runProcess('scripts/invoke.ts', ['--outputs', outputsFile, 'executor', 'events/executor.replay.json'], sdkEnv());

    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(JSON.parse(r.stderr)).toMatchObject({ error: { code: 'FUNCTION_FAILED', details: { functionName: 'prod-executor-fn', errorType: 'ValidationError', errorMessage: 'intent.symbol: must look like BTC/USDT' } } });
  }, 120_000);

  it('names the missing output, the missing credentials and the unknown stage, and calls nothing', async () => {
    const before = calls.length;
    const noFunction = await runProcess('scripts/invoke.ts', ['--outputs', outputsFile, 'reconciler', 'events/reconciler.scheduled.json'], sdkEnv());
    const { AWS_ACCESS_KEY_ID: _k, ...noKeys } = sdkEnv();
    const noCredentials = await runProcess('scripts/invoke.ts', ['--outputs', outputsFile, 'health', 'events/health.scheduled.json'], noKeys);
    const unknownStage = await runProcess('scripts/invoke.ts', ['--stage', 'qa', 'health', 'events/health.scheduled.json'], sdkEnv());
    const wrongStack = await runProcess('scripts/invoke.ts', ['--outputs', outputsFile, '--stage', 'dev', 'health', 'events/health.scheduled.json'], sdkEnv());

    const error = (r: { stderr: string }) => (JSON.parse(r.stderr) as { error: { code: string; message: string } }).error;
    expect(error(noFunction)).toMatchObject({ code: 'STACK_UNAVAILABLE', message: expect.stringContaining('lack ReconcilerFunctionName') });
    expect(error(noCredentials)).toMatchObject({ code: 'STACK_UNAVAILABLE', message: expect.stringContaining('no AWS credentials') });
    expect(error(unknownStage)).toMatchObject({ code: 'STACK_UNAVAILABLE', message: expect.stringContaining('unknown stage "qa"') });
    expect(error(wrongStack)).toMatchObject({ code: 'STACK_UNAVAILABLE', message: expect.stringContaining(`no outputs of Tradewarden-dev (it holds Tradewarden-prod)`) });
    for (const r of [noFunction, noCredentials, unknownStage, wrongStack]) {
      expect(r.code).toBe(1);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(calls.length).toBe(before);
    expect(LOCAL_STACK_NAME).toBe('Tradewarden-local');
  }, 240_000);
});
