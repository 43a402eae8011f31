/**
 * A whole embedded stack for end-to-end tests: emulators on port 0, in memory, and a runtime
 * whose clock the test drives.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { startLocalStack, LOCAL_CREDENTIALS, LOCAL_REGION, type LocalStack } from '../../local-runtime/stack.js';
import { LocalRuntime } from '../../local-runtime/runtime.js';
import { loadConfig, type Config } from '../../shared/runtime/config.js';
import type { Clock } from '../../shared/ports/clock.js';
import type { ContainerOptions } from '../../shared/runtime/container.js';
import type { ExecuteIntentDeps } from '../../shared/use-cases/execute-intent.js';

/** A clock the test moves by hand. */
export class ManualClock implements Clock {
  constructor(private current: Date) {}
  now(): Date {
    return new Date(this.current);
  }
  advance(ms: number): Date {
    this.current = new Date(this.current.getTime() + ms);
    return this.now();
  }
  set(at: Date): void {
    this.current = new Date(at);
  }
}

export interface TestStack {
  readonly stack: LocalStack;
  readonly config: Config;
  readonly sqs: SQSClient;
  runtime(options?: ContainerOptions & { afterStep?: ExecuteIntentDeps['afterStep'] }): LocalRuntime;
  stop(): Promise<void>;
}

export async function startTestStack(env: Readonly<Record<string, string>> = {}): Promise<TestStack> {
  const stack = await startLocalStack({ userEnv: env });
  const config = loadConfig({ ...stack.env, POWERTOOLS_LOG_LEVEL: 'SILENT' });
  const sqs = new SQSClient({ endpoint: stack.sqs.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const runtimes: LocalRuntime[] = [];
  return {
    stack,
    config,
    sqs,
    runtime(options = {}) {
      const r = new LocalRuntime(config, sqs, options);
      runtimes.push(r);
      return r;
    },
    async stop() {
      for (const r of runtimes) r.close();
      sqs.destroy();
      await stack.stop();
    },
  };
}
