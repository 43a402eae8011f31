/**
 * The audit chain's anchor (SEC-5): a versioned S3 bucket with Object Lock and a default
 * retention, and the scheduled function that writes each audit stream's head into it.
 *
 * - Object Lock (mode and retention from the deployment config) locks every object version:
 *   in compliance mode no principal, the root user included, can delete a checkpoint or shorten
 *   its retention before it expires. Versioning, which Object Lock requires, keeps every version.
 * - Only the checkpoint function may put objects, and only under `checkpoints/`; no Tradewarden
 *   role may delete objects, change retention or legal holds, or bypass governance
 *   (test/infra/audit-anchor.test.ts checks every policy of the template). Operators read the
 *   checkpoints with their own credentials (`npm run ops -- audit verify`).
 * - The function's role reads the audit heads through one index Query and nothing else
 *   (JobPermissions with AUDIT_CHECKPOINT_ACCESS, checked by test/infra/iam-from-code.test.ts).
 * - An EventBridge rule runs it every `everyMinutes`; failures retry, then go to its DLQ, which
 *   the stack alarms on like every other DLQ.
 */
import { Duration, RemovalPolicy, Stack, Validations, type CfnResource } from 'aws-cdk-lib';
import { Rule, RuleTargetInput, Schedule, type IEventBus } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectLockRetention } from 'aws-cdk-lib/aws-s3';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { join } from 'node:path';
import { AUDIT_CHECKPOINT_EVENT } from '../../shared/definitions/schedules.js';
import { ENV } from '../../shared/runtime/config.js';
import { PROJECT_ROOT, type BundleSpec } from '../bundling/esbuild-options.js';
import { JobDeadLetterQueue } from './dead-letter-queue.js';
import type { ExchangeSecret } from './exchange-secret.js';
import { JobFunction } from './job-function.js';
import { AUDIT_CHECKPOINT_ACCESS, JobPermissions } from './job-permissions.js';
import { policiesOf } from './names.js';
import type { TradewardenTables } from './tables.js';

export interface AuditAnchorProps {
  /** The environment every function gets (the function parses the same configuration). */
  readonly environment: Readonly<Record<string, string>>;
  readonly bundle: BundleSpec;
  readonly logRetention: RetentionDays;
  readonly tables: TradewardenTables;
  readonly executionQueue: IQueue;
  readonly executionDeadLetterQueue: IQueue;
  readonly eventBus: IEventBus;
  readonly exchangeSecret: ExchangeSecret;
  readonly mode: 'paper' | 'live';
  readonly lockMode: 'COMPLIANCE' | 'GOVERNANCE';
  readonly retentionDays: number;
  readonly everyMinutes: number;
  /**
   * The handler's source file.
   * @default functions/audit-checkpoint/handler.ts
   */
  readonly entry?: string;
}

export class AuditAnchor extends Construct {
  readonly bucket: Bucket;
  readonly function: JobFunction;
  readonly deadLetterQueue: IQueue;
  readonly schedule: Rule;

  constructor(scope: Construct, id: string, props: AuditAnchorProps) {
    super(scope, id);
    const retention = Duration.days(props.retentionDays);
    this.bucket = new Bucket(this, 'Checkpoints', {
      versioned: true,
      objectLockEnabled: true,
      objectLockDefaultRetention: props.lockMode === 'COMPLIANCE' ? ObjectLockRetention.compliance(retention) : ObjectLockRetention.governance(retention),
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Server access logs would need a second bucket for a bucket written by one function role and read by operators; ' +
        'the only writer is the checkpoint function (its log group records every put) and no role can delete or alter an object (Object Lock).',
    });

    this.deadLetterQueue = new JobDeadLetterQueue(this, 'Dlq').queue;
    this.function = new JobFunction(this, 'Function', {
      job: 'audit-checkpoint',
      memoryMb: 256,
      timeout: Duration.seconds(30),
      logRetention: props.logRetention,
      environment: { ...props.environment, POWERTOOLS_SERVICE_NAME: 'audit-checkpoint', [ENV.auditCheckpointBucket]: this.bucket.bucketName },
      bundle: props.bundle,
      entry: props.entry ?? join(PROJECT_ROOT, 'functions', 'audit-checkpoint', 'handler.ts'),
      deadLetterQueue: this.deadLetterQueue,
    });
    const permissions = new JobPermissions(this.function, 'Permissions', {
      job: 'audit-checkpoint',
      access: AUDIT_CHECKPOINT_ACCESS,
      role: this.function.role,
      tables: props.tables,
      executionQueue: props.executionQueue,
      executionDeadLetterQueue: props.executionDeadLetterQueue,
      eventBus: props.eventBus,
      exchangeSecret: props.exchangeSecret,
      mode: props.mode,
      checkpointBucket: this.bucket,
    });
    const bucketLogicalId = Stack.of(this).resolve((this.bucket.node.defaultChild as CfnResource).logicalId) as string;
    Validations.of(permissions.policy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${bucketLogicalId}.Arn>/checkpoints/*]`,
      reason: 'Each checkpoint is a new object named by its time under checkpoints/: the put cannot name it in advance. The statement holds s3:PutObject alone, on this bucket\'s checkpoints/ prefix.',
    });

    this.schedule = new Rule(this, 'Schedule', {
      description: 'Tradewarden audit checkpoint (SEC-5)',
      schedule: Schedule.rate(Duration.minutes(props.everyMinutes)),
      targets: [
        new LambdaFunction(this.function.function, {
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: 2,
          maxEventAge: Duration.minutes(Math.max(1, props.everyMinutes)),
          event: RuleTargetInput.fromObject(AUDIT_CHECKPOINT_EVENT),
        }),
      ],
    });
    // The first runs must not meet AccessDenied: the rule waits for the function's policies.
    for (const policy of [...policiesOf(this.function.role), permissions]) this.schedule.node.addDependency(policy);
  }
}
