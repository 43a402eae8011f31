/**
 * Everything Tradewarden runs on, in one environment-agnostic stack (no lookups, no account or
 * region baked in), so `cdk synth` works offline without credentials (OPS-1). The stack only
 * wires the constructs together; each concern lives in its own construct.
 */
import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { Config } from '../../shared/runtime/config.js';
import { JOBS, SCHEDULES, type JobName } from '../../shared/definitions/schedules.js';
import { STACK_OUTPUT, functionNameOutput, functionSettingsOf } from '../../shared/definitions/stack-outputs.js';
import { AUDIT_TABLE, IDEMPOTENCY_TABLE, PAPER_TABLE, STATE_TABLE } from '../../shared/definitions/tables.js';
import { bundleSpec, type BundleSpec } from '../bundling/esbuild-options.js';
import { bundledExchange, tradingMode, type DeploymentConfig } from '../config/deployment-config.js';
import { functionEnvironment, validateFunctionEnvironment } from '../config/function-environment.js';
import { AlarmTopic } from '../constructs/alarm-topic.js';
import { AuditAnchor } from '../constructs/audit-anchor.js';
import { JobDeadLetterQueue } from '../constructs/dead-letter-queue.js';
import { DomainEventBus } from '../constructs/domain-event-bus.js';
import { ExchangeSecret } from '../constructs/exchange-secret.js';
import { ExecutionQueue } from '../constructs/execution-queue.js';
import { HealthEndpoint } from '../constructs/health-endpoint.js';
import { JobFunction } from '../constructs/job-function.js';
import { JobPermissions } from '../constructs/job-permissions.js';
import { JobSchedule } from '../constructs/job-schedule.js';
import { pascalCase, policiesOf } from '../constructs/names.js';
import { OperationalAlarms, type MonitoredQueue } from '../constructs/operational-alarms.js';
import { OperationsDashboard } from '../constructs/operations-dashboard.js';
import { NotificationService } from '../constructs/notification-service.js';
import { TradewardenTables } from '../constructs/tables.js';
import { sourcedMetric } from '../constructs/tradewarden-metrics.js';
import { MetricName } from '../../shared/runtime/metric-names.js';

/**
 * Concurrent runs of each scheduled job: one. A scan, a reconciliation or a health run never
 * overlaps another (a retried delivery or an ad hoc invoke waits or is throttled instead).
 */
export const SCHEDULED_JOB_CONCURRENCY = 1;

export interface TradewardenStackProps extends StackProps {
  readonly config: DeploymentConfig;
  /**
   * Handler source file per job.
   * @default functions/<job>/handler.ts for every job
   */
  readonly entries?: Partial<Record<JobName, string>>;
  /**
   * How handlers are bundled.
   * @default per job, bundleSpec(bundledExchange(config, job)): the configured exchange in live
   *   mode, and in paper mode on real prices for the jobs that read market data; no exchange otherwise
   */
  readonly bundle?: BundleSpec;
  /**
   * Handler source file of the notifier.
   * @default functions/notifier/handler.ts
   */
  readonly notifierEntry?: string;
  /**
   * Handler source file of the audit checkpoint.
   * @default functions/audit-checkpoint/handler.ts
   */
  readonly auditCheckpointEntry?: string;
}

/** CloudFormation's limit on the size of one output value. */
export const OUTPUT_VALUE_MAX_CHARS = 4096;

/** The functions' settings as one output value. @throws Error when it would not fit in an output. */
function functionSettingsJson(environment: Readonly<Record<string, string>>): string {
  const json = JSON.stringify(functionSettingsOf(environment));
  if (json.length > OUTPUT_VALUE_MAX_CHARS) throw new Error(`the function settings are ${json.length} characters; a stack output holds at most ${OUTPUT_VALUE_MAX_CHARS}`);
  return json;
}

export class TradewardenStack extends Stack {
  readonly tables: TradewardenTables;
  readonly executionQueue: ExecutionQueue;
  readonly functions: Readonly<Record<JobName, JobFunction>>;
  readonly alarms: OperationalAlarms;
  readonly notifier: NotificationService;
  readonly auditAnchor: AuditAnchor;

