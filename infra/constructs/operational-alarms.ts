/**
 * Every alarm (HLT-1, HLT-3, REC-4, RISK-3, RISK-5), all notifying one topic on alarm and on
 * recovery:
 * - per function: error rate (errors / invocations, only once enough invocations make a rate
 *   meaningful), throttles, p99 duration near the timeout;
 * - every dead-letter queue: each new arrival (an increase of its depth; for the execution DLQ
 *   also the executor's own DeadLettered metric), so a second failure notifies again even while
 *   older letters wait; and a separate reminder when a letter has waited more than a day;
 * - the executor's failed records (not Lambda errors with partial batch responses), UNKNOWN
 *   orders and rejected orders;
 * - a missing heartbeat per scheduled job (missing data is breaching), and for the executor,
 *   work waiting in the queue while the executor reports no success, or an intent older than
 *   its time-to-live still in the queue;
 * - reconciliation drift, an open circuit, a pause older than its limit, health FAILING.
 *
 * Two profiles (`monitoring` in the deployment config). CloudWatch bills each metric an alarm
 * reads ($0.10 a month beyond the free ten), so the profiles differ in what they watch directly:
 * - `lean` (the default) keeps every alarm whose failure nothing else reports: error rates, each
 *   dead-letter queue's new letters, the executor's own outcomes and stall, intents expiring in
 *   the queue, drift, and health FAILING. Health checks job freshness, an open circuit, an old
 *   pause, dead letters and queue age every minute (HLT-2), so those reach a person through
 *   HealthFailing, which also counts a missing health report as breaching (health's own dead man).
 * - `full` adds the direct alarms for those: a missing heartbeat per scheduled job, an open
 *   circuit, an old pause, a dead letter older than a day, and per function throttles and p99
 *   duration near the timeout. Each names its cause in its own notification.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  MathExpression,
  TreatMissingData,
  type IMetric,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { SCHEDULES, STALE_AFTER_INTERVALS, scheduleOf, type JobName } from '../../shared/definitions/schedules.js';
import { HEALTH_STATUS_VALUE, MetricName } from '../../shared/runtime/metric-names.js';
import { pascalCase } from './names.js';
import { jobMetric, sourcedMetric, successfulInvocations } from './tradewarden-metrics.js';

/** Window of the per-function alarms. */
const FUNCTION_ALARM_PERIOD = Duration.minutes(5);
/** CloudWatch's smallest standard-resolution period. */
const MINUTE = Duration.minutes(1);
/** Consecutive minutes of queued work without an executor heartbeat before alarming. */
const EXECUTOR_STALL_MINUTES = 5;
/**
 * Fewest invocations in a window for its error rate to count. One failure among 1-5 runs is a
 * 20-100 % "rate" that says nothing; a job that fails every run is caught by its missing
 * heartbeat instead (HLT-1). See `errorRateWindow` for how the window makes this reachable.
 */
export const MIN_INVOCATIONS_FOR_ERROR_RATE = 10;
/** A dead letter older than this is a reminder: someone still has to look at it. */
export const DEAD_LETTER_REMINDER_AGE = Duration.days(1);
/** Minutes without a health report, or with a FAILING one, before HealthFailing fires. */
const HEALTH_FAILING_MINUTES = 3;
/** Window of the executor's record and order alarms. */
const EXECUTOR_ALARM_PERIOD = Duration.minutes(5);
/** Failed records must recur in this many of the last `RECORDS_FAILING_OF` windows: a single transient retry pages nobody. */
const RECORDS_FAILING_IN = 2;
const RECORDS_FAILING_OF = 3;

export interface MonitoredFunction {
  readonly job: JobName;
  readonly function: IFunction;
  readonly timeout: Duration;
}

export interface MonitoredQueue {
  /** Short name used in the alarm's id and name, e.g. `ExecutionDlq`. */
  readonly name: string;
  readonly queue: IQueue;
  /**
   * A metric counting the letters a function puts in this queue itself (the executor's
   * DeadLettered): an arrival alarms even when a redrive empties the queue in the same minute.
   * @default depth increases only
   */
  readonly sentByFunction?: IMetric;
}

export interface AlarmThresholds {
  /** Errors / invocations, in percent. */
  readonly errorRatePercent: number;
  /** Share of the timeout the p99 duration may reach. */
  readonly durationNearTimeoutRatio: number;
  /** Drift in quote currency. */
  readonly driftQuote: number;
  /** Oldest acceptable pause, in seconds. */
  readonly pauseMaxAgeSeconds: number;
}

