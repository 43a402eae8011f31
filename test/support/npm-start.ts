/**
 * `npm start` as a child process on a fresh data directory, with its stdout collected line by
 * line so a test can wait for what it prints.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface StartedStack {
  readonly dataDir: string;
  readonly lines: string[];
  /** Resolves with the first line (already printed or still to come) that matches. */
  waitFor(match: RegExp, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

export function npmStart(env: Readonly<Record<string, string>> = {}): StartedStack {
  const dataDir = mkdtempSync(join(tmpdir(), 'tw-start-'));
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts', 'start.ts')], {
    cwd: ROOT,
    env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'ERROR', ...env, TW_LOCAL_DATA_DIR: dataDir },
  });
  const lines: string[] = [];
  const waiters: { match: RegExp; resolve: (line: string) => void }[] = [];
  const take = (line: string) => {
    lines.push(line);
    for (const w of [...waiters]) {
      if (w.match.test(line)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  };
  createInterface({ input: child.stdout }).on('line', take);
  createInterface({ input: child.stderr }).on('line', (line) => take(`stderr: ${line}`));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    dataDir,
    lines,
    waitFor(match, timeoutMs = 60_000) {
      const seen = lines.find((l) => match.test(l));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`npm start printed nothing matching ${match} in ${timeoutMs} ms; last lines:\n${lines.slice(-10).join('\n')}`)), timeoutMs);
        waiters.push({ match, resolve: (line) => (clearTimeout(timer), resolve(line)) });
      });
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGINT');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
