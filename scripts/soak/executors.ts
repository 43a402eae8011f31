/** The soak's executor "Lambda containers": the production handler on its own clients, killable at any step. */
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import type { Chaos } from '../../local-runtime/chaos.js';
import { toSqsEvent } from '../../local-runtime/sqs-event.js';
import { LOCAL_CREDENTIALS, localContext } from '../../local-runtime/stack.js';
import { SqsRetryScheduler } from '../../shared/adapters/aws/sqs-retry-scheduler.js';
import type { Clock } from '../../shared/ports/clock.js';
import type { Config } from '../../shared/runtime/config.js';
import type { Container } from '../../shared/runtime/container.js';
import type { ExecutorStep } from '../../shared/use-cases/execute-intent.js';
import { SimulatedCrash } from './harness.js';

/**
 * The functions and the local runtime, loaded when a soak starts rather than with this module,
 * so the environment `main` sets (tracing off, metrics off) is in place before they load.
 */
export async function loadFunctions() {
  const [app, runtime, container, ops] = await Promise.all([
    import('../../functions/executor/app.js'),
    import('../../local-runtime/runtime.js'),
    import('../../shared/runtime/container.js'),
    import('../ops.js'),
  ]);
  return {
    createExecutorHandler: app.createExecutorHandler,
    LocalRuntime: runtime.LocalRuntime,
    EXECUTOR_BATCH_SIZE: runtime.EXECUTOR_BATCH_SIZE,
    LOCAL_TIMEOUT_MS: runtime.LOCAL_TIMEOUT_MS,
    createContainer: container.createContainer,
    redriveLocally: ops.redriveLocally,
  };
}
export type Functions = Awaited<ReturnType<typeof loadFunctions>>;

/** One executor "Lambda container": its own clients, the production handler, a crash plan. */
export interface Worker {
  readonly container: Container;
  invoke(event: SQSEvent): Promise<unknown>;
  /** Kill the coming invocation at this step of this intent. */
  plan?: { intentId: string; step: ExecutorStep };
  dead: boolean;
}

export function makeWorker(fx: Functions, config: Config, clock: Clock, chaos: Chaos, sqs: SQSClient, stats: { crashes: number }): Worker {
  const container = fx.createContainer('executor', config, { clock, credentials: LOCAL_CREDENTIALS, ...chaos.runtimeOptions() });
  chaos.store.attach(container.ddb);
  const worker: Worker = { container, dead: false, invoke: async () => undefined };
  // A dead process runs no `finally`: its lease stays until it expires.
  const release = container.locks.release.bind(container.locks);
  container.locks.release = async (lease, head) => (worker.dead ? false : release(lease, head));
  const scheduler = new SqsRetryScheduler({ sqs, queueUrl: config.executionQueueUrl });
  const handler = fx.createExecutorHandler(container, {
    afterStep: (step, intent) => {
      if (worker.dead) throw new SimulatedCrash(step);
      if (worker.plan && worker.plan.intentId === intent.id && worker.plan.step === step) {
        worker.dead = true;
        stats.crashes += 1;
        throw new SimulatedCrash(step);
      }
    },
    retryScheduler: { retryLater: async (requests) => (worker.dead ? undefined : scheduler.retryLater(requests)) },
  });
  worker.invoke = (event) => (handler as unknown as (e: unknown, c: unknown) => Promise<unknown>)(event, localContext('tradewarden-executor', fx.LOCAL_TIMEOUT_MS.executor));
  return worker;
}

/** What one delivery needs of the soak: its functions, queue, chaos, crash plan draws and counters. */
export interface DeliveryContext {
readonly fx: Functions;
readonly sqs: SQSClient;
readonly config: Config;
readonly chaos: Chaos;
readonly crashRandom: () => number;
readonly crashRate: number;
readonly stats: { invocations: number; received: number; failedRecords: number };
}

const EXECUTOR_STEPS: readonly ExecutorStep[] = ['before-claim', 'after-claim', 'after-reserve', 'after-submitting', 'after-exchange-accepted', 'after-record'];

/**
 * One poll and one invocation of a worker, as the event source does: a planned crash may kill it
 * (then it deletes nothing and the batch comes back after the visibility timeout). Returns how
 * many messages it received.
 */
export async function deliverOnce(worker: Worker, at: DeliveryContext): Promise<number> {
const { fx, sqs, config, chaos, crashRandom, stats } = at;
  const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: config.executionQueueUrl, MaxNumberOfMessages: fx.EXECUTOR_BATCH_SIZE, MessageSystemAttributeNames: ['All'] }));
  const messages = out.Messages ?? [];
  if (messages.length === 0) return 0;
  stats.invocations += 1;
  stats.received += messages.length;
  worker.dead = false;
  delete worker.plan;
  if (chaos.running && crashRandom() < at.crashRate) {
    const victim = messages[Math.floor(crashRandom() * messages.length)];
    const step = EXECUTOR_STEPS[Math.floor(crashRandom() * EXECUTOR_STEPS.length)] ?? 'after-claim';
    try {
      worker.plan = { intentId: (JSON.parse(victim?.Body ?? '{}') as { id?: string }).id ?? '', step };
    } catch {
      // Not an intent: nothing to kill it at.
    }
  }
  let failed: Set<string>;
  try {
    const response = (await worker.invoke(toSqsEvent(messages, config.executionQueueUrl))) as { batchItemFailures?: { itemIdentifier: string }[] } | undefined;
    failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
  } catch {
    failed = new Set(messages.map((m) => m.MessageId ?? ''));
  }
  if (worker.dead) {
    // The process died: no answer, so the event source deletes nothing and every message
    // comes back after the queue's visibility timeout.
    stats.failedRecords += messages.length;
    worker.dead = false;
    return messages.length;
  }
  stats.failedRecords += failed.size;
  const done = messages.filter((m) => !failed.has(m.MessageId ?? ''));
  if (done.length > 0) {
    await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: config.executionQueueUrl, Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })) }));
  }
  return messages.length;
}
