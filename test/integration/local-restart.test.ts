/**
 * The local stack survives the ways a laptop or a container stops it: `npm start` killed with
 * SIGKILL at random moments (an OOM kill, a closed lid), killed while its parent never reaps it
 * (a zombie, as under a container's PID 1), and two `npm run invoke` started at once without a
 * running `npm start`. Real processes, really killed.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { processState } from '../../local-runtime/state-lock.js';
import { START_CYCLE, START_READY, START_RECOVERED, runProcess, startProcess, type StartedProcess } from '../../testkit/local-processes.js';

const READY_MS = 120_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Local stack: unclean stops and concurrent commands', () => {
  let dataDir: string;
  let env: Record<string, string>;
  const started: StartedProcess[] = [];
  const start = () => {
    const p = startProcess('scripts/start.ts', [], env);
    started.push(p);
    return p;
  };

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'tw-restart-'));
    env = { TW_LOCAL_DATA_DIR: dataDir, POWERTOOLS_LOG_LEVEL: 'ERROR' };
  });

  afterEach(async () => {
    for (const p of started.splice(0)) {
      if (p.child.exitCode === null && p.child.signalCode === null) {
        p.child.kill('SIGKILL');
        await p.exited;
      }
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('never refuses the next npm start after SIGKILL, during start-up or while running, and says what it recovered', async () => {
    // Killed while starting (emulators opening their files), then killed while running.
    const first = start();
    await sleep(1500);
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');

    const second = start();
    await second.waitFor(START_READY, READY_MS);
    second.child.kill('SIGKILL');
    await second.exited;

    // Act
    const third = start();

    // Assess: it takes over at once, says so, and trades.
    await third.waitFor(START_RECOVERED, READY_MS);
    expect(third.output()).toMatch(new RegExp(`npm start \\(pid ${second.pid}, since [^)]+\\) did not stop cleanly and it is gone`));
    expect(third.output()).toMatch(/state kept: \d+\+? orders not final .* \d+ intents queued or in flight .* \d+ dead-lettered/);
    await third.waitFor(START_CYCLE, READY_MS);
    third.child.kill('SIGINT');
    expect((await third.exited).code).toBe(0);
  }, 400_000);

  it('takes over from a killed npm start that nobody reaped (a zombie) without waiting', async () => {
    // Prepare: sh starts npm start in the background, then becomes `sleep`, which never reaps it.
    const shell = spawn('sh', ['-c', `"${process.execPath}" --import tsx scripts/start.ts & echo "started pid $!"; exec sleep 600`], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let printed = '';
    shell.stdout.on('data', (d: Buffer) => (printed += d.toString()));
    try {
      const deadline = Date.now() + READY_MS;
      while (!START_READY.test(printed) && Date.now() < deadline) await sleep(200);
      expect(printed).toMatch(START_READY);
      const pid = Number(/started pid (\d+)/.exec(printed)?.[1]);
      process.kill(pid, 'SIGKILL');
      while (processState(pid, null) === 'alive') await sleep(50);
      expect(processState(pid, null)).toBe('zombie');
      expect(readFileSync(join(dataDir, 'stack.json'), 'utf8')).toContain(`"pid": ${pid}`);

      // Act
      const next = start();

      // Assess
      await next.waitFor(START_RECOVERED, READY_MS);
      expect(next.output()).toContain(`(pid ${pid}, since`);
      expect(next.output()).toContain('zombie');
      await next.waitFor(START_READY, READY_MS);
      next.child.kill('SIGINT');
      expect((await next.exited).code).toBe(0);
    } finally {
      shell.kill('SIGKILL');
    }
  }, 300_000);

  it('runs two npm run invoke started at once without npm start: they take turns, both succeed', async () => {
    const [a, b] = await Promise.all([
      runProcess('scripts/invoke.ts', ['health', 'events/health.scheduled.json'], env),
      runProcess('scripts/invoke.ts', ['health', 'events/health.scheduled.json'], env),
    ]);
    for (const r of [a, b]) {
      expect(r.stderr).not.toContain('Database is closed');
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ status: expect.stringMatching(/^(OK|DEGRADED|FAILING)$/) });
    }
  }, 300_000);
});
