import { describe, it, expect, beforeAll } from 'vitest';
import { Match } from 'aws-cdk-lib/assertions';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { DLQ_RETENTION_SECONDS, EXECUTION_QUEUE } from '../../shared/definitions/queues.js';
import { JOBS, SCHEDULES, STALE_AFTER_INTERVALS } from '../../shared/definitions/schedules.js';
import { AUDIT_TABLE, STATE_TABLE, TABLES } from '../../shared/definitions/tables.js';
import { ENV, loadConfig } from '../../shared/runtime/config.js';
import { HEALTH_STATUS_VALUE, METRICS_NAMESPACE, MetricName } from '../../shared/runtime/metric-names.js';
import { AUDIT_FORBIDDEN_ACTIONS } from '../../infra/constructs/job-permissions.js';
import { MIN_INVOCATIONS_FOR_ERROR_RATE, errorRateWindow } from '../../infra/constructs/operational-alarms.js';
import {
  actionsOf,
  buildStack,
  createStack,
  functionIds,
  logicalId,
  policyStatements,
  rateExpression,
  resourcesOf,
  resourcesOfStatement,
  type Built,
} from './stack-fixture.js';

/** Synthesizing with the nag plugin takes a second or two on an idle small machine, far more on a loaded one. */
const SYNTH_TIMEOUT_MS = 180_000;

let paper: Built;
let live: Built;

beforeAll(() => {
  paper = buildStack();
  // The live stack also has the `full` monitoring profile; the paper stack the default, `lean`.
  live = buildStack({ live: 'true', alarmEmail: 'ops@example.com', monitoring: 'full' });
}, SYNTH_TIMEOUT_MS);

/** `{ "Fn::GetAtt": [id, "Arn"] }` */
const arnOf = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });

