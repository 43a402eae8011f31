/**
 * Health handler: scheduled, or the IAM-authenticated function URL (HTTP 200 when OK or
 * DEGRADED, 503 when FAILING).
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { STALE_AFTER_INTERVALS } from '../../shared/definitions/schedules.js';
import type { Container } from '../../shared/runtime/container.js';
import { EXECUTION_DLQ_NAME } from '../../shared/runtime/container.js';
import { scheduleSeconds } from '../../shared/runtime/config.js';
import { HealthEventSchema, isHttpEvent } from '../../shared/runtime/events.js';
import { withStack } from '../../shared/runtime/handler-stack.js';
import { HEALTH_STATUS_VALUE, MetricName } from '../../shared/runtime/metric-names.js';
import { checkHealth } from '../../shared/use-cases/check-health.js';

export function createHealthHandler(c: Container) {
  const deps = {
    heartbeats: c.heartbeats,
    control: c.control,
    queues: c.queues,
    locks: c.locks,
    events: c.events,
    clock: c.clock,
    settings: {
      schedules: scheduleSeconds(c.config),
      staleAfterIntervals: STALE_AFTER_INTERVALS,
      staleDataSeconds: c.config.staleDataSeconds,
      maxPauseAgeSeconds: c.config.maxPauseAgeSeconds,
      deadLetterQueues: [EXECUTION_DLQ_NAME],
    },
  };
  return withStack('health', c, HealthEventSchema, async (event) => {
    const report = await checkHealth(deps);
    c.observability.metrics.addMetric(MetricName.HealthStatus, MetricUnit.Count, HEALTH_STATUS_VALUE[report.status]);
    if (isHttpEvent(event)) {
      return { statusCode: report.status === 'FAILING' ? 503 : 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(report) };
    }
    return report;
  });
}
