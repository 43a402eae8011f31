/**
 * The fixed monthly cost of what the stack monitors with, counted from a synthesized template
 * (CloudWatch list prices, us-east-1): alarms by the metrics they read, dashboards beyond the
 * free three, and custom metrics (which the template cannot show: the functions publish them, so
 * their count is an input). Requests, logs and data points are usage, not fixed cost.
 */

/** CloudWatch list prices, USD per month (us-east-1). */
export const CLOUDWATCH_PRICES = {
  /** A standard-resolution alarm, per metric it reads (a metric-math alarm pays for each). */
  alarmMetric: 0.1,
  /** A dashboard beyond the free ones. */
  dashboard: 3,
  freeDashboards: 3,
  /** A custom metric (name + dimension set), first 10,000. */
  customMetric: 0.3,
} as const;

export interface MonitoringCost {
  readonly alarms: number;
  /** Metrics read by all alarms together: what alarms are billed by. */
  readonly alarmMetrics: number;
  readonly dashboards: number;
  readonly customMetrics: number;
  readonly usdPerMonth: { readonly alarms: number; readonly dashboards: number; readonly customMetrics: number; readonly total: number };
}

interface TemplateLike {
  readonly Resources?: Record<string, { Type?: string; Properties?: Record<string, unknown> }>;
}

/** Metrics one alarm is billed for: 1 for a single-metric alarm, each MetricStat of a metric-math alarm. */
export function alarmMetricCount(properties: Record<string, unknown>): number {
  const metrics = properties['Metrics'];
  if (!Array.isArray(metrics)) return 1;
  return metrics.filter((m) => typeof m === 'object' && m !== null && 'MetricStat' in m).length;
}

/**
 * @param customMetrics the number of custom metrics the functions publish (name x dimension set).
 * @param otherDashboards dashboards the account already has, which use up the free ones.
 */
export function monitoringCost(template: TemplateLike, customMetrics: number, otherDashboards = 0): MonitoringCost {
  const resources = Object.values(template.Resources ?? {});
  const alarms = resources.filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
  const alarmMetrics = alarms.reduce((n, a) => n + alarmMetricCount(a.Properties ?? {}), 0);
  const dashboards = resources.filter((r) => r.Type === 'AWS::CloudWatch::Dashboard').length;
  const paidDashboards = Math.max(0, dashboards + otherDashboards - CLOUDWATCH_PRICES.freeDashboards) - Math.max(0, otherDashboards - CLOUDWATCH_PRICES.freeDashboards);
  const cents = (usd: number) => Math.round(usd * 100) / 100;
  const usd = {
    alarms: cents(alarmMetrics * CLOUDWATCH_PRICES.alarmMetric),
    dashboards: cents(paidDashboards * CLOUDWATCH_PRICES.dashboard),
    customMetrics: cents(customMetrics * CLOUDWATCH_PRICES.customMetric),
  };
  return { alarms: alarms.length, alarmMetrics, dashboards, customMetrics, usdPerMonth: { ...usd, total: cents(usd.alarms + usd.dashboards + usd.customMetrics) } };
}
