/**
 * Executor handler: an SQS FIFO batch with partial batch responses (a failed record is retried
 * alone; the others of its message group wait behind it), or one ad hoc intent to replay
 * (OPS-3: `{"intent": {...}}`, events/executor.replay.json).
 *
 * Exactly once, in layers (outermost first; each one only saves work, the last ones decide):
 * 1. SQS FIFO deduplication by intent id (five minutes);
 * 2. the order record (shared/use-cases/execute-intent.ts): deterministic client order id,
 *    conditional claim, symbol lease with fencing token, lookup before any re-send; a delivery of
 *    an intent id with other trade fields than its order was claimed with is refused as a bad
 *    input (INTENT_FINGERPRINT, first-round-trip.ts);
 * 3. the exchange's rejection of a duplicate client order id.
 * A duplicate delivery is answered from the order record (one round trip: the order read, and
 * the symbol lease taken and given back); a concurrent one is refused by the symbol lease
 * (LOCK_HELD, retryable). There is no separate idempotency record per intent (PERF-2: it cost
 * two writes per executed intent and decided nothing the order record does not).
 *
 * Failures of a queued record (EXE-4, SEC-4):
 * - retryable: the record fails in the batch response and comes back after an exponential,
 *   jittered delay (retry-policy.ts) set through the RetryScheduler; after maxReceiveCount the
 *   queue dead-letters it;
 * - not retryable (VALIDATION_FAILED, ...): the handler sends the record to the dead-letter
 *   queue itself, with the error code and reason as message attributes, and acknowledges it, so
 *   it leaves its FIFO group at once and the next intent of the symbol runs in the same batch
 *   or the next delivery. If the dead-letter send fails, the record fails like a retryable one.
 * The metrics RecordsFailed (failed on their own error, per batch) and DeadLettered feed alarms:
 * with partial batch responses a failed record is not a Lambda error.
 */
