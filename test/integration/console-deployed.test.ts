/**
 * `npm run console -- --outputs <file>` (OPS-9): the console against a deployed stack, reached
 * through the deployed transport and the standard AWS SDK environment, here pointed at an
 * embedded stack. It reads the stack's tables and acts through the operator use cases.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSRF_HEADER } from '../../console/security.js';
import type { LocalRuntime } from '../../local-runtime/runtime.js';
import type { OperatorSession } from '../../operator/index.js';
import { parseConsoleArgs, serveDeployedConsole } from '../../scripts/console.js';
import type { RunningConsole } from '../../console/server.js';
import { sdkEnvFor, writeLocalOutputs } from '../support/deployed-env.js';
import { startTestStack, type TestStack } from '../support/local-runtime.js';

describe('Console: against a deployed stack (--outputs)', () => {
  let t: TestStack;
  let runtime: LocalRuntime;
  let outputs: ReturnType<typeof writeLocalOutputs>;
  let served: { session: OperatorSession; web: RunningConsole };
  const saved: Record<string, string | undefined> = {};
  const token = () => new URL(served.web.url).searchParams.get('token') ?? '';
  const api = (path: string, init: RequestInit = {}) =>
    fetch(new URL(path, served.web.url), { ...init, headers: { authorization: `Bearer ${token()}`, ...(init.headers as Record<string, string> | undefined) } });

  beforeAll(async () => {
    t = await startTestStack();
    runtime = t.runtime();
    await runtime.scan(new Date());
    await runtime.drain();
    outputs = writeLocalOutputs(t.stack);
    const env = sdkEnvFor(t.stack);
    for (const name of Object.keys(env)) saved[name] = process.env[name];
    Object.assign(process.env, env);
    served = await serveDeployedConsole(parseConsoleArgs(['--outputs', outputs.file]));
  });

  afterAll(async () => {
    await served?.web.stop();
    await served?.session.close();
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    outputs?.remove();
    await t?.stop();
  });

  it('refuses a command line without a deployed stack, or with a bad one', () => {
    expect(() => parseConsoleArgs([])).toThrow(/name the deployed stack/);
    expect(() => parseConsoleArgs(['--stage', 'Bad Stage'])).toThrow(/--stage must be a stage name/);
    expect(() => parseConsoleArgs(['--stage', 'dev', '--port', 'NaN'])).toThrow(/--port must be/);
    expect(() => parseConsoleArgs(['--stage', 'dev', '--bind', '0.0.0.0'])).toThrow(/Unknown option/);
  });

  it('shows the deployed stack: its orders, ledger and health', async () => {
    const res = await api('/api/overview');
    expect(res.status).toBe(200);
    const overview = (await res.json()) as { orders: unknown[]; ledger: unknown; health: { heartbeats: unknown[] } };
    expect(overview.orders.length).toBeGreaterThan(0);
    expect(overview.ledger).not.toBeNull();
    expect(overview.health.heartbeats.length).toBeGreaterThan(0);
  });

  it('pauses the deployed stack through the operator use cases, audited as the console', async () => {
    const res = await api('/api/actions/pause', { method: 'POST', headers: { 'content-type': 'application/json', [CSRF_HEADER]: served.web.csrf }, body: JSON.stringify({ reason: 'from the deployed console', confirm: true }) });
    expect(res.status).toBe(200);
    expect(await runtime.containers.health.control.getPause()).toMatchObject({ paused: true, author: 'console', reason: 'from the deployed console' });
    expect((await runtime.scan(new Date())).status).toBe('paused');
  });
});
