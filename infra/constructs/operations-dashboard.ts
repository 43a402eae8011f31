/**
 * The operations dashboard (HLT-2): per-function invocations, errors and duration; the
 * execution queue's depth and oldest message; dead-letter depth; orders and fills; equity and
 * realized PnL; drift; health status; circuit and pause state; heartbeats; alarm states.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import {
  AlarmStatusWidget,
  Color,
  Dashboard,
  GraphWidget,
  type HorizontalAnnotation,
  SingleValueWidget,
  TextWidget,
  type IAlarm,
  type IWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { HEALTH_STATUS_VALUE, MetricName } from '../../shared/runtime/metric-names.js';
import type { MonitoredFunction, MonitoredQueue } from './operational-alarms.js';
import { jobMetric, METRIC_SOURCES, sourcedMetric, successfulInvocations } from './tradewarden-metrics.js';

/** CloudWatch dashboards are 24 units wide. */
const FULL_WIDTH = 24;
const THIRD = 8;
const HALF = 12;
const HEIGHT = 6;
const PERIOD = Duration.minutes(5);

export interface OperationsDashboardProps {
  readonly functions: readonly MonitoredFunction[];
  readonly executionQueue: IQueue;
  readonly deadLetterQueues: readonly MonitoredQueue[];
  /** Drift alarm threshold, drawn on the drift graph. */
  readonly driftQuote: number;
  /**
   * Alarms shown in the status widget.
   * @default none
   */
  readonly alarms?: readonly IAlarm[];
  /**
   * Dashboard name.
   * @default `<stack name>-operations`
   */
  readonly dashboardName?: string;
}