import { FullBatchFailureError, processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { ExchangeUnknownOutcomeError, ValidationError, toTradewardenError, type ErrorCode } from '../../shared/domain/errors.js';
import { IntentSchema, type Intent } from '../../shared/domain/intent.js';
import type { RetryScheduler } from '../../shared/ports/retry-scheduler.js';
import type { DeadLetterQueue } from '../../shared/ports/dead-letter-queue.js';
import { DynamoDbTunablesStore } from '../../shared/adapters/aws/dynamodb-tunables-store.js';
import { configuredProtections } from '../../shared/runtime/config.js';
import type { Container } from '../../shared/runtime/container.js';
import { ExecutorEventSchema } from '../../shared/runtime/events/executor.js';
import { parseWith, withStack } from '../../shared/runtime/handler-stack.js';
import { MetricName } from '../../shared/runtime/metric-names.js';
import { executeIntent, type ExecuteIntentDeps, type ExecutionResult } from '../../shared/use-cases/execute-intent.js';
import { entryLimitsOf } from '../../shared/use-cases/scan-settings.js';
import type { EntryLimits } from '../../shared/domain/entry-limits.js';
import { RESEND_GRACE_MS } from '../../shared/domain/timing.js';
import { isSkipped, planRetries, type FailedRecord } from './retry-policy.js';

const OUTCOME_METRIC = {
  executed: MetricName.OrdersPlaced,
  rejected: MetricName.OrdersRejected,
  expired: MetricName.OrdersRejected,
  'already-processed': MetricName.DuplicateDeliveries,
} as const;

export interface ExecutorHandlerOptions {
  /** Test hook of the use case (TST-2). */
  readonly afterStep?: ExecuteIntentDeps['afterStep'];
  /**
   * Reschedules records that failed with a retryable error (EXE-4). Without it a failed record
   * comes back after the queue's visibility timeout (the local runtime applies its own backoff).
   */
  readonly retryScheduler?: RetryScheduler;
  /** Jitter source of the retry backoff. @default Math.random */
  readonly random?: () => number;
  /**
   * Where records that can never succeed go (SEC-4).
   * @default the container's execution dead-letter queue
   */
  readonly deadLetters?: DeadLetterQueue;
}

/** A queued record that could never succeed and was moved to the dead-letter queue. */
export interface DeadLettered {
  readonly outcome: 'dead-lettered';
  readonly errorCode: ErrorCode;
  readonly reason: string;
}

export function createExecutorHandler(c: Container, options: ExecutorHandlerOptions = {}) {
  const tunables = new DynamoDbTunablesStore({ doc: c.stateDoc, table: c.config.stateTable });
  /** The entry limits as this invocation read them (reset when an invocation starts). */
  let limitsThisInvocation: Promise<EntryLimits> | undefined;
  const protections = configuredProtections(c.config);
  const deps: ExecuteIntentDeps = {
    orders: c.orders,
    accounts: c.accounts,
    locks: c.locks,
    exchange: c.exchange,
    audit: c.audit,
    control: c.control,
    clock: c.clock,
    marketRules: (symbol) => c.marketRules(symbol),
    markets: () => c.markets(),
    entryLimits: () => {
      // Read once per invocation (a batch of up to ten intents), not once per entry; a failed
      // read is not kept, so the next entry reads again.
      limitsThisInvocation ??= tunables.getTunables().then(
        (read) => entryLimitsOf(protections, read.tunables),
        (error: unknown) => {
          limitsThisInvocation = undefined;
          throw error;
        },
      );
      return limitsThisInvocation;
    },
    settings: {
      quoteCurrency: c.config.quoteCurrency,
      lockLeaseMs: c.config.lockLeaseSeconds * 1000,
      reservationBufferPercent: c.config.reservationBufferPercent,
      owner: 'executor',
      resendGraceMs: RESEND_GRACE_MS,
      intentTtlMs: c.config.intentTtlSeconds * 1000,
    },
    ...(options.afterStep ? { afterStep: options.afterStep } : {}),
  };
  const { logger, metrics } = c.observability;

  /**
   * The use case, then the audit head updates it left to do (the container's log moves each
   * stream's head once per intent, PERF-2): settled before the result counts, so a failed one fails the
   * record like any failed write. When the use case failed, its error is what the record fails
   * with, and a head update that failed too is logged.
   */
  const execute = async (intent: Intent): Promise<ExecutionResult> => {
    let outcome: ExecutionResult;
    try {
      outcome = await executeIntent(deps, intent);
    } catch (error) {
      await c.audit.settle?.().catch((settleError: unknown) => logger.error('audit head update failed', { error: String(settleError) }));
      throw error;
    }
    await c.audit.settle?.();
    return outcome;
  };

  const run = async (raw: unknown): Promise<ExecutionResult> => {
    const intent = parseWith(IntentSchema, raw, 'intent');
    logger.appendKeys({ correlationId: intent.correlationId ?? intent.id, intentId: intent.id, symbol: intent.symbol });
    await c.ensureAccount();
    let result: ExecutionResult;
    try {
      result = await execute(intent);
    } catch (error) {
      // The order stays UNKNOWN until a lookup by client order id resolves it (EXE-3).
      if (error instanceof ExchangeUnknownOutcomeError) metrics.addMetric(MetricName.OrdersUnknown, MetricUnit.Count, 1);
      throw error;
    }
    metrics.addMetric(OUTCOME_METRIC[result.outcome], MetricUnit.Count, 1);
    if (result.outcome !== 'already-processed' && result.filled !== '0') metrics.addMetric(MetricName.Fills, MetricUnit.Count, 1);
    logger.info('intent processed', { result });
    return result;
  };

  const deadLetters = options.deadLetters ?? c.deadLetters;

  const processRecord = async (record: SQSRecord): Promise<ExecutionResult> => {
    let body: unknown;
    try {
      body = JSON.parse(record.body);
    } catch (error) {
      throw new ValidationError('message body is not valid JSON', [], { cause: error, details: { messageId: record.messageId } });
    }
    return run(body);
  };

  /**
   * One record: a failure that no redelivery can fix goes to the dead-letter queue and the
   * record is acknowledged; every other failure is rethrown (the record fails and comes back).
   */
  const recordHandler = async (record: SQSRecord): Promise<ExecutionResult | DeadLettered> => {
    try {
      return await processRecord(record);
    } catch (error) {
      const coded = toTradewardenError(error);
      if (coded.retryable) throw error;
      // Rejects when SQS does not take it: the record then fails and is redelivered (never lost).
      await deadLetters.send({
        messageId: record.messageId,
        body: record.body,
        ...(record.attributes.MessageGroupId ? { groupId: record.attributes.MessageGroupId } : {}),
        errorCode: coded.code,
        reason: coded.message,
      });
      metrics.addMetric(MetricName.DeadLettered, MetricUnit.Count, 1);
      logger.error('record dead-lettered: it can never succeed', { messageId: record.messageId, error: coded.toJSON() });
      return { outcome: 'dead-lettered', errorCode: coded.code, reason: coded.message };
    }
  };

  const countFailures = (processor: SqsFifoPartialProcessorAsync): void => {
    const own = processor.errors.filter((error) => !isSkipped(error)).length;
    if (own > 0) metrics.addMetric(MetricName.RecordsFailed, MetricUnit.Count, own);
  };

  const scheduleRetries = async (processor: SqsFifoPartialProcessorAsync): Promise<void> => {
    if (!options.retryScheduler || processor.failureMessages.length === 0) return;
    // failureMessages and errors are filled together, one pair per failed record.
    const failures = processor.failureMessages.map((record, i) => ({ record: record as unknown as FailedRecord, error: processor.errors[i] }));
    const plan = planRetries(failures, options.random);
    if (plan.length === 0) return;
    try {
      await options.retryScheduler.retryLater(plan);
      logger.info('retries scheduled', { retries: plan.map((p) => ({ messageId: p.messageId, delaySeconds: p.delaySeconds })) });
    } catch (error) {
      // Not a state write: a message that could not be rescheduled comes back after the
      // queue's visibility timeout instead, which is only slower. Failing the batch here would
      // redeliver the records that succeeded.
      logger.error('retries could not be scheduled; the queue visibility timeout applies', { error: error instanceof Error ? error.message : String(error) });
    }
  };

  // The start heartbeat is written beside the work, not as a round trip before the order
  // (PERF-2): every intent is idempotent, so a failed heartbeat that fails the invocation after
  // the work costs a retry, answered from the orders.
  return withStack('executor', c, ExecutorEventSchema, async (event, context) => {
    limitsThisInvocation = undefined;
    if ('intent' in event) return run(event.intent);
    const processor = new SqsFifoPartialProcessorAsync();
    let response: SQSBatchResponse | undefined;
    let failure: unknown;
    try {
      response = await processPartialResponse(event as unknown as SQSEvent, recordHandler, processor, { context, skipGroupOnError: true });
    } catch (error) {
      failure = error;
    }
    countFailures(processor);
    await scheduleRetries(processor);
    // A batch whose every record failed fails the invocation (counted, alarmed); the delays
    // set above still apply because the event source then deletes nothing.
    if (failure !== undefined) throw failure instanceof FullBatchFailureError ? firstCause(failure) : failure;
    return response as SQSBatchResponse;
  }, { heartbeatAlongside: true });
}

/** The error of the first failed record of a batch that failed entirely: a coded error in the logs. */
function firstCause(error: FullBatchFailureError): unknown {
  const [first] = error.recordErrors;
  return first ?? error;
}
