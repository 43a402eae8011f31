/**
 * SEC-7: the console's HTTP surface against an embedded stack. Every request needs the token;
 * state changes need POST, same origin, JSON, the CSRF header and a small body; bad input is a
 * coded error; and none of the refused requests changes anything.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operatorActions } from '../../console/actions.js';
import { localOperatorDeps } from '../../operator/local-transport.js';
import { ConsoleReadModel } from '../../console/read-model.js';
import { CSRF_HEADER, newSecrets } from '../../console/security.js';
import { startConsoleServer, type RunningConsole } from '../../console/server.js';
import type { LocalRuntime } from '../../local-runtime/runtime.js';
import { DynamoDbTunablesStore } from '../../shared/adapters/aws/dynamodb-tunables-store.js';
import { startTestStack, type TestStack } from '../support/local-runtime.js';

describe('Console: token, CSRF and bad input (SEC-7)', () => {
  let t: TestStack;
  let runtime: LocalRuntime;
  let web: RunningConsole;
  const secrets = newSecrets();
  let origin: string;

  const auth = { authorization: `Bearer ${secrets.token}` };
  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(origin + path, { method: 'POST', headers: { 'content-type': 'application/json', ...auth, [CSRF_HEADER]: secrets.csrf, ...headers }, body });
  const pauseState = () => runtime.containers.health.control.getPause();
  const tunablesVersion = async () => (await new DynamoDbTunablesStore({ doc: runtime.containers.health.doc, table: t.config.stateTable }).getTunables()).version;
  /**
   * A POST through node:http that reads the answer even when the server stops reading the
   * body and closes the connection (which is what it does with a body over the limit).
   */
  const rawPost = (path: string, body: string) =>
    new Promise<{ status: number; code: string }>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: web.port, path, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...auth, [CSRF_HEADER]: secrets.csrf } },
        (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, code: (JSON.parse(text) as { error: { code: string } }).error.code }));
        },
      );
      req.on('error', (error: NodeJS.ErrnoException) => {
        // The server answered and closed while the body was still being written.
        if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error);
      });
      req.end(body);
    });
  const errorCode = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;

  beforeAll(async () => {
    t = await startTestStack();
    runtime = t.runtime();
    await runtime.scan(new Date());
    await runtime.drain();
    web = await startConsoleServer({ read: new ConsoleReadModel(runtime.containers.health), actions: operatorActions(localOperatorDeps(runtime)), secrets });
    origin = new URL(web.url).origin;
  });

  afterAll(async () => {
    await web?.stop();
    await t?.stop();
  });

  it('listens on 127.0.0.1 only and prints the token in its address', () => {
    expect(web.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${web.port}/\\?token=${secrets.token}$`));
  });

  it('answers 401 to every page, asset and API call without the right token', async () => {
    for (const path of ['/', '/assets/app.js', '/assets/lightweight-charts.js', '/api/overview', '/api/equity', '/api/live', '/api/tunables']) {
      for (const headers of [{}, { authorization: 'Bearer wrong' }, { cookie: 'tw_console=wrong' }]) {
        const res = await fetch(origin + path, { headers });
        expect(res.status, `${path} ${JSON.stringify(headers)}`).toBe(401);
        expect(await errorCode(res)).toBe('UNAUTHORIZED');
      }
    }
    expect((await fetch(`${origin}/api/overview?token=wrong`)).status).toBe(401);
  });

  it('changes nothing on a POST without the token, even with the CSRF header', async () => {
    const res = await fetch(`${origin}/api/actions/pause`, { method: 'POST', headers: { 'content-type': 'application/json', [CSRF_HEADER]: secrets.csrf }, body: JSON.stringify({ reason: 'x', confirm: true }) });
    expect(res.status).toBe(401);
    expect((await pauseState()).paused).toBe(false);
  });

  it('refuses state changes without the CSRF header, from another origin, by GET or as a form', async () => {
    const body = JSON.stringify({ reason: 'csrf', confirm: true });
    const noCsrf = await fetch(`${origin}/api/actions/pause`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body });
    expect([noCsrf.status, await errorCode(noCsrf)]).toEqual([403, 'CSRF_FAILED']);
    const crossOrigin = await post('/api/actions/pause', body, { origin: 'http://evil.example' });
    expect([crossOrigin.status, await errorCode(crossOrigin)]).toEqual([403, 'CSRF_FAILED']);
    const byGet = await fetch(`${origin}/api/actions/pause`, { headers: auth });
    expect([byGet.status, await errorCode(byGet)]).toEqual([405, 'METHOD_NOT_ALLOWED']);
    const form = await post('/api/actions/pause', 'reason=x&confirm=true', { 'content-type': 'application/x-www-form-urlencoded' });
    expect([form.status, await errorCode(form)]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    expect((await pauseState()).paused).toBe(false);
  });

  it('refuses a cancel with an unknown or malformed order id, without confirmation or without the CSRF header, and changes nothing', async () => {
    const audited = (await runtime.containers.health.audit.verify()).records;
    const unknown = await post('/api/actions/cancel', JSON.stringify({ orderId: 'tw-no-such-order', reason: 'x', confirm: true }));
    expect([unknown.status, await errorCode(unknown)]).toEqual([400, 'VALIDATION_FAILED']);
    const malformed = await post('/api/actions/cancel', JSON.stringify({ orderId: '../tw-1', reason: 'x', confirm: true }));
    expect([malformed.status, await errorCode(malformed)]).toEqual([400, 'VALIDATION_FAILED']);
    const unconfirmed = await post('/api/actions/cancel', JSON.stringify({ orderId: 'tw-no-such-order', reason: 'x' }));
    expect([unconfirmed.status, await errorCode(unconfirmed)]).toEqual([400, 'VALIDATION_FAILED']);
    const noCsrf = await fetch(`${origin}/api/actions/cancel`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify({ orderId: 'tw-x', reason: 'x', confirm: true }) });
    expect([noCsrf.status, await errorCode(noCsrf)]).toEqual([403, 'CSRF_FAILED']);
    expect((await runtime.containers.health.audit.verify()).records).toBe(audited);
  });

  it('refuses a request for another host name (DNS rebinding)', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: web.port, path: '/api/overview', headers: { host: `rebound.example:${web.port}`, ...auth } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(403);
  });

  it('answers bad input with a coded error and changes nothing', async () => {
    const before = await tunablesVersion();
    expect(await rawPost('/api/actions/pause', JSON.stringify({ reason: 'x'.repeat(1024 * 1024), confirm: true }))).toMatchObject({ status: 413, code: 'BODY_TOO_LARGE' });
    const nan = await post('/api/actions/tunables', JSON.stringify({ key: 'maxOpenPositions', value: 'NaN' }));
    expect([nan.status, await errorCode(nan)]).toEqual([400, 'VALIDATION_FAILED']);
    const unknownKey = await post('/api/actions/tunables', JSON.stringify({ key: 'maxOpenPositionz', value: '3' }));
    expect([unknownKey.status, await errorCode(unknownKey)]).toEqual([400, 'VALIDATION_FAILED']);
    const notJson = await post('/api/actions/pause', '{"reason": ');
    expect([notJson.status, await errorCode(notJson)]).toEqual([400, 'VALIDATION_FAILED']);
    const unconfirmed = await post('/api/actions/emergency-stop', JSON.stringify({ reason: 'no confirmation' }));
    expect([unconfirmed.status, await errorCode(unconfirmed)]).toEqual([400, 'VALIDATION_FAILED']);
    const extra = await post('/api/actions/resume', JSON.stringify({ confirm: true, author: 'someone else' }));
    expect([extra.status, await errorCode(extra)]).toEqual([400, 'VALIDATION_FAILED']);
    const order = await fetch(`${origin}/api/orders/tw-no-such-order`, { headers: auth });
    expect([order.status, await errorCode(order)]).toEqual([404, 'NOT_FOUND']);
    const symbol = await fetch(`${origin}/api/candles?symbol=NOPE/USDT`, { headers: auth });
    expect([symbol.status, await errorCode(symbol)]).toEqual([400, 'VALIDATION_FAILED']);
    const history = await fetch(`${origin}/api/history/${encodeURIComponent('bad id!')}`, { headers: auth });
    expect([history.status, await errorCode(history)]).toEqual([400, 'VALIDATION_FAILED']);
    expect(await tunablesVersion()).toBe(before);
    expect((await pauseState()).paused).toBe(false);
  });

  it('applies a good tunable and a pause, audited with the author "console"', async () => {
    const before = await tunablesVersion();
    const set = await post('/api/actions/tunables', JSON.stringify({ key: 'maxOpenPositions', value: '3' }));
    expect(set.status).toBe(200);
    expect(await tunablesVersion()).toBe(before + 1);
    const pause = await post('/api/actions/pause', JSON.stringify({ reason: 'checked by test', confirm: true }));
    expect(pause.status).toBe(200);
    expect(await pauseState()).toMatchObject({ paused: true, author: 'console', reason: 'checked by test' });
    const overview = (await (await fetch(`${origin}/api/overview`, { headers: auth })).json()) as { control: { type: string; data: { author?: string } }[] };
    expect(overview.control.slice(-2).map((r) => [r.type, r.data.author])).toEqual([
      ['control.tunables-set', 'console'],
      ['control.paused', 'console'],
    ]);
  });

  it('sets the token cookie on the page so its own calls are authorized', async () => {
    const page = await fetch(web.url);
    expect(page.status).toBe(200);
    const cookie = page.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    expect(await page.text()).toContain(`content="${secrets.csrf}"`);
    const withCookie = await fetch(`${origin}/api/overview`, { headers: { cookie: cookie.split(';')[0] ?? '' } });
    expect(withCookie.status).toBe(200);
  });
});
