/**
 * Health handler: scheduled, or the IAM-authenticated function URL (HTTP 200 when OK or
 * DEGRADED, 503 when FAILING). Emits the health status, DLQ depth, pause age and circuit metrics.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { STALE_AFTER_INTERVALS } from '../../shared/definitions/schedules.js';
import type { Container } from '../../shared/runtime/container.js';
import { EXECUTION_DLQ_NAME } from '../../shared/runtime/container.js';
import { scheduleSeconds } from '../../shared/runtime/config.js';
import { HealthEventSchema, isHttpEvent } from '../../shared/runtime/events/health.js';
import { withStack } from '../../shared/runtime/handler-stack.js';
import { HEALTH_STATUS_VALUE, MetricName } from '../../shared/runtime/metric-names.js';
import { addIfNonZero } from '../../shared/runtime/observability.js';
import { checkHealth, type HealthDeps } from '../../shared/use-cases/check-health.js';
import { DLQ_FAILING_DEPTH } from '../../shared/use-cases/health-rules.js';
import { EXECUTOR_NORMAL_LATENCY_SECONDS } from '../../shared/domain/timing.js';
import { DynamoDbCircuitStateReader } from './circuit-states.js';

export interface HealthOptions {
  /** @default DLQ_FAILING_DEPTH */
  readonly dlqFailingDepth?: number;
}

/** The health check's dependencies from a container. */
export function healthDeps(c: Container, options: HealthOptions = {}): HealthDeps {
  return {
    heartbeats: c.heartbeats,
    control: c.control,
    queues: c.queues,
    ...(c.queueAges ? { queueAges: c.queueAges } : {}),
    locks: c.locks,
    events: c.events,
    clock: c.clock,
    circuits: new DynamoDbCircuitStateReader({ doc: c.doc, table: c.config.stateTable, names: [...new Set([c.exchange.id, c.config.exchangeId])] }),
    settings: {
      schedules: scheduleSeconds(c.config),
      staleAfterIntervals: STALE_AFTER_INTERVALS,
      staleDataSeconds: c.config.staleDataSeconds,
      maxPauseAgeSeconds: c.config.maxPauseAgeSeconds,
      deadLetterQueues: [EXECUTION_DLQ_NAME],
      dlqFailingDepth: options.dlqFailingDepth ?? DLQ_FAILING_DEPTH,
      executorLatencySeconds: EXECUTOR_NORMAL_LATENCY_SECONDS,
      intentTtlSeconds: c.config.intentTtlSeconds,
      mode: c.config.mode,
      ...(c.config.startedAt ? { startedAt: c.config.startedAt } : {}),
    },
  };
}

export function createHealthHandler(c: Container, options: HealthOptions = {}) {
  const deps = healthDeps(c, options);
  const { metrics } = c.observability;
  return withStack('health', c, HealthEventSchema, async (event) => {
    const report = await checkHealth(deps);
    metrics.addMetric(MetricName.HealthStatus, MetricUnit.Count, HEALTH_STATUS_VALUE[report.status]);
    // The status every run (its alarm counts a missing one as breaching: health's dead man);
    // the rest only while something waits, is paused or open (addIfNonZero).
    addIfNonZero(metrics, MetricName.DlqDepth, MetricUnit.Count, report.metrics.dlqDepth);
    addIfNonZero(metrics, MetricName.PauseAgeSeconds, MetricUnit.Seconds, report.metrics.pauseAgeSeconds);
    addIfNonZero(metrics, MetricName.CircuitOpen, MetricUnit.Count, report.metrics.circuitOpen);
    if (isHttpEvent(event)) {
      return { statusCode: report.status === 'FAILING' ? 503 : 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(report) };
    }
    return report;
  });
}
