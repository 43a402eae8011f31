/**
 * Joins the running `npm start` stack, or starts the emulators on the same on-disk state for the
 * length of one command, so `invoke` and `ops` work either way. Commands that start their own
 * emulators take the state lock first (state-lock.ts): two of them at once take turns instead of
 * opening the same databases twice, and a command started while `npm start` is starting waits
 * and then joins it.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { StackUnavailableError } from '../shared/operations/errors.js';
import { assertKnownSettings, loadConfig } from '../shared/runtime/config.js';
import { LocalRuntime, localMarketOptions } from './runtime.js';
import { DEFAULT_DATA_DIR, LOCAL_CREDENTIALS, LOCAL_REGION, runningStack, startLocalStack } from './stack.js';
import { StateBusyError, acquireStateLock, type HeldStateLock } from './state-lock.js';

/** How long a command waits for another command (or a starting `npm start`) to let go of the state. */
export const COMMAND_WAIT_MS = 120_000;

export interface LocalSession {
  readonly runtime: LocalRuntime;
  readonly dataDir: string;
  /** True when it joined a running `npm start`; false when it started the emulators itself. */
  readonly joined: boolean;
  close(): Promise<void>;
}

/** The state directory of the local stack: TW_LOCAL_DATA_DIR, or .tradewarden. */
export function localDataDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  return env.TW_LOCAL_DATA_DIR ?? DEFAULT_DATA_DIR;
}

/**
 * The environment of a running `npm start` to join, or the state lock to start the emulators under.
 * @throws StackUnavailableError when another command holds the state longer than `waitMs`.
 */
async function joinOrLock(dataDir: string, command: string, waitMs: number): Promise<{ env: Record<string, string> } | { lock: HeldStateLock }> {
  for (;;) {
    const env = runningStack(dataDir);
    if (env) return { env };
    let lock: HeldStateLock | null;
    try {
      lock = await acquireStateLock(dataDir, {
        role: 'command',
        command,
        waitMs,
        // A running npm start that has published its stack is joined, not waited for.
        whileHeld: (owner) => (owner?.role === 'npm-start' && runningStack(dataDir) ? 'give-up' : 'wait'),
      });
    } catch (error) {
      if (!(error instanceof StateBusyError)) throw error;
      throw new StackUnavailableError(
        `the local state in ${dataDir} is ${error.message}`,
        'wait for it to finish and run this again, or keep npm start running so commands share its stack',
        { cause: error },
      );
    }
    if (lock) return { lock };
  }
}

export async function openLocalSession(options: { command?: string; waitMs?: number } = {}): Promise<LocalSession> {
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  process.env.POWERTOOLS_TRACE_ENABLED ??= 'false';
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
  assertKnownSettings(process.env);
  const dataDir = localDataDir();
  const target = await joinOrLock(dataDir, options.command ?? `tradewarden ${process.argv.slice(2).join(' ')}`.trim(), options.waitMs ?? COMMAND_WAIT_MS);
  const lock = 'lock' in target ? target.lock : undefined;
  let stack;
  try {
    stack = lock ? await startLocalStack({ dataDir, userEnv: process.env }) : undefined;
  } catch (error) {
    await lock?.release();
    throw error;
  }
  const env = 'env' in target ? target.env : (stack?.env ?? {});
  const config = loadConfig({ ...env, POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL });
  const sqs = new SQSClient({ endpoint: config.sqsEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const runtime = new LocalRuntime(config, sqs, await localMarketOptions(config));
  return {
    runtime,
    dataDir,
    joined: stack === undefined,
    async close() {
      runtime.close();
      sqs.destroy();
      try {
        await stack?.stop();
      } finally {
        await lock?.release();
      }
    },
  };
}

export async function withLocalRuntime<T>(fn: (runtime: LocalRuntime) => Promise<T>, options: { command?: string } = {}): Promise<T> {
  const session = await openLocalSession(options);
  try {
    return await fn(session.runtime);
  } finally {
    await session.close();
  }
}
