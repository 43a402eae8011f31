/**
 * Runs the four handlers on one machine the way AWS would: the scheduled ones on demand or on
 * their (compressed) schedules, the executor fed from the FIFO queue like the Lambda event
 * source (batches, visibility timeout, redelivery with backoff, DLQ after maxReceiveCount).
 */
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse } from 'aws-lambda';
import { AUDIT_CHECKPOINT_EVENT, createAuditCheckpointHandler } from '../functions/audit-checkpoint/app.js';
import { createExecutorHandler } from '../functions/executor/app.js';
import { createHealthHandler } from '../functions/health/app.js';
import { createReconcilerHandler } from '../functions/reconciler/app.js';
import { createScannerHandler } from '../functions/scanner/app.js';
import { DynamoDbAuditLog } from '../shared/adapters/aws/dynamodb-audit-log.js';
import { DirectoryAuditCheckpointStore } from '../shared/adapters/local/directory-audit-checkpoint-store.js';
import type { JobName } from '../shared/definitions/schedules.js';
import { ConfigError, StorageError } from '../shared/domain/errors.js';
import type { AuditCheckpointStore } from '../shared/ports/audit-checkpoints.js';
import { ENV, type Config } from '../shared/runtime/config.js';
import { retryDelaySeconds } from '../shared/domain/timing.js';
import { EXECUTION_DLQ_NAME, EXECUTION_QUEUE_NAME, createContainer, type Container, type ContainerOptions } from '../shared/runtime/container.js';
import { exchangeClientFactory } from '../shared/runtime/entry.js';
import { FauxqsQueueAges } from './fauxqs-queue-ages.js';
import type { ExecuteIntentDeps } from '../shared/use-cases/execute-intent.js';
import type { HealthReport } from '../shared/use-cases/check-health.js';
import type { CheckpointResult } from '../shared/use-cases/checkpoint-audit.js';
import type { ReconcileReport } from '../shared/use-cases/reconcile.js';
import type { ScanResult } from '../shared/use-cases/scan-market.js';
import { LOCAL_CREDENTIALS, localContext, localFunctionName } from './stack.js';
import { toSqsEvent } from './sqs-event.js';

/** Lambda's SQS event source hands at most ten FIFO messages to one invocation. */
export const EXECUTOR_BATCH_SIZE = 10;
/** Function timeouts used for local invocations (getRemainingTimeInMillis). */
export const LOCAL_TIMEOUT_MS = { scanner: 60_000, executor: 30_000, reconciler: 120_000, health: 30_000 } as const;
export interface ExecutorDelivery {
  readonly received: number;
  readonly succeeded: number;
  readonly failed: number;
}

type Invoke = (event: unknown, context: ReturnType<typeof localContext>) => Promise<unknown>;

/**
 * What the local containers need beyond the configuration: for paper on real prices
 * (TW_PAPER_MARKET=exchange, DATA-6), the keyless ccxt client of TW_EXCHANGE_ID.
 */
export async function localMarketOptions(config: Config): Promise<Pick<ContainerOptions, 'marketDataClient'>> {
  return config.mode === 'paper' && config.paperMarket === 'exchange' ? { marketDataClient: await exchangeClientFactory(config) } : {};
}

export class LocalRuntime {
  readonly containers: Record<JobName, Container>;
  /** The audit checkpoints (SEC-5): the append-only directory TW_AUDIT_CHECKPOINT_DIR, when set. */
  readonly checkpointStore: AuditCheckpointStore | undefined;
  private readonly handlers: Record<JobName, Invoke>;
  private readonly checkpointHandler: Invoke | undefined;

  constructor(
    readonly config: Config,
    readonly sqs: SQSClient,
    options: ContainerOptions & { afterStep?: ExecuteIntentDeps['afterStep'] } = {},
  ) {
    // Health reads the age of the oldest intent from the embedded SQS, as CloudWatch's
    // ApproximateAgeOfOldestMessage is read on AWS (EXE-13).
    const queueAges =
      options.queueAges ??
      (config.sqsEndpoint
        ? new FauxqsQueueAges({ endpoint: config.sqsEndpoint, queues: { [EXECUTION_QUEUE_NAME]: config.executionQueueUrl, [EXECUTION_DLQ_NAME]: config.executionDlqUrl } })
        : undefined);
    const make = (job: JobName) => createContainer(job, config, { credentials: LOCAL_CREDENTIALS, ...options, ...(queueAges ? { queueAges } : {}) });
    this.containers = { scanner: make('scanner'), executor: make('executor'), reconciler: make('reconciler'), health: make('health') };
    this.handlers = {
      scanner: createScannerHandler(this.containers.scanner) as unknown as Invoke,
      executor: createExecutorHandler(this.containers.executor, options.afterStep ? { afterStep: options.afterStep } : {}) as unknown as Invoke,
      reconciler: createReconcilerHandler(this.containers.reconciler) as unknown as Invoke,
      health: createHealthHandler(this.containers.health) as unknown as Invoke,
    };
    const health = this.containers.health;
    this.checkpointStore = config.auditCheckpointDir ? new DirectoryAuditCheckpointStore(config.auditCheckpointDir) : undefined;
    this.checkpointHandler = this.checkpointStore
      ? (createAuditCheckpointHandler({
          heads: new DynamoDbAuditLog({ doc: health.doc, auditTable: config.auditTable, stateTable: config.stateTable }),
          checkpoints: this.checkpointStore,
          clock: health.clock,
          logger: health.observability.logger,
        }) as unknown as Invoke)
      : undefined;
  }