export class OperationsDashboard extends Construct {
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: OperationsDashboardProps) {
    super(scope, id);
    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName ?? `${Stack.of(this).stackName}-operations`,
      defaultInterval: Duration.hours(6),
    });
    const rows: IWidget[][] = [
      [new TextWidget({ markdown: '# Tradewarden operations', width: FULL_WIDTH, height: 1 })],
    ];
    if (props.alarms && props.alarms.length > 0) {
      rows.push([new AlarmStatusWidget({ title: 'Alarms', alarms: [...props.alarms], width: FULL_WIDTH, height: 4 })]);
    }
    rows.push(this.healthRow(props.driftQuote));
    rows.push(this.tradingRow());
    rows.push(this.queueRow(props.executionQueue, props.deadLetterQueues));
    for (const f of props.functions) rows.push(this.functionRow(f));
    rows.push([
      new GraphWidget({
        title: 'Heartbeats per job (successful invocations)',
        left: props.functions.map((f) => successfulInvocations(f.function, { period: PERIOD, label: f.job, job: f.job })),
        width: FULL_WIDTH,
        height: HEIGHT,
      }),
    ]);
    for (const row of rows) this.dashboard.addWidgets(...row);
  }

  private healthRow(driftQuote: number): IWidget[] {
    return [
      new SingleValueWidget({
        title: `Health (${HEALTH_STATUS_VALUE.OK} OK, ${HEALTH_STATUS_VALUE.DEGRADED} DEGRADED, ${HEALTH_STATUS_VALUE.FAILING} FAILING)`,
        metrics: [sourcedMetric(MetricName.HealthStatus, { statistic: 'Maximum', label: 'health status' })],
        width: 6,
        height: HEIGHT,
      }),
      new GraphWidget({
        title: 'Circuit open and pause age',
        left: [sourcedMetric(MetricName.CircuitOpen, { statistic: 'Maximum', label: 'circuit open (1 = open)' })],
        right: [sourcedMetric(MetricName.PauseAgeSeconds, { statistic: 'Maximum', label: 'pause age (s)' })],
        leftYAxis: { min: 0, max: 1 },
        width: 6,
        height: HEIGHT,
      }),
      new GraphWidget({
        title: 'Health status over time',
        left: [sourcedMetric(MetricName.HealthStatus, { statistic: 'Maximum', label: 'health status' })],
        leftYAxis: { min: 0, max: HEALTH_STATUS_VALUE.FAILING },
        leftAnnotations: [
          { value: HEALTH_STATUS_VALUE.DEGRADED, label: 'DEGRADED', color: Color.ORANGE },
          { value: HEALTH_STATUS_VALUE.FAILING, label: 'FAILING', color: Color.RED },
        ],
        width: 6,
        height: HEIGHT,
      }),
      new GraphWidget({
        title: 'Reconciliation drift (quote)',
        left: [sourcedMetric(MetricName.DriftQuote, { statistic: 'Maximum', period: PERIOD, label: 'drift' })],
        leftAnnotations: [{ value: driftQuote, label: 'alarm', color: Color.RED } satisfies HorizontalAnnotation],
        width: 6,
        height: HEIGHT,
      }),
    ];
  }

  private tradingRow(): IWidget[] {
    const sum = { statistic: 'Sum', period: PERIOD };
    return [
      new GraphWidget({
        title: 'Orders and fills',
        left: [
          sourcedMetric(MetricName.OrdersPlaced, { ...sum, label: 'orders placed' }),
          sourcedMetric(MetricName.OrdersRejected, { ...sum, label: 'orders rejected' }),
          sourcedMetric(MetricName.OrdersUnknown, { ...sum, label: 'orders unknown' }),
          ...METRIC_SOURCES[MetricName.Fills].map((job) => jobMetric(MetricName.Fills, job, { ...sum, label: `fills (${job})` })),
        ],
        width: HALF,
        height: HEIGHT,
      }),
      new GraphWidget({
        title: 'Equity and realized PnL (quote)',
        left: [sourcedMetric(MetricName.Equity, { statistic: 'Average', period: PERIOD, label: 'equity' })],
        right: [sourcedMetric(MetricName.RealizedPnl, { statistic: 'Average', period: PERIOD, label: 'realized PnL' })],
        width: HALF,
        height: HEIGHT,
      }),
    ];
  }

  private queueRow(queue: IQueue, deadLetterQueues: readonly MonitoredQueue[]): IWidget[] {
    const max = { statistic: 'Maximum', period: Duration.minutes(1) };
    return [
      new GraphWidget({
        title: 'Execution queue depth',
        left: [
          queue.metricApproximateNumberOfMessagesVisible({ ...max, label: 'waiting' }),
          queue.metricApproximateNumberOfMessagesNotVisible({ ...max, label: 'in flight' }),
        ],
        width: THIRD,
        height: HEIGHT,
      }),
      new GraphWidget({
        title: 'Execution queue oldest message (s)',
        left: [queue.metricApproximateAgeOfOldestMessage({ ...max, label: 'oldest message age' })],
        width: THIRD,
        height: HEIGHT,
      }),
      new GraphWidget({
        title: 'Dead-letter queues depth',
        left: deadLetterQueues.map((d) => d.queue.metricApproximateNumberOfMessagesVisible({ ...max, label: d.name })),
        width: THIRD,
        height: HEIGHT,
      }),
    ];
  }

  private functionRow(f: MonitoredFunction): IWidget[] {
    const sum = { statistic: 'Sum', period: PERIOD };
    return [
      new GraphWidget({
        title: `${f.job}: invocations and errors`,
        left: [f.function.metricInvocations({ ...sum, label: 'invocations' }), f.function.metricErrors({ ...sum, label: 'errors', color: Color.RED })],
        right: [f.function.metricThrottles({ ...sum, label: 'throttles' })],
        width: HALF,
        height: HEIGHT,
      }),
      new GraphWidget({
        title: `${f.job}: duration (ms)`,
        left: ['p50', 'p99', 'Maximum'].map((statistic) => f.function.metricDuration({ statistic, period: PERIOD, label: statistic })),
        leftAnnotations: [{ value: f.timeout.toMilliseconds(), label: 'timeout', color: Color.RED }],
        width: HALF,
        height: HEIGHT,
      }),
    ];
  }
}
