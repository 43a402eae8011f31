/**
 * Real `npm start` and `npm run invoke` processes on a state directory, for the tests and the
 * restart soak that kill them. Each runs `node --import tsx <script>` (what the npm scripts run,
 * without npm's own process in between, so the pid is the script's).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

export interface ProcessResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface StartedProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Everything printed so far. */
  output(): string;
  /** Resolves when the output matches `pattern`; rejects when the process ends first or after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<string>;
  /** Resolves with the exit when the process ends. */
  exited: Promise<ProcessResult>;
}

const nodeScript = (script: string, args: readonly string[]) => [process.execPath, ['--import', 'tsx', script, ...args]] as const;

/** Starts `script` with `env` (added to this process's environment). */
export function startProcess(script: string, args: readonly string[], env: Readonly<Record<string, string>>): StartedProcess {
  const [command, argv] = nodeScript(script, args);
  const child = spawn(command, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
    for (const l of listeners) l();
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
    for (const l of listeners) l();
  });
  const exited = once(child, 'close').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null, stdout, stderr }));
  let ended = false;
  void exited.then(() => {
    ended = true;
    for (const l of listeners) l();
  });
  return {
    child,
    pid: child.pid ?? -1,
    output: () => stdout + stderr,
    exited,
    waitFor(pattern, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = pattern.exec(stdout + stderr);
          if (m) {
            cleanup();
            resolve(m[0]);
          } else if (ended) {
            cleanup();
            reject(new Error(`process ended before printing ${String(pattern)}:\n${stdout}\n${stderr}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no ${String(pattern)} within ${timeoutMs} ms:\n${stdout}\n${stderr}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
  };
}

/** Runs `script` to its end. */
export function runProcess(script: string, args: readonly string[], env: Readonly<Record<string, string>>): Promise<ProcessResult> {
  return startProcess(script, args, env).exited;
}

/** Printed by `npm start` once its stack is up and published. */
export const START_READY = /stack outputs in /;
/** Printed by `npm start` after each scanner cycle. */
export const START_CYCLE = /cycle \d+ \|/;
/** Printed by `npm start` when it took over from one that did not stop. */
export const START_RECOVERED = /recovered after an unclean stop/;