  /**
   * One run of the audit checkpoint, as its schedule would (SEC-5).
   * @throws ConfigError when no checkpoint directory is set.
   */
  checkpoint(): Promise<CheckpointResult> {
    if (!this.checkpointHandler) throw new ConfigError([`${ENV.auditCheckpointDir}: no audit checkpoint directory is set`]);
    return this.checkpointHandler(AUDIT_CHECKPOINT_EVENT, localContext('tradewarden-audit-checkpoint', LOCAL_TIMEOUT_MS.health)) as Promise<CheckpointResult>;
  }

  /** One invocation of a function with an event, as `aws lambda invoke` would do. */
  invoke(job: JobName, event: unknown): Promise<unknown> {
    return this.handlers[job](event, localContext(localFunctionName(job), LOCAL_TIMEOUT_MS[job]));
  }

  scan(scheduledTime: Date, dryRun = false): Promise<ScanResult> {
    return this.invoke('scanner', { scheduledTime: scheduledTime.toISOString(), ...(dryRun ? { dryRun } : {}) }) as Promise<ScanResult>;
  }

  reconcile(): Promise<ReconcileReport> {
    return this.invoke('reconciler', { scheduledTime: this.containers.reconciler.clock.now().toISOString() }) as Promise<ReconcileReport>;
  }

  health(): Promise<HealthReport> {
    return this.invoke('health', { scheduledTime: this.containers.health.clock.now().toISOString() }) as Promise<HealthReport>;
  }

  /**
   * One poll of the execution queue and one executor invocation with what it returned:
   * succeeded records are deleted, failed ones become visible again after the executor's own
   * retry backoff (shared/domain/timing.ts), unless the caller fixes the delay
   * (`visibilityTimeoutSeconds`, e.g. 0 to redeliver at once).
   *
   * The messages are received with the queue's own visibility timeout, as the Lambda event
   * source does, never with the caller's delay: a message received with 0 s would be visible
   * again while the executor still works on it, the emulator would drop the receipt handle, and
   * the delete of a succeeded record would miss it (a second delivery of a done record). A delete
   * the queue reports as failed is an error, never ignored.
   */
  async deliverOnce(options: { visibilityTimeoutSeconds?: number } = {}): Promise<ExecutorDelivery> {
    const out = await this.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.config.executionQueueUrl,
        MaxNumberOfMessages: EXECUTOR_BATCH_SIZE,
        MessageSystemAttributeNames: ['All'],
      }),
    );
    const messages = out.Messages ?? [];
    if (messages.length === 0) return { received: 0, succeeded: 0, failed: 0 };
    const event = toSqsEvent(messages, this.config.executionQueueUrl);
    let failedIds: Set<string>;
    try {
      const response = (await this.invoke('executor', event)) as SQSBatchResponse | undefined;
      failedIds = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
    } catch {
      // The whole invocation failed (Lambda would retry the whole batch): every message stays.
      failedIds = new Set(messages.map((m) => m.MessageId ?? ''));
    }
    const done = messages.filter((m) => !failedIds.has(m.MessageId ?? ''));
    if (done.length > 0) {
      const deleted = await this.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.config.executionQueueUrl,
          Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })),
        }),
      );
      const failedDeletes = deleted.Failed ?? [];
      if (failedDeletes.length > 0) {
        throw new StorageError(
          `the execution queue did not delete ${failedDeletes.length} succeeded record(s): ${failedDeletes.map((f) => `${f.Code ?? 'unknown'} ${f.Message ?? ''}`.trim()).join('; ')}`,
        );
      }
    }
    for (const m of messages.filter((x) => failedIds.has(x.MessageId ?? ''))) {
      const receives = Number(m.Attributes?.ApproximateReceiveCount ?? '1');
      await this.sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: this.config.executionQueueUrl,
          ReceiptHandle: m.ReceiptHandle ?? '',
          VisibilityTimeout: options.visibilityTimeoutSeconds ?? retryDelaySeconds(receives),
        }),
      );
    }
    return { received: messages.length, succeeded: done.length, failed: messages.length - done.length };
  }

  /** Delivers until the queue returns nothing visible. */
  async drain(options: { visibilityTimeoutSeconds?: number; maxRounds?: number } = {}): Promise<ExecutorDelivery> {
    const total = { received: 0, succeeded: 0, failed: 0 };
    for (let round = 0; round < (options.maxRounds ?? 1000); round += 1) {
      const d = await this.deliverOnce(options);
      if (d.received === 0) break;
      total.received += d.received;
      total.succeeded += d.succeeded;
      total.failed += d.failed;
    }
    return total;
  }

  close(): void {
    for (const c of Object.values(this.containers)) {
      c.ddb.destroy();
      c.sqs.destroy();
    }
  }
}
