/**
 * OPS-7 end to end: a real `npm start` process, operated by real `npm run ops` processes through
 * its published `.tradewarden/outputs.json` and the standard AWS SDK environment, exactly as the
 * README shows for a deployed stack. Nothing is shared in memory: the only way in is the outputs
 * file and the endpoints, so a local-only shortcut on the deployed path cannot pass.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_STACK_NAME } from '../../shared/definitions/stack-outputs.js';
import { runProcess } from '../../testkit/local-processes.js';
import { npmStart, type StartedStack } from '../support/npm-start.js';

const READY_MS = 120_000;
const CYCLES_MS = 120_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('ops --outputs against a running npm start (real processes)', () => {
  let stack: StartedStack;
  let outputsFile: string;
  let sdkEnv: Record<string, string>;

  /** `npm run ops -- --outputs <file> <argv>` as its own process with the operator's SDK environment. */
  const ops = async (...argv: string[]) => {
    const result = await runProcess('scripts/ops.ts', ['--outputs', outputsFile, ...argv], sdkEnv);
    return { ...result, json: () => JSON.parse(result.stdout) as Record<string, unknown> };
  };

  /** The first cycle line printed after line `from` that matches `match`. */
  const cycleAfter = async (from: number, match: (line: string) => boolean): Promise<{ line: string; index: number }> => {
    const deadline = Date.now() + CYCLES_MS;
    while (Date.now() < deadline) {
      for (let i = from; i < stack.lines.length; i += 1) {
        const line = stack.lines[i] ?? '';
        if (/ cycle \d+ \|/.test(line) && match(line)) return { line, index: i };
      }
      await sleep(250);
    }
    throw new Error(`no matching cycle line after line ${from}; last lines:\n${stack.lines.slice(-8).join('\n')}`);
  };
  const signals = (line: string) => Number(/signals (\d+)/.exec(line)?.[1] ?? NaN);

  beforeAll(async () => {
    // Arrange: npm start on a fresh data directory; its ready line names the outputs file and endpoints.
    stack = npmStart();
    const ready = await stack.waitFor(/stack outputs in /, READY_MS);
    const m = /stack outputs in (\S+) .*AWS_ENDPOINT_URL_DYNAMODB=(\S+) AWS_ENDPOINT_URL_SQS=([^\s)]+)/.exec(ready);
    if (!m) throw new Error(`unexpected ready line: ${ready}`);
    outputsFile = m[1] ?? '';
    sdkEnv = {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'operator',
      AWS_SECRET_ACCESS_KEY: 'operator',
      AWS_ENDPOINT_URL_DYNAMODB: m[2] ?? '',
      AWS_ENDPOINT_URL_SQS: m[3] ?? '',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
      AWS_CONFIG_FILE: '/nonexistent/config',
      // Local-only hints must not help: the ops process may not find the local stack by its files.
      TW_LOCAL_DATA_DIR: join(stack.dataDir, 'not-the-running-stack'),
      POWERTOOLS_LOG_LEVEL: 'ERROR',
    };
    await stack.waitFor(/ cycle 1 \|/, CYCLES_MS);
  }, READY_MS + CYCLES_MS);

  afterAll(async () => {
    await stack?.stop();
  });

  it('publishes outputs.json in the cdk deploy --outputs-file format beside its state', () => {
    expect(outputsFile).toBe(join(stack.dataDir, 'outputs.json'));
    expect(existsSync(outputsFile)).toBe(true);
    const outputs = JSON.parse(readFileSync(outputsFile, 'utf8')) as Record<string, Record<string, string>>;
    expect(Object.keys(outputs)).toEqual([LOCAL_STACK_NAME]);
    expect(Object.keys(outputs[LOCAL_STACK_NAME] ?? {}).length).toBeGreaterThan(3);
  });

  it('set makes the running scanner signal; pause stops its next cycles from producing any; resume restarts it', async () => {
    // A drop of 0.01 % signals on almost every synthetic tick, so a cycle without signals means the pause.
    const set = await ops('set', 'strategies.price-drop.params.dropPercent', '0.01', '--author', 'e2e');
    expect(set.code, set.stderr).toBe(0);
    expect(set.json()).toMatchObject({ key: 'strategies.price-drop.params.dropPercent', value: '0.01' });
    const signalling = await cycleAfter(stack.lines.length, (l) => signals(l) > 0 && !l.includes('PAUSED'));
    expect(signals(signalling.line)).toBeGreaterThan(0);

    // Act: pause through the deployed transport.
    const pause = await ops('pause', '--reason', 'e2e drill', '--author', 'alice');
    expect(pause.code, pause.stderr).toBe(0);
    expect(pause.json()).toMatchObject({ paused: true, reason: 'e2e drill' });

    // Assess: every cycle that starts after the pause is paused and signals nothing.
    const from = stack.lines.length;
    const first = await cycleAfter(from, () => true);
    const second = await cycleAfter(first.index + 1, () => true);
    // The first may have started before the pause was written; the second cannot have.
    expect(second.line).toContain('PAUSED (e2e drill)');
    expect(signals(second.line)).toBe(0);
    const status = await ops('status', '--json');
    expect(status.code, status.stderr).toBe(0);
    expect(status.json()).toMatchObject({ pause: { paused: true, reason: 'e2e drill' } });

    // Act: resume.
    const resume = await ops('resume', '--author', 'alice');
    expect(resume.code, resume.stderr).toBe(0);

    // Assess: the scanner signals again.
    const resumed = await cycleAfter(stack.lines.length, (l) => signals(l) > 0);
    expect(resumed.line).not.toContain('PAUSED');
  }, 4 * CYCLES_MS);

  it('get, health and audit verify read the running stack', async () => {
    const get = await ops('get', 'strategies.price-drop.params.dropPercent');
    expect(get.code, get.stderr).toBe(0);
    expect(get.json()).toMatchObject({ stored: '0.01', effective: '0.01' });

    const health = await ops('health', '--json');
    const report = health.json() as { status: string };
    expect(['OK', 'DEGRADED', 'FAILING']).toContain(report.status);
    expect(health.code, health.stderr).toBe(report.status === 'FAILING' ? 1 : 0);

    const verify = await ops('audit', 'verify');
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/^audit valid: \d+ records/);
  }, CYCLES_MS);

  it('a missing outputs file is a coded error that says what to run, with no stack trace', async () => {
    const result = await runProcess('scripts/ops.ts', ['--outputs', join(stack.dataDir, 'missing.json'), 'status'], sdkEnv);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/[A-Z_]{6,}/);
    expect(result.stderr).toContain('missing.json');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
