/**
 * The functions' own (EMF) metrics as CloudWatch metric objects for alarms and the dashboard.
 * A CloudWatch metric is identified by its full dimension set, so these match only datapoints
 * published with exactly one dimension, `service` = the job name (Powertools' default
 * dimension). Metrics that also carry other dimensions are different metrics to CloudWatch.
 */
import { Duration } from 'aws-cdk-lib';
import { MathExpression, Metric, type MetricOptions } from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { JobName } from '../../shared/definitions/schedules.js';
import { METRICS_NAMESPACE, MetricName } from '../../shared/runtime/metric-names.js';

/** Powertools' service dimension. */
export const SERVICE_DIMENSION = 'service';

/**
 * Which job publishes each metric the alarms and dashboard read. This is a contract with the
 * functions: an alarm on a metric nobody publishes never fires.
 */
export const METRIC_SOURCES = {
  [MetricName.OrdersPlaced]: ['executor'],
  [MetricName.OrdersRejected]: ['executor'],
  [MetricName.OrdersUnknown]: ['executor'],
  [MetricName.RecordsFailed]: ['executor'],
  [MetricName.DeadLettered]: ['executor'],
  [MetricName.Fills]: ['executor', 'reconciler'],
  [MetricName.Signals]: ['scanner'],
  [MetricName.IntentsSent]: ['scanner'],
  [MetricName.StaleData]: ['scanner'],
  [MetricName.Equity]: ['reconciler'],
  [MetricName.RealizedPnl]: ['reconciler'],
  [MetricName.DriftQuote]: ['reconciler'],
  [MetricName.CircuitOpen]: ['health'],
  [MetricName.PauseAgeSeconds]: ['health'],
  [MetricName.HealthStatus]: ['health'],
  [MetricName.DlqDepth]: ['health'],
} as const satisfies Partial<Record<MetricName, readonly JobName[]>>;

/** One Tradewarden metric of one job. */
export function jobMetric(metricName: MetricName, job: JobName, options: MetricOptions = {}): Metric {
  return new Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { [SERVICE_DIMENSION]: job },
    period: Duration.minutes(1),
    ...options,
  });
}

/** The metric from its (first) publishing job, per METRIC_SOURCES. */
export function sourcedMetric(metricName: keyof typeof METRIC_SOURCES, options: MetricOptions = {}): Metric {
  return jobMetric(metricName, METRIC_SOURCES[metricName][0], options);
}

/**
 * A function's heartbeats: its successful invocations, Lambda's free Invocations - Errors. The
 * handler stack records a heartbeat exactly when an invocation succeeds (a failed heartbeat write
 * fails the invocation), so this is the heartbeat count without a paid custom metric. No
 * invocation at all gives no datapoint: alarms that watch for missing heartbeats count missing
 * data as breaching.
 */
export function successfulInvocations(fn: IFunction, options: { period: Duration; label?: string; job?: string }): MathExpression {
  // Ids are unique per job: a graph may hold several of these, and CloudWatch wants one id per metric.
  const p = options.job ? options.job.replace(/[^A-Za-z0-9]/g, '') : '';
  const [invocations, errors] = p ? [`${p}Invocations`, `${p}Errors`] : ['invocations', 'errors'];
  return new MathExpression({
    label: options.label ?? 'successful invocations',
    expression: `${invocations} - FILL(${errors}, 0)`,
    usingMetrics: {
      [invocations]: fn.metricInvocations({ statistic: 'Sum', period: options.period }),
      [errors]: fn.metricErrors({ statistic: 'Sum', period: options.period }),
    },
    period: options.period,
  });
}