  constructor(scope: Construct, id: string, props: TradewardenStackProps) {
    super(scope, id, {
      description: `Tradewarden (${props.config.stage}, ${tradingMode(props.config)} trading): scheduled crypto trading jobs`,
      ...props,
    });
    const { config } = props;
    const mode = tradingMode(config);
    const specs = new Map<string | undefined, BundleSpec>();
    const bundleOf = (job: JobName): BundleSpec => {
      if (props.bundle) return props.bundle;
      const exchangeId = bundledExchange(config, job);
      const spec = specs.get(exchangeId) ?? bundleSpec(exchangeId);
      specs.set(exchangeId, spec);
      return spec;
    };

    this.tables = new TradewardenTables(this, 'Tables');
    this.executionQueue = new ExecutionQueue(this, 'Execution');
    const events = new DomainEventBus(this, 'DomainEvents', { archiveRetention: Duration.days(config.eventArchiveRetentionDays) });
    const alarmTopic = new AlarmTopic(this, 'Alarms', config.alarmEmail ? { email: config.alarmEmail } : {});
    const exchangeSecret = new ExchangeSecret(this, 'ExchangeKeys', { secretName: config.exchangeSecretName });

    const scheduleDlqs = new Map<JobName, JobDeadLetterQueue>(
      SCHEDULES.map((s) => [s.job, new JobDeadLetterQueue(this, `${pascalCase(s.job)}Dlq`)]),
    );

    const resources = {
      stateTable: this.tables.table(STATE_TABLE).tableName,
      auditTable: this.tables.table(AUDIT_TABLE).tableName,
      idempotencyTable: this.tables.table(IDEMPOTENCY_TABLE).tableName,
      paperTable: this.tables.table(PAPER_TABLE).tableName,
      executionQueueUrl: this.executionQueue.queue.queueUrl,
      executionDlqUrl: this.executionQueue.deadLetterQueue.queueUrl,
      eventBusName: events.bus.eventBusName,
      exchangeSecretArn: exchangeSecret.secretId,
    };

    const functions = {} as Record<JobName, JobFunction>;
    const permissions = {} as Record<JobName, JobPermissions>;
    // What each function will run with (defaults applied); alarm thresholds must agree with it.
    const runtimeConfigs = {} as Record<JobName, Config>;
    for (const job of JOBS) {
      const environment = functionEnvironment(config, job, resources);
      runtimeConfigs[job] = validateFunctionEnvironment(environment);
      const dlq = scheduleDlqs.get(job);
      const sizing = config.functions[job];
      const fn = new JobFunction(this, pascalCase(job), {
        job,
        memoryMb: sizing.memoryMb,
        timeout: Duration.seconds(sizing.timeoutSeconds),
        logRetention: config.logRetentionDays as RetentionDays,
        environment,
        bundle: bundleOf(job),
        tracing: config.tracing,
        ...(props.entries?.[job] ? { entry: props.entries[job] } : {}),
        ...(dlq ? { deadLetterQueue: dlq.queue, reservedConcurrency: SCHEDULED_JOB_CONCURRENCY } : {}),
      });
      permissions[job] = new JobPermissions(fn, 'Permissions', {
        job,
        role: fn.role,
        tables: this.tables,
        executionQueue: this.executionQueue.queue,
        executionDeadLetterQueue: this.executionQueue.deadLetterQueue,
        eventBus: events.bus,
        exchangeSecret,
        mode,
      });
      functions[job] = fn;
    }
    this.functions = functions;

    for (const schedule of SCHEDULES) {
      const dlq = scheduleDlqs.get(schedule.job);
      if (!dlq) throw new Error(`no dead-letter queue for ${schedule.job}`);
      new JobSchedule(this, `${pascalCase(schedule.job)}Schedule`, {
        definition: schedule,
        target: functions[schedule.job].function,
        deadLetterQueue: dlq.queue,
        dependsOn: [...policiesOf(functions[schedule.job].role), permissions[schedule.job]],
      });
    }

    this.executionQueue.feed(functions.executor.function, {
      batchSize: config.executor.batchSize,
      maxConcurrency: config.executor.maxConcurrency,
      dependsOn: [...policiesOf(functions.executor.role), permissions.executor],
    });
    new HealthEndpoint(this, 'HealthEndpoint', { function: functions.health.function });
    this.notifier = new NotificationService(this, 'Notifications', {
      environment: functionEnvironment(config, 'health', resources),
      bundle: bundleOf('health'),
      logRetention: config.logRetentionDays as RetentionDays,
      tables: this.tables,
      eventBus: events.bus,
      alarmTopic: alarmTopic.topic,
      executionQueue: this.executionQueue.queue,
      executionDeadLetterQueue: this.executionQueue.deadLetterQueue,
      exchangeSecret,
      secretName: config.notifierSecretName,
      mode,
      ...(props.notifierEntry ? { entry: props.notifierEntry } : {}),
    });

    this.auditAnchor = new AuditAnchor(this, 'AuditAnchor', {
      environment: functionEnvironment(config, 'health', resources),
      bundle: bundleOf('health'),
      logRetention: config.logRetentionDays as RetentionDays,
      tables: this.tables,
      executionQueue: this.executionQueue.queue,
      executionDeadLetterQueue: this.executionQueue.deadLetterQueue,
      eventBus: events.bus,
      exchangeSecret,
      mode,
      ...config.auditCheckpoints,
      ...(props.auditCheckpointEntry ? { entry: props.auditCheckpointEntry } : {}),
    });

    const monitored = JOBS.map((job) => ({ job, function: functions[job].function, timeout: functions[job].timeout }));
    const deadLetterQueues: MonitoredQueue[] = [
      {
        name: 'ExecutionDlq',
        queue: this.executionQueue.deadLetterQueue,
        sentByFunction: sourcedMetric(MetricName.DeadLettered, { statistic: 'Sum', period: Duration.minutes(1) }),
      },
      ...[...scheduleDlqs].map(([job, dlq]) => ({ name: `${pascalCase(job)}Dlq`, queue: dlq.queue })),
      { name: 'NotifierDlq', queue: this.notifier.deadLetterQueue },
      { name: 'AuditCheckpointDlq', queue: this.auditAnchor.deadLetterQueue },
    ];
    this.alarms = new OperationalAlarms(this, 'Monitoring', {
      topic: alarmTopic.topic,
      profile: config.monitoring,
      functions: monitored,
      deadLetterQueues,
      executionQueue: this.executionQueue.queue,
      thresholds: config.alarms,
      intentTtlSeconds: runtimeConfigs.executor.intentTtlSeconds,
    });
    new OperationsDashboard(this, 'Dashboard', {
      functions: monitored,
      executionQueue: this.executionQueue.queue,
      deadLetterQueues,
      driftQuote: config.alarms.driftQuote,
      alarms: [...this.alarms.alarms.values()],
    });

    // Everything the operator tools need (shared/definitions/stack-outputs.ts): output keys are
    // their interface and are never renamed.
    const output = (key: string, value: string, description?: string) => new CfnOutput(this, key, { value, ...(description ? { description } : {}) });
    output(STACK_OUTPUT.tradingMode, mode);
    output(STACK_OUTPUT.stateTable, resources.stateTable);
    output(STACK_OUTPUT.auditTable, resources.auditTable);
    output(STACK_OUTPUT.idempotencyTable, resources.idempotencyTable);
    output(STACK_OUTPUT.paperTable, resources.paperTable);
    output(STACK_OUTPUT.executionQueueUrl, resources.executionQueueUrl);
    output(STACK_OUTPUT.executionDlqUrl, resources.executionDlqUrl);
    output(STACK_OUTPUT.eventBusName, resources.eventBusName);
    output(STACK_OUTPUT.functionSettings, functionSettingsJson(functionEnvironment(config, 'scanner', resources)), 'Settings the functions run with, read by npm run ops');
    for (const job of JOBS) {
      // For ad hoc replays: npm run invoke -- --stage <stage> <job> events/..., or aws lambda invoke --function-name <this>
      output(functionNameOutput(job), functions[job].function.functionName);
    }
    // The key keeps its name (operator interface); the value is the secret's name, a valid SecretId.
    output(STACK_OUTPUT.exchangeSecretArn, exchangeSecret.secretId, 'Name of the key secret: create it with {"apiKey","secret"} before going live; the stack never writes it');
    output(STACK_OUTPUT.alarmTopicArn, alarmTopic.topic.topicArn);
    output(STACK_OUTPUT.auditCheckpointBucket, this.auditAnchor.bucket.bucketName, 'Object Lock bucket of the audit checkpoints (SEC-5), read by npm run ops -- audit verify');
  }
}
