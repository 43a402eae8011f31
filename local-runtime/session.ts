/**
 * Joins the running `npm start` stack, or starts the emulators on the same on-disk state for the
 * length of one command, so `invoke` and `ops` work either way.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { LocalRuntime } from './runtime.js';
import { DEFAULT_DATA_DIR, LOCAL_CREDENTIALS, LOCAL_REGION, runningStack, startLocalStack } from './stack.js';
import { loadConfig } from '../shared/runtime/config.js';

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

export async function openLocalSession(): Promise<LocalSession> {
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  process.env.POWERTOOLS_TRACE_ENABLED ??= 'false';
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
  const dataDir = localDataDir();
  const joined = runningStack(dataDir);
  const stack = joined ? undefined : await startLocalStack({ dataDir, userEnv: process.env });
  const env = joined ?? stack?.env ?? {};
  const config = loadConfig({ ...env, POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL });
  const sqs = new SQSClient({ endpoint: config.sqsEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const runtime = new LocalRuntime(config, sqs);
  return {
    runtime,
    dataDir,
    joined: joined !== null,
    async close() {
      runtime.close();
      sqs.destroy();
      await stack?.stop();
    },
  };
}

export async function withLocalRuntime<T>(fn: (runtime: LocalRuntime) => Promise<T>): Promise<T> {
  const session = await openLocalSession();
  try {
    return await fn(session.runtime);
  } finally {
    await session.close();
  }
}