/** Which alarms a deployment has: see the module comment. */
export type MonitoringProfile = 'lean' | 'full';

export interface OperationalAlarmsProps {
  readonly topic: ITopic;
  /** @default 'lean' */
  readonly profile?: MonitoringProfile;
  readonly functions: readonly MonitoredFunction[];
  readonly deadLetterQueues: readonly MonitoredQueue[];
  /** The executor's source queue, whose backlog makes a missing executor heartbeat meaningful. */
  readonly executionQueue: IQueue;
  readonly thresholds: AlarmThresholds;
  /** How long an intent stays valid; an older message in the queue will be rejected as expired. */
  readonly intentTtlSeconds: number;
  /**
   * Prefix of every alarm name.
   * @default the stack name
   */
  readonly namePrefix?: string;
}

export class OperationalAlarms extends Construct {
  /** Every alarm by construct id. */
  readonly alarms = new Map<string, Alarm>();
  private readonly prefix: string;
  private readonly action: SnsAction;

  constructor(scope: Construct, id: string, props: OperationalAlarmsProps) {
    super(scope, id);
    this.prefix = props.namePrefix ?? Stack.of(this).stackName;
    this.action = new SnsAction(props.topic);
    const { thresholds } = props;
    const full = (props.profile ?? 'lean') === 'full';
    const fn = (job: string) => props.functions.find((f) => f.job === job)?.function;

    for (const f of props.functions) this.functionAlarms(f, thresholds, full);

    for (const dlq of props.deadLetterQueues) this.deadLetterAlarms(dlq, full);

    this.executorAlarms();

    for (const schedule of full ? SCHEDULES : []) {
      const scheduled = fn(schedule.job);
      if (!scheduled) continue;
      this.add(`${pascalCase(schedule.job)}HeartbeatMissing`, {
        description: `No ${schedule.job} heartbeat (successful invocation) for ${STALE_AFTER_INTERVALS} intervals of ${schedule.everySeconds} s (HLT-1).`,
        metric: successfulInvocations(scheduled, { period: alarmPeriod(schedule.everySeconds), label: `${schedule.job} heartbeats` }),
        threshold: 1,
        comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: STALE_AFTER_INTERVALS,
        // No datapoint at all is exactly the failure this alarm exists for.
        treatMissingData: TreatMissingData.BREACHING,
      });
    }

    const executor = fn('executor');
    if (!executor) throw new Error('OperationalAlarms: the executor function is not among the monitored functions');
    // The executor only runs when intents arrive, so a missing heartbeat alone is normal in a
    // quiet market. It is a failure when work is queued or in flight and no batch succeeds.
    this.add('ExecutorHeartbeatMissing', {
      description: `Intents have waited ${EXECUTOR_STALL_MINUTES} min while the executor reported no successful run (HLT-1).`,
      metric: new MathExpression({
        label: 'queued work without executor heartbeat',
        // A heartbeat is a successful invocation (handler-stack): invocations - errors.
        expression: 'IF(FILL(visible, 0) + FILL(inflight, 0) > 0, IF(FILL(invocations, 0) - FILL(errors, 0) < 1, 1, 0), 0)',
        usingMetrics: {
          visible: props.executionQueue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: MINUTE }),
          inflight: props.executionQueue.metricApproximateNumberOfMessagesNotVisible({ statistic: 'Maximum', period: MINUTE }),
          invocations: executor.metricInvocations({ statistic: 'Sum', period: MINUTE }),
          errors: executor.metricErrors({ statistic: 'Sum', period: MINUTE }),
        },
        period: MINUTE,
      }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: EXECUTOR_STALL_MINUTES,
      // No queue metrics means an idle queue: nothing is waiting.
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    this.add('IntentsExpiringInQueue', {
      description:
        `An intent has waited more than its time-to-live (${props.intentTtlSeconds} s) in the execution queue and will be ` +
        'rejected as expired (EXE-9): the executor is down, throttled or failing.',
      metric: props.executionQueue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period: MINUTE }),
      threshold: props.intentTtlSeconds,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    this.add('DriftTooHigh', {
      description: `Reconciliation drift above ${thresholds.driftQuote} (quote currency) between exchange and local books (REC-4).`,
      metric: sourcedMetric(MetricName.DriftQuote, { statistic: 'Maximum', period: alarmPeriod(scheduleOf('reconciler').everySeconds) }),
      threshold: thresholds.driftQuote,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    if (full) this.directHealthAlarms(thresholds);
    this.add('HealthFailing', {
      description:
        `The health report was FAILING, or health reported nothing, for ${HEALTH_FAILING_MINUTES} min (HLT-1, HLT-2): ` +
        'a job stopped, the circuit is open, a pause is too old, letters pile up or intents expire. See its reasons in the health endpoint, `npm run ops -- health` or the health function logs.',
      metric: sourcedMetric(MetricName.HealthStatus, { statistic: 'Maximum', period: MINUTE }),
      threshold: HEALTH_STATUS_VALUE.FAILING,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: HEALTH_FAILING_MINUTES,
      datapointsToAlarm: HEALTH_FAILING_MINUTES,
      // Health publishes its status every run: no report is the failure of the watcher itself.
      treatMissingData: TreatMissingData.BREACHING,
    });
  }

  /** Alarms for what health also reports, each naming its own cause (the `full` profile). */
  private directHealthAlarms(thresholds: AlarmThresholds): void {
    this.add('CircuitOpen', {
      description: 'The exchange circuit breaker is open: no exchange calls are made (RISK-5).',
      metric: sourcedMetric(MetricName.CircuitOpen, { statistic: 'Maximum', period: MINUTE }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.add('PauseTooOld', {
      description: `Trading has been paused for more than ${thresholds.pauseMaxAgeSeconds} s (RISK-3).`,
      metric: sourcedMetric(MetricName.PauseAgeSeconds, { statistic: 'Maximum', period: MINUTE }),
      threshold: thresholds.pauseMaxAgeSeconds,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }

  private functionAlarms(f: MonitoredFunction, thresholds: AlarmThresholds, full: boolean): void {
    const job = pascalCase(f.job);
    const window = errorRateWindow(f.job);
    this.add(`${job}ErrorRate`, {
      description:
        `${f.job}: more than ${thresholds.errorRatePercent}% of invocations failed in ${window.toMinutes()} min, ` +
        `counted only from ${MIN_INVOCATIONS_FOR_ERROR_RATE} invocations on (HLT-3).`,
      metric: new MathExpression({
        label: `${f.job} error rate (%)`,
        // Below the minimum the rate is reported as 0: too few runs for a rate to mean anything.
        expression: `IF(invocations >= ${MIN_INVOCATIONS_FOR_ERROR_RATE}, 100 * errors / invocations, 0)`,
        usingMetrics: {
          errors: f.function.metricErrors({ statistic: 'Sum', period: window }),
          invocations: f.function.metricInvocations({ statistic: 'Sum', period: window }),
        },
        period: window,
      }),
      threshold: thresholds.errorRatePercent,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    // Lean: a throttled scheduled run is retried and then dead-lettered (an alarm of its own), and
    // a run that times out is an error (the error rate).
    if (!full) return;
    this.add(`${job}Throttles`, {
      description: `${f.job}: invocations were throttled.`,
      metric: f.function.metricThrottles({ statistic: 'Sum', period: FUNCTION_ALARM_PERIOD }),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    const limitMs = Math.round(f.timeout.toMilliseconds() * thresholds.durationNearTimeoutRatio);
    this.add(`${job}DurationNearTimeout`, {
      description: `${f.job}: p99 duration above ${limitMs} ms, ${Math.round(thresholds.durationNearTimeoutRatio * 100)}% of its timeout.`,
      metric: f.function.metricDuration({ statistic: 'p99', period: FUNCTION_ALARM_PERIOD }),
      threshold: limitMs,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }

  /** A new letter in a dead-letter queue, and a letter left there for more than a day. */
  private deadLetterAlarms(dlq: MonitoredQueue, full: boolean): void {
    // Depth = visible + in flight, so an operator receiving letters to inspect them (and their
    // return after the visibility timeout) is not an arrival. DIFF > 0: the depth grew this minute.
    const depth = 'FILL(visible, 0) + FILL(inflight, 0)';
    this.add(`${dlq.name}NewLetters`, {
      description:
        `${dlq.name} received a new message: something failed for good. Each arrival notifies, also while older ` +
        'letters wait. Inspect (the errorCode and errorReason message attributes say why), fix, then redrive (OPS-2).',
      metric: new MathExpression({
        label: `${dlq.name} new letters`,
        expression: dlq.sentByFunction ? `IF(FILL(sent, 0) > 0 OR DIFF(${depth}) > 0, 1, 0)` : `IF(DIFF(${depth}) > 0, 1, 0)`,
        usingMetrics: {
          visible: dlq.queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: MINUTE }),
          inflight: dlq.queue.metricApproximateNumberOfMessagesNotVisible({ statistic: 'Maximum', period: MINUTE }),
          ...(dlq.sentByFunction ? { sent: dlq.sentByFunction } : {}),
        },
        period: MINUTE,
      }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // DIFF needs the minute before: two periods in range, one breaching one alarms.
      evaluationPeriods: 2,
      datapointsToAlarm: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    // Lean: a waiting letter keeps health DEGRADED (ops status and the console show it).
    if (!full) return;
    this.add(`${dlq.name}LetterOlderThanADay`, {
      description: `${dlq.name} still holds a message older than ${DEAD_LETTER_REMINDER_AGE.toHours()} h: inspect it, redrive or delete it.`,
      metric: dlq.queue.metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period: Duration.minutes(5) }),
      threshold: DEAD_LETTER_REMINDER_AGE.toSeconds(),
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }

  /**
   * The executor's own outcomes. With partial batch responses a failed record is not a Lambda
   * error, so the error-rate alarm never sees it.
   */
  private executorAlarms(): void {
    this.add('ExecutorRecordsFailing', {
      description:
        `Executor records failed (and are being redelivered) in ${RECORDS_FAILING_IN} of the last ${RECORDS_FAILING_OF} ` +
        `${EXECUTOR_ALARM_PERIOD.toMinutes()}-minute windows: a persistent fault, not one transient retry (EXE-4).`,
      metric: jobMetric(MetricName.RecordsFailed, 'executor', { statistic: 'Sum', period: EXECUTOR_ALARM_PERIOD }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: RECORDS_FAILING_OF,
      datapointsToAlarm: RECORDS_FAILING_IN,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.add('ExecutorOrdersUnknown', {
      description: 'An order outcome is UNKNOWN (a timeout after the request may have reached the exchange); the reconciler resolves it by client order id (EXE-3).',
      metric: sourcedMetric(MetricName.OrdersUnknown, { statistic: 'Sum', period: EXECUTOR_ALARM_PERIOD }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.add('ExecutorOrdersRejected', {
      description: 'The exchange rejected an order, or an intent expired before it could be sent (EXE-4, EXE-9).',
      metric: sourcedMetric(MetricName.OrdersRejected, { statistic: 'Sum', period: EXECUTOR_ALARM_PERIOD }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }

  private add(
    id: string,
    options: {
      description: string;
      metric: IMetric;
      threshold: number;
      comparisonOperator: ComparisonOperator;
      treatMissingData: TreatMissingData;
      evaluationPeriods?: number;
      datapointsToAlarm?: number;
    },
  ): Alarm {
    const alarm = new Alarm(this, id, {
      alarmName: `${this.prefix}-${id}`,
      alarmDescription: options.description,
      metric: options.metric,
      threshold: options.threshold,
      comparisonOperator: options.comparisonOperator,
      evaluationPeriods: options.evaluationPeriods ?? 1,
      ...(options.datapointsToAlarm !== undefined ? { datapointsToAlarm: options.datapointsToAlarm } : {}),
      treatMissingData: options.treatMissingData,
    });
    alarm.addAlarmAction(this.action);
    alarm.addOkAction(this.action);
    this.alarms.set(id, alarm);
    return alarm;
  }
}

/** An alarm period covering one schedule interval: CloudWatch wants whole minutes. */
function alarmPeriod(everySeconds: number): Duration {
  return Duration.minutes(Math.max(1, Math.ceil(everySeconds / 60)));
}

/**
 * The error-rate window of a job: five minutes, or long enough for its schedule to reach
 * MIN_INVOCATIONS_FOR_ERROR_RATE runs (scanner and health every minute: 10 min; reconciler every
 * 5 min: 50 min). The executor runs per batch, so five minutes of traffic.
 */
export function errorRateWindow(job: JobName): Duration {
  if (job === 'executor') return FUNCTION_ALARM_PERIOD;
  const needed = Math.ceil((MIN_INVOCATIONS_FOR_ERROR_RATE * scheduleOf(job).everySeconds) / 60);
  return Duration.minutes(Math.max(FUNCTION_ALARM_PERIOD.toMinutes(), needed));
}
