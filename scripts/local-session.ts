/**
 * Joins the running `npm start` stack, or starts the emulators on the same on-disk state for the
 * length of one command, so `invoke` and `ops` work either way.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { LocalRuntime } from '../local-runtime/runtime.js';
import { DEFAULT_DATA_DIR, LOCAL_CREDENTIALS, LOCAL_REGION, runningStack, startLocalStack } from '../local-runtime/stack.js';
import { loadConfig } from '../shared/runtime/config.js';

export async function withLocalRuntime<T>(fn: (runtime: LocalRuntime) => Promise<T>): Promise<T> {
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  process.env.POWERTOOLS_TRACE_ENABLED ??= 'false';
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
  const dataDir = process.env.TW_LOCAL_DATA_DIR ?? DEFAULT_DATA_DIR;
  const joined = runningStack(dataDir);
  const stack = joined ? undefined : await startLocalStack({ dataDir, userEnv: process.env });
  const env = joined ?? stack?.env ?? {};
  const config = loadConfig({ ...env, POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL });
  const sqs = new SQSClient({ endpoint: config.sqsEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const runtime = new LocalRuntime(config, sqs);
  try {
    return await fn(runtime);
  } finally {
    runtime.close();
    sqs.destroy();
    await stack?.stop();
  }
}
