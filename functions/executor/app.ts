/**
 * Executor handler: an SQS FIFO batch with partial batch responses (a failed record is retried
 * alone; the others of its message group wait behind it), or one ad hoc intent to replay.
 */
import { processPartialResponse, SqsFifoPartialProcessorAsync } from '@aws-lambda-powertools/batch';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { IntentSchema } from '../../shared/domain/intent.js';
import type { Container } from '../../shared/runtime/container.js';
import { ExecutorEventSchema } from '../../shared/runtime/events.js';
import { parseWith, withStack } from '../../shared/runtime/handler-stack.js';
import { MetricName } from '../../shared/runtime/metric-names.js';
import { executeIntent, type ExecuteIntentDeps, type ExecutionResult } from '../../shared/use-cases/execute-intent.js';
import { ValidationError } from '../../shared/domain/errors.js';

const OUTCOME_METRIC = {
  executed: MetricName.OrdersPlaced,
  rejected: MetricName.OrdersRejected,
  expired: MetricName.OrdersRejected,
  'already-processed': MetricName.DuplicateDeliveries,
} as const;

export function createExecutorHandler(c: Container, extra: Pick<ExecuteIntentDeps, 'afterStep'> = {}) {
  const deps: ExecuteIntentDeps = {
    orders: c.orders,
    accounts: c.accounts,
    locks: c.locks,
    exchange: c.exchange,
    audit: c.audit,
    control: c.control,
    clock: c.clock,
    marketRules: (symbol) => c.marketRules(symbol),
    settings: {
      quoteCurrency: c.config.quoteCurrency,
      lockLeaseMs: c.config.lockLeaseSeconds * 1000,
      reservationBufferPercent: c.config.reservationBufferPercent,
      owner: 'executor',
    },
    ...extra,
  };
  const { logger, metrics } = c.observability;

  const run = async (raw: unknown): Promise<ExecutionResult> => {
    const intent = parseWith(IntentSchema, raw, 'intent');
    logger.appendKeys({ correlationId: intent.correlationId ?? intent.id, intentId: intent.id, symbol: intent.symbol });
    await c.ensureAccount();
    const result = await executeIntent(deps, intent);
    metrics.addMetric(OUTCOME_METRIC[result.outcome], MetricUnit.Count, 1);
    if (result.filled !== '0') metrics.addMetric(MetricName.Fills, MetricUnit.Count, 1);
    logger.info('intent processed', { result });
    return result;
  };

  const recordHandler = async (record: SQSRecord): Promise<ExecutionResult> => {
    let body: unknown;
    try {
      body = JSON.parse(record.body);
    } catch (error) {
      throw new ValidationError('message body is not valid JSON', [], { cause: error, details: { messageId: record.messageId } });
    }
    return run(body);
  };

  return withStack('executor', c, ExecutorEventSchema, async (event, context) => {
    if ('intent' in event) return run(event.intent);
    return processPartialResponse(event as unknown as SQSEvent, recordHandler, new SqsFifoPartialProcessorAsync(), {
      context,
      skipGroupOnError: true,
    });
  });
}