describe('Stack: TradewardenStack', () => {
  describe('triggers and dead-letter paths', () => {
    it('runs every scheduled job from an EventBridge Scheduler schedule with its shared interval, window off and retry policy', () => {
      const fns = functionIds(paper.template);
      for (const s of SCHEDULES) {
        paper.template.hasResourceProperties('AWS::Scheduler::Schedule', {
          ScheduleExpression: rateExpression(s.everySeconds),
          FlexibleTimeWindow: { Mode: 'OFF' },
          Target: Match.objectLike({
            Arn: arnOf(fns[s.job]),
            RetryPolicy: { MaximumRetryAttempts: s.retryAttempts, MaximumEventAgeInSeconds: s.maxEventAgeSeconds },
            DeadLetterConfig: { Arn: Match.anyValue() },
            Input: JSON.stringify({ scheduledTime: '<aws.scheduler.scheduled-time>' }),
          }),
        });
      }
    });

    it('feeds the executor from the execution queue with partial batch responses and bounded concurrency', () => {
      const fns = functionIds(paper.template);
      const mappings = Object.values(resourcesOf(paper.template, 'AWS::Lambda::EventSourceMapping'));
      expect(mappings).toHaveLength(1);
      expect(mappings[0]?.Properties).toMatchObject({
        FunctionName: { Ref: fns.executor },
        BatchSize: paper.config.executor.batchSize,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: paper.config.executor.maxConcurrency },
      });
    });

    it('gives every function a trigger', () => {
      const fns = functionIds(paper.template);
      const schedules = Object.values(resourcesOf(paper.template, 'AWS::Scheduler::Schedule'));
      const mappings = Object.values(resourcesOf(paper.template, 'AWS::Lambda::EventSourceMapping'));
      for (const job of JOBS) {
        const scheduled = schedules.some((s) => JSON.stringify((s.Properties?.['Target'] as { Arn: unknown }).Arn) === JSON.stringify(arnOf(fns[job])));
        const fed = mappings.some((m) => JSON.stringify(m.Properties?.['FunctionName']) === JSON.stringify({ Ref: fns[job] }));
        expect(scheduled || fed, job).toBe(true);
      }
    });

    it('dead-letters every function: scheduled runs to their schedule DLQ, intents to the FIFO DLQ', () => {
      const fns = functionIds(paper.template);
      const functions = resourcesOf(paper.template, 'AWS::Lambda::Function');
      const schedules = Object.values(resourcesOf(paper.template, 'AWS::Scheduler::Schedule'));
      for (const s of SCHEDULES) {
        const fnDlq = (functions[fns[s.job]]?.Properties?.['DeadLetterConfig'] as { TargetArn: unknown } | undefined)?.TargetArn;
        const schedule = schedules.find((x) => JSON.stringify((x.Properties?.['Target'] as { Arn: unknown }).Arn) === JSON.stringify(arnOf(fns[s.job])));
        const scheduleDlq = (schedule?.Properties?.['Target'] as { DeadLetterConfig: { Arn: unknown } }).DeadLetterConfig.Arn;
        expect(fnDlq, s.job).toBeDefined();
        expect(fnDlq).toEqual(scheduleDlq);
      }
      const queue = logicalId(paper.stack, paper.stack.executionQueue.queue);
      const dlq = logicalId(paper.stack, paper.stack.executionQueue.deadLetterQueue);
      expect(resourcesOf(paper.template, 'AWS::SQS::Queue')[queue]?.Properties?.['RedrivePolicy']).toEqual({
        deadLetterTargetArn: arnOf(dlq),
        maxReceiveCount: EXECUTION_QUEUE.deadLetter?.maxReceiveCount,
      });
    });

    it('does not let Lambda retry a failed scheduled run: it goes to the DLQ and the next run is the retry', () => {
      const fns = functionIds(paper.template);
      for (const s of SCHEDULES) {
        paper.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
          FunctionName: { Ref: fns[s.job] },
          MaximumRetryAttempts: 0,
          MaximumEventAgeInSeconds: s.maxEventAgeSeconds,
        });
      }
    });
  });

  describe('execution queue', () => {
    it('is FIFO without content-based deduplication, encrypted, with the shared visibility timeout and retention', () => {
      const queue = logicalId(paper.stack, paper.stack.executionQueue.queue);
      expect(resourcesOf(paper.template, 'AWS::SQS::Queue')[queue]?.Properties).toMatchObject({
        FifoQueue: true,
        ContentBasedDeduplication: false,
        SqsManagedSseEnabled: true,
        VisibilityTimeout: EXECUTION_QUEUE.visibilityTimeoutSeconds,
        MessageRetentionPeriod: EXECUTION_QUEUE.retentionSeconds,
        QueueName: 'Tradewarden-test-ExecutionQueue.fifo',
      });
    });

    it('retains every queue that holds failed work, without a fixed name that would block a redeploy', () => {
      const queues = resourcesOf(paper.template, 'AWS::SQS::Queue');
      const dlqs = Object.entries(queues).filter(([, q]) => !q.Properties?.['RedrivePolicy']);
      // The execution queue's, one per schedule, the notifier's and the audit checkpoint's.
      expect(dlqs).toHaveLength(1 + SCHEDULES.length + 2);
      for (const [id, q] of dlqs) {
        expect(q.DeletionPolicy, id).toBe('Retain');
        expect(q.UpdateReplacePolicy, id).toBe('Retain');
        expect(q.Properties?.['QueueName'], id).toBeUndefined();
      }
    });

    it('lets its FIFO DLQ be redriven back to it (console "Start DLQ redrive")', () => {
      const dlq = logicalId(paper.stack, paper.stack.executionQueue.deadLetterQueue);
      const props = resourcesOf(paper.template, 'AWS::SQS::Queue')[dlq]?.Properties;
      expect(props).toMatchObject({ FifoQueue: true, SqsManagedSseEnabled: true, MessageRetentionPeriod: DLQ_RETENTION_SECONDS });
      const allow = props?.['RedriveAllowPolicy'] as { redrivePermission: string; sourceQueueArns: unknown[] };
      expect(allow.redrivePermission).toBe('byQueue');
      expect(JSON.stringify(allow.sourceQueueArns)).toContain(':Tradewarden-test-ExecutionQueue.fifo');
    });

    it('refuses plain-HTTP access to every queue', () => {
      const queues = Object.keys(resourcesOf(paper.template, 'AWS::SQS::Queue'));
      const policies = Object.values(resourcesOf(paper.template, 'AWS::SQS::QueuePolicy'));
      for (const queue of queues) {
        const policy = policies.find((p) => JSON.stringify(p.Properties?.['Queues']).includes(`"${queue}"`));
        expect(JSON.stringify(policy?.Properties?.['PolicyDocument']), queue).toContain('"aws:SecureTransport":"false"');
      }
    });
  });

  describe('tables', () => {
    it('creates every shared table on demand with point-in-time recovery, deletion protection and Retain', () => {
      const tables = Object.values(resourcesOf(paper.template, 'AWS::DynamoDB::GlobalTable'));
      expect(tables).toHaveLength(TABLES.length);
      for (const table of tables) {
        expect(table.DeletionPolicy).toBe('Retain');
        expect(table.UpdateReplacePolicy).toBe('Retain');
        expect(table.Properties?.['BillingMode']).toBe('PAY_PER_REQUEST');
        const replicas = table.Properties?.['Replicas'] as Record<string, unknown>[];
        expect(replicas).toHaveLength(1);
        expect(replicas[0]).toMatchObject({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true }, DeletionProtectionEnabled: true });
      }
    });

    it('builds keys, indexes and TTL from the shared definitions', () => {
      for (const def of TABLES) {
        paper.template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
          KeySchema: [
            { AttributeName: def.partitionKey.name, KeyType: 'HASH' },
            ...(def.sortKey ? [{ AttributeName: def.sortKey.name, KeyType: 'RANGE' }] : []),
          ],
          ...(def.indexes.length > 0
            ? { GlobalSecondaryIndexes: def.indexes.map((i) => Match.objectLike({ IndexName: i.indexName, Projection: { ProjectionType: 'ALL' } })) }
            : {}),
          ...(def.ttlAttribute ? { TimeToLiveSpecification: { AttributeName: def.ttlAttribute, Enabled: true } } : {}),
        });
      }
    });
  });

  describe('functions', () => {
    it('runs every job on Node.js 24, ARM64, as ESM with its Powertools service name and the Tradewarden namespace', () => {
      const fns = functionIds(paper.template);
      const functions = resourcesOf(paper.template, 'AWS::Lambda::Function');
      for (const job of JOBS) {
        const props = functions[fns[job]]?.Properties;
        expect(props).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], Handler: 'index.handler', TracingConfig: { Mode: 'Active' } });
        expect((props?.['Environment'] as { Variables: Record<string, unknown> }).Variables).toMatchObject({
          POWERTOOLS_SERVICE_NAME: job,
          POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
          [ENV.mode]: 'paper',
          [ENV.liveTradingConfirmed]: 'false',
          [ENV.stateTable]: { Ref: logicalId(paper.stack, paper.stack.tables.table(STATE_TABLE)) },
          [ENV.auditTable]: { Ref: logicalId(paper.stack, paper.stack.tables.table(AUDIT_TABLE)) },
          [ENV.executionQueueUrl]: { Ref: logicalId(paper.stack, paper.stack.executionQueue.queue) },
          [ENV.executionDlqUrl]: { Ref: logicalId(paper.stack, paper.stack.executionQueue.deadLetterQueue) },
          // Active tracing and the functions' own switch that loads the X-Ray SDK agree.
          [ENV.tracing]: 'true',
        });
      }
    });

    it('writes logs to its own log group with the configured retention', () => {
      const groups = Object.values(resourcesOf(paper.template, 'AWS::Logs::LogGroup'));
      // One per job, the notifier's and the audit checkpoint's.
      expect(groups).toHaveLength(JOBS.length + 2);
      for (const g of groups) expect(g.Properties?.['RetentionInDays']).toBe(paper.config.logRetentionDays);
    });

    it('trades on paper unless the live flag is given, and then confirms live trading and passes the key secret', () => {
      const fns = functionIds(live.template);
      const env = (resourcesOf(live.template, 'AWS::Lambda::Function')[fns.executor]?.Properties?.['Environment'] as { Variables: Record<string, unknown> })
        .Variables;
      expect(env[ENV.mode]).toBe('live');
      expect(env[ENV.liveTradingConfirmed]).toBe('true');
      expect(env[ENV.exchangeSecretArn]).toBe(live.config.exchangeSecretName);
      const paperEnv = (resourcesOf(paper.template, 'AWS::Lambda::Function')[functionIds(paper.template).executor]?.Properties?.['Environment'] as {
        Variables: Record<string, unknown>;
      }).Variables;
      expect(paperEnv[ENV.exchangeSecretArn]).toBeUndefined();
    });

    it('serves the health report on a function URL that requires IAM authentication', () => {
      const fns = functionIds(paper.template);
      // Two URLs: health (IAM) and the notifier's Telegram webhook (public, checked by its secret token).
      paper.template.resourceCountIs('AWS::Lambda::Url', 2);
      paper.template.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'AWS_IAM', TargetFunctionArn: arnOf(fns.health) });
    });

    it('references the exchange key and notifier secrets by name and never creates or writes one', () => {
      for (const b of [paper, live]) {
        // No secret resource and no secret value anywhere in the template: a deploy cannot overwrite what the operator stored.
        expect(resourcesOf(b.template, 'AWS::SecretsManager::Secret')).toEqual({});
        expect(JSON.stringify(b.template.toJSON())).not.toContain('SecretString');
      }
      expect(live.template.toJSON()['Outputs']).toMatchObject({ ExchangeSecretArn: { Value: live.config.exchangeSecretName } });
    });

    it('reserves exactly one concurrent run for every scheduled job and none for the executor', () => {
      const fns = functionIds(paper.template);
      const functions = resourcesOf(paper.template, 'AWS::Lambda::Function');
      for (const s of SCHEDULES) expect(functions[fns[s.job]]?.Properties?.['ReservedConcurrentExecutions'], s.job).toBe(1);
      expect(functions[fns.executor]?.Properties?.['ReservedConcurrentExecutions']).toBeUndefined();
    });

    it('creates each schedule and the executor event source only after the permissions their function runs with', () => {
      const fns = functionIds(paper.template);
      const functions = resourcesOf(paper.template, 'AWS::Lambda::Function');
      const policies = resourcesOf(paper.template, 'AWS::IAM::Policy');
      const roleOf = (job: keyof typeof fns) => (functions[fns[job]]?.Properties?.['Role'] as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0];
      const policiesOf = (roleId: string | undefined) =>
        Object.keys(policies).filter((id) => JSON.stringify(policies[id]?.Properties?.['Roles']).includes(`"${roleId}"`));
      const raw = paper.template.toJSON()['Resources'] as Record<string, { DependsOn?: string[]; Properties?: Record<string, unknown> }>;
      for (const s of SCHEDULES) {
        const [id, schedule] = Object.entries(raw).find(
          ([, r]) => JSON.stringify((r.Properties?.['Target'] as { Arn?: unknown } | undefined)?.Arn) === JSON.stringify(arnOf(fns[s.job])),
        ) ?? [];
        const scheduleRole = (schedule?.Properties?.['Target'] as { RoleArn: { 'Fn::GetAtt': string[] } }).RoleArn['Fn::GetAtt'][0];
        const needed = [...policiesOf(roleOf(s.job)), ...policiesOf(scheduleRole)];
        expect(needed.length, s.job).toBeGreaterThanOrEqual(3);
        expect(schedule?.DependsOn ?? [], String(id)).toEqual(expect.arrayContaining(needed));
      }
      const mapping = Object.values(raw).find((r) => JSON.stringify(r.Properties?.['FunctionName']) === JSON.stringify({ Ref: fns.executor }) && r.Properties?.['EventSourceArn']);
      expect(mapping?.DependsOn ?? []).toEqual(expect.arrayContaining(policiesOf(roleOf('executor'))));
    });
  });

  describe('alarms', () => {
    const alarms = (b: Built) => Object.values(resourcesOf(b.template, 'AWS::CloudWatch::Alarm')).map((a) => a.Properties ?? {});
    const topicRef = (b: Built) => ({ Ref: Object.keys(resourcesOf(b.template, 'AWS::SNS::Topic'))[0] });

    it('has an error-rate alarm (errors / invocations) for every function, counted only from a minimum number of invocations', () => {
      const fns = functionIds(paper.template);
      for (const job of JOBS) {
        const found = alarms(paper).find((a) => {
          const metrics = (a['Metrics'] ?? []) as { Expression?: string; MetricStat?: { Metric: { MetricName: string; Dimensions: { Value: unknown }[] } } }[];
          const expression = metrics.find((m) => m.Expression)?.Expression ?? '';
          const onFunction = (name: string) =>
            metrics.some((m) => m.MetricStat?.Metric.MetricName === name && JSON.stringify(m.MetricStat.Metric.Dimensions).includes(`"${fns[job]}"`));
          return expression.includes('errors / invocations') && onFunction('Errors') && onFunction('Invocations');
        });
        expect(found, job).toBeDefined();
        expect(found?.['AlarmActions']).toEqual([topicRef(paper)]);
        const metrics = found?.['Metrics'] as { Expression?: string; MetricStat?: { Period: number } }[];
        // The guard: below the minimum the rate is 0, so 1 failure in 1-5 runs pages nobody.
        expect(metrics.find((m) => m.Expression)?.Expression).toBe(`IF(invocations >= ${MIN_INVOCATIONS_FOR_ERROR_RATE}, 100 * errors / invocations, 0)`);
        // The window holds at least that many scheduled runs.
        const period = metrics.find((m) => m.MetricStat)?.MetricStat?.Period ?? 0;
        expect(period, job).toBe(errorRateWindow(job).toSeconds());
        const schedule = SCHEDULES.find((s) => s.job === job);
        if (schedule) expect(period / schedule.everySeconds, job).toBeGreaterThanOrEqual(MIN_INVOCATIONS_FOR_ERROR_RATE);
      }
    });

    it('full monitoring: alarms on throttles and on p99 duration above 80% of the timeout for every function (lean: neither)', () => {
      for (const job of JOBS) {
        const limitMs = live.config.functions[job].timeoutSeconds * 1000 * live.config.alarms.durationNearTimeoutRatio;
        expect(alarms(live).some((a) => a['MetricName'] === 'Duration' && a['ExtendedStatistic'] === 'p99' && a['Threshold'] === limitMs), job).toBe(true);
      }
      expect(alarms(live).filter((a) => a['MetricName'] === 'Throttles')).toHaveLength(JOBS.length);
      expect(alarms(paper).filter((a) => a['MetricName'] === 'Throttles' || a['MetricName'] === 'Duration')).toEqual([]);
    });

    const metricsOf = (a: Record<string, unknown>) =>
      (a['Metrics'] ?? []) as { Id: string; Expression?: string; MetricStat?: { Metric: { Namespace?: string; MetricName: string; Dimensions?: { Name: string; Value: unknown }[] } } }[];

    it('alarms on every new dead letter (depth increase; for the execution DLQ also the executor metric), not on a standing depth', () => {
      const queues = resourcesOf(paper.template, 'AWS::SQS::Queue');
      const dlqs = Object.keys(queues).filter((id) => !queues[id]?.Properties?.['RedrivePolicy']);
      const executionDlq = logicalId(paper.stack, paper.stack.executionQueue.deadLetterQueue);
      // The execution queue's, one per schedule, the notifier's and the audit checkpoint's.
      expect(dlqs).toHaveLength(1 + SCHEDULES.length + 2);
      for (const dlq of dlqs) {
        const onQueue = alarms(paper).filter((a) => JSON.stringify(a['Metrics'] ?? a['Dimensions']).includes(`"${dlq}"`));
        // No alarm on "visible > 0": it would stay in ALARM for up to 14 days and hide later failures.
        expect(onQueue.some((a) => a['MetricName'] === 'ApproximateNumberOfMessagesVisible'), dlq).toBe(false);
        const arrivals = onQueue.find((a) => metricsOf(a).some((m) => m.Expression?.includes('DIFF(')));
        expect(arrivals, dlq).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', EvaluationPeriods: 2, DatapointsToAlarm: 1 });
        const names = metricsOf(arrivals ?? {}).flatMap((m) => (m.MetricStat ? [m.MetricStat.Metric.MetricName] : []));
        expect(names, dlq).toEqual(expect.arrayContaining(['ApproximateNumberOfMessagesVisible', 'ApproximateNumberOfMessagesNotVisible']));
        expect(names.includes(MetricName.DeadLettered), dlq).toBe(dlq === executionDlq);
        if (dlq === executionDlq) {
          const sent = metricsOf(arrivals ?? {}).find((m) => m.MetricStat?.Metric.MetricName === MetricName.DeadLettered)?.MetricStat?.Metric;
          expect(sent).toMatchObject({ Namespace: METRICS_NAMESPACE, Dimensions: [{ Name: 'service', Value: 'executor' }] });
          expect(metricsOf(arrivals ?? {}).find((m) => m.Expression)?.Expression).toContain(`FILL(${'sent'}, 0) > 0 OR DIFF(`);
        }
      }
    });

    it('full monitoring: reminds separately when a dead letter has waited more than a day', () => {
      const queues = resourcesOf(live.template, 'AWS::SQS::Queue');
      const dlqs = Object.keys(queues).filter((id) => !queues[id]?.Properties?.['RedrivePolicy']);
      for (const dlq of dlqs) {
        const found = alarms(live).find((a) => a['MetricName'] === 'ApproximateAgeOfOldestMessage' && JSON.stringify(a['Dimensions']).includes(`"${dlq}"`));
        expect(found, dlq).toMatchObject({ Threshold: 86_400, ComparisonOperator: 'GreaterThanThreshold' });
      }
    });

    it("alarms on the executor's failed records (recurring), UNKNOWN orders and rejected orders", () => {
      const byMetric = (name: string) =>
        alarms(paper).find((a) => a['Namespace'] === METRICS_NAMESPACE && a['MetricName'] === name && JSON.stringify(a['Dimensions']) === JSON.stringify([{ Name: 'service', Value: 'executor' }]));
      expect(byMetric(MetricName.RecordsFailed)).toMatchObject({ Statistic: 'Sum', Threshold: 1, EvaluationPeriods: 3, DatapointsToAlarm: 2, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
      expect(byMetric(MetricName.OrdersUnknown)).toMatchObject({ Statistic: 'Sum', Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
      expect(byMetric(MetricName.OrdersRejected)).toMatchObject({ Statistic: 'Sum', Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
    });

    /** The alarm whose math reads `name` of function `fn` (by logical id). */
    const onFunctionMetric = (b: Built, fn: string, name: string) =>
      alarms(b).filter((a) => metricsOf(a).some((m) => m.MetricStat?.Metric.MetricName === name && JSON.stringify(m.MetricStat.Metric.Dimensions).includes(`"${fn}"`)));

    it('full monitoring: alarms on a missing heartbeat (a successful invocation, Lambda Invocations - Errors) of every scheduled job, counting missing data as breaching', () => {
      const fns = functionIds(live.template);
      for (const s of SCHEDULES) {
        const found = onFunctionMetric(live, fns[s.job], 'Invocations').find((a) => String(a['AlarmName'] ?? JSON.stringify(a)).includes('HeartbeatMissing'));
        expect(found, s.job).toMatchObject({ TreatMissingData: 'breaching', ComparisonOperator: 'LessThanThreshold', Threshold: 1, EvaluationPeriods: STALE_AFTER_INTERVALS });
        const metrics = metricsOf(found ?? {});
        expect(metrics.find((m) => m.Expression)?.Expression, s.job).toBe('invocations - FILL(errors, 0)');
        expect(metrics.filter((m) => m.MetricStat).map((m) => m.MetricStat?.Metric.MetricName).sort(), s.job).toEqual(['Errors', 'Invocations']);
        expect((metrics.find((m) => m.MetricStat) as { MetricStat?: { Period: number } }).MetricStat?.Period, s.job).toBe(Math.max(60, s.everySeconds));
      }
      // Heartbeats are no paid custom metric any more: no alarm reads one.
      expect(JSON.stringify(alarms(live))).not.toContain('"Heartbeat"');
    });

    it('alarms when intents wait while the executor reports no successful invocation', () => {
      const fns = functionIds(paper.template);
      const found = onFunctionMetric(paper, fns.executor, 'Invocations').find((a) => JSON.stringify(a['Metrics']).includes('ApproximateNumberOfMessagesVisible'));
      expect(found).toBeDefined();
      expect(metricsOf(found ?? {}).find((m) => m.Expression)?.Expression).toContain('FILL(invocations, 0) - FILL(errors, 0) < 1');
    });

    it('alarms when an intent older than its time-to-live waits in the execution queue', () => {
      const queue = logicalId(paper.stack, paper.stack.executionQueue.queue);
      const found = alarms(paper).find(
        (a) => a['MetricName'] === 'ApproximateAgeOfOldestMessage' && JSON.stringify(a['Dimensions']).includes(`"${queue}"`),
      );
      // No stage overrides it, so the threshold is the functions' own default time-to-live.
      const url = 'https://sqs.us-east-1.amazonaws.com/123456789012/q';
      const defaults = loadConfig({
        [ENV.stateTable]: 'state',
        [ENV.auditTable]: 'audit',
        [ENV.idempotencyTable]: 'idempotency',
        [ENV.paperTable]: 'paper',
        [ENV.executionQueueUrl]: url,
        [ENV.executionDlqUrl]: url,
      });
      expect(found).toMatchObject({ Threshold: defaults.intentTtlSeconds, ComparisonOperator: 'GreaterThanThreshold' });
    });

    it('alarms on drift, and on a FAILING or missing health report for 3 minutes (health is the dead man of the jobs it watches)', () => {
      for (const b of [paper, live]) {
        const byMetric = (name: string) => alarms(b).find((a) => a['Namespace'] === METRICS_NAMESPACE && a['MetricName'] === name);
        expect(byMetric(MetricName.DriftQuote)).toMatchObject({ Threshold: b.config.alarms.driftQuote, ComparisonOperator: 'GreaterThanThreshold' });
        expect(byMetric(MetricName.HealthStatus)).toMatchObject({
          Threshold: HEALTH_STATUS_VALUE.FAILING,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          TreatMissingData: 'breaching',
          EvaluationPeriods: 3,
          DatapointsToAlarm: 3,
        });
      }
    });

    it('full monitoring: alarms on an open circuit and an old pause directly (lean: through health FAILING)', () => {
      const byMetric = (b: Built, name: string) => alarms(b).find((a) => a['Namespace'] === METRICS_NAMESPACE && a['MetricName'] === name);
      expect(byMetric(live, MetricName.CircuitOpen)).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
      expect(byMetric(live, MetricName.PauseAgeSeconds)).toMatchObject({ Threshold: live.config.alarms.pauseMaxAgeSeconds, ComparisonOperator: 'GreaterThanThreshold' });
      expect(byMetric(paper, MetricName.CircuitOpen)).toBeUndefined();
      expect(byMetric(paper, MetricName.PauseAgeSeconds)).toBeUndefined();
    });

    it('lean monitoring (the default) leaves out only the alarms health covers, and keeps every alarm for what health does not report', () => {
      const billed = (b: Built) => alarms(b).reduce((n, a) => n + (Array.isArray(a['Metrics']) ? metricsOf(a).filter((m) => m.MetricStat).length : 1), 0);
      expect(paper.config.monitoring).toBe('lean');
      // 31 and 53 billed alarm metrics today: $2.10 and $4.30 a month beyond the free ten.
      expect(billed(paper)).toBeLessThan(billed(live) - 20);
      const names = alarms(paper).map((a) => String(a['AlarmName']));
      for (const left of ['Throttles', 'DurationNearTimeout', 'ScannerHeartbeatMissing', 'ReconcilerHeartbeatMissing', 'HealthHeartbeatMissing', 'LetterOlderThanADay', 'CircuitOpen', 'PauseTooOld']) {
        expect(names.filter((n) => n.includes(left)), left).toEqual([]);
      }
      for (const kept of ['ErrorRate', 'NewLetters', 'ExecutorRecordsFailing', 'ExecutorOrdersUnknown', 'ExecutorOrdersRejected', 'ExecutorHeartbeatMissing', 'IntentsExpiringInQueue', 'DriftTooHigh', 'HealthFailing']) {
        expect(names.some((n) => n.includes(kept)), kept).toBe(true);
      }
    });

    it('sends every alarm and recovery to the one alarm topic, which requires TLS', () => {
      for (const a of alarms(paper)) {
        expect(a['AlarmActions']).toEqual([topicRef(paper)]);
        expect(a['OKActions']).toEqual([topicRef(paper)]);
      }
      expect(JSON.stringify(Object.values(resourcesOf(paper.template, 'AWS::SNS::TopicPolicy'))[0])).toContain('"aws:SecureTransport":"false"');
    });

    it('subscribes the alarm email only when one is configured', () => {
      paper.template.resourceCountIs('AWS::SNS::Subscription', 0);
      live.template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    });
  });

  describe('least privilege', () => {
    it('gives no role UpdateItem, DeleteItem or BatchWriteItem on the audit table', () => {
      for (const b of [paper, live]) {
        const audit = logicalId(b.stack, b.stack.tables.table(AUDIT_TABLE));
        const onAudit = policyStatements(b.template).filter(({ statement }) => JSON.stringify(statement.Resource).includes(`"${audit}"`));
        expect(onAudit.length).toBeGreaterThan(0);
        for (const { statement } of onAudit) {
          for (const action of actionsOf(statement)) expect(AUDIT_FORBIDDEN_ACTIONS as readonly string[]).not.toContain(action);
          expect(actionsOf(statement).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem']);
        }
      }
    });

    it('has no wildcard action or resource except the four acknowledged ones (X-Ray, function versions, new audit checkpoints, health\'s CloudWatch read)', () => {
      for (const b of [paper, live]) {
        for (const { policy, statement } of policyStatements(b.template)) {
          for (const action of actionsOf(statement)) expect(action, policy).not.toContain('*');
          for (const resource of resourcesOfStatement(statement)) {
            const text = JSON.stringify(resource);
            if (!text.includes('*')) continue;
            const xray = resource === '*' && actionsOf(statement).every((a) => a.startsWith('xray:'));
            const functionVersions = /^\{"Fn::Join":\["",\[\{"Fn::GetAtt":\["\w+Function\w+","Arn"\]\},":\*"\]\]\}$/.test(text) &&
              actionsOf(statement).every((a) => a === 'lambda:InvokeFunction');
            const checkpoints = /^\{"Fn::Join":\["",\[\{"Fn::GetAtt":\["AuditAnchorCheckpoints\w+","Arn"\]\},"\/checkpoints\/\*"\]\]\}$/.test(text) &&
              actionsOf(statement).every((a) => a === 's3:PutObject');
            // GetMetricData takes no resource-level permission: the queue-age read of health alone.
            const metricRead = resource === '*' && actionsOf(statement).every((a) => a === 'cloudwatch:GetMetricData') && policy.startsWith('HealthPermissions');
            expect(xray || functionVersions || checkpoints || metricRead, `${policy}: ${text}`).toBe(true);
          }
        }
      }
    });

    it('lets only the executor and reconciler read the exchange keys, and only in live mode', () => {
      const fns = functionIds(live.template);
      const roles = resourcesOf(live.template, 'AWS::Lambda::Function');
      const roleOf = (job: keyof typeof fns) => (roles[fns[job]]?.Properties?.['Role'] as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0];
      // The exchange secret is referenced by name; the notifier reads only its own secret.
      const isExchangeSecret = (resource: unknown, name: string) => JSON.stringify(resource).includes(`:secret:${name}`);
      const readers = policyStatements(live.template)
        .filter(({ statement }) => actionsOf(statement).includes('secretsmanager:GetSecretValue') && isExchangeSecret(statement.Resource, live.config.exchangeSecretName))
        .flatMap(({ roles: r }) => (r as { Ref: string }[]).map((x) => x.Ref));
      expect(readers.sort()).toEqual([roleOf('executor'), roleOf('reconciler')].sort());
      expect(readers.length).toBeGreaterThan(0);
      expect(
        policyStatements(paper.template).some(({ statement }) => actionsOf(statement).includes('secretsmanager:GetSecretValue') && isExchangeSecret(statement.Resource, paper.config.exchangeSecretName)),
      ).toBe(false);
    });

    it('grants the paper exchange table only in paper mode', () => {
      const paperSids = policyStatements(paper.template).map(({ statement }) => statement.Sid);
      const liveSids = policyStatements(live.template).map(({ statement }) => statement.Sid);
      expect(paperSids).toContain('PaperExchangeTableAccess');
      expect(liveSids).not.toContain('PaperExchangeTableAccess');
    });

    it('lets only the scanner send intents, no job scan, and the jobs that decide (and the notifier) publish events', () => {
      const fns = functionIds(paper.template);
      const functions = resourcesOf(paper.template, 'AWS::Lambda::Function');
      const roleOf = (job: keyof typeof fns) => (functions[fns[job]]?.Properties?.['Role'] as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0];
      const holders = (action: string) =>
        policyStatements(paper.template)
          .filter(({ statement }) => actionsOf(statement).includes(action))
          .flatMap(({ roles }) => (roles as { Ref: string }[]).map((r) => r.Ref));
      const queueArn = JSON.stringify(arnOf(logicalId(paper.stack, paper.stack.executionQueue.queue)));
      const senders = policyStatements(paper.template)
        .filter(({ statement }) => actionsOf(statement).includes('sqs:SendMessage') && JSON.stringify(statement.Resource) === queueArn)
        .flatMap(({ roles }) => (roles as { Ref: string }[]).map((r) => r.Ref));
      expect(senders).toEqual([roleOf('scanner')]);
      const notifierRole = logicalId(paper.stack, paper.stack.notifier.function.role);
      expect(holders('events:PutEvents').sort()).toEqual([roleOf('executor'), roleOf('reconciler'), roleOf('health'), notifierRole].sort());
      // No job scans a table on its schedule: health finds held locks by a sparse index.
      expect(holders('dynamodb:Scan')).toEqual([]);
    });
  });

  describe('cdk-nag', () => {
    it('passes the AwsSolutions checks with every finding acknowledged, in paper and in live mode', () => {
      for (const context of [{}, { live: 'true', alarmEmail: 'ops@example.com' }]) {
        const { app } = createStack(context);
        expect(() => app.synth()).not.toThrow();
      }
    }, SYNTH_TIMEOUT_MS);

    it('fails the synth on an unacknowledged wildcard permission', () => {
      const { app, stack } = createStack();
      stack.functions.scanner.role.addToPrincipalPolicy(new PolicyStatement({ actions: ['dynamodb:*'], resources: ['*'] }));
      expect(() => app.synth()).toThrow(/AwsSolutions-IAM5\[Action::dynamodb:\*\]/);
    }, SYNTH_TIMEOUT_MS);
  });
});
