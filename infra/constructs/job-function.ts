/**
 * One job's Lambda function: Node.js 24 on ARM64, bundled locally by esbuild as minified ESM
 * with source maps, its own log group with a retention, and its own role that starts with no
 * permissions except writing its logs (SEC-2: every other grant is added explicitly).
 */
import { Validations, type Duration } from 'aws-cdk-lib';
import { Role, ServicePrincipal, type IRole } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { join } from 'node:path';
import type { JobName } from '../../shared/definitions/schedules.js';
import { handlerEntry, nodejsBundlingOptions, PROJECT_ROOT, type BundleSpec } from '../bundling/esbuild-options.js';

/** Lambda runtime and architecture of every job. */
export const JOB_RUNTIME = Runtime.NODEJS_24_X;
export const JOB_ARCHITECTURE = Architecture.ARM_64;

/** Functions besides the trading jobs. */
export type ServiceName = 'notifier' | 'audit-checkpoint';

export interface JobFunctionProps {
  readonly job: JobName | ServiceName;
  readonly memoryMb: number;
  readonly timeout: Duration;
  readonly logRetention: RetentionDays;
  /** Environment variables (see config/function-environment.ts). */
  readonly environment: Readonly<Record<string, string>>;
  /** How the handler is bundled (shared with the bundle benchmark). */
  readonly bundle: BundleSpec;
  /**
   * The handler's source file; it exports `handler`.
   * @default functions/<job>/handler.ts
   */
  readonly entry?: string;
  /**
   * X-Ray active tracing.
   * @default false
   */
  readonly tracing?: boolean;
  /**
   * Where failed asynchronous invocations go (scheduled jobs).
   * @default no dead-letter queue
   */
  readonly deadLetterQueue?: IQueue;
  /**
   * Concurrent executions reserved for (and capped at) this function. 1 for a scheduled job: a
   * run never overlaps the previous one, even when Scheduler retries a delivery or an operator
   * invokes it ad hoc.
   * @default no reservation (the account's unreserved pool)
   */
  readonly reservedConcurrency?: number;
}

export class JobFunction extends Construct {
  readonly job: JobName | ServiceName;
  readonly function: NodejsFunction;
  readonly role: IRole;
  readonly timeout: Duration;
  readonly logGroup: LogGroup;
  /** How the handler is bundled (which ccxt exchange, if any, it carries). */
  readonly bundle: BundleSpec;

  constructor(scope: Construct, id: string, props: JobFunctionProps) {
    super(scope, id);
    this.job = props.job;
    this.bundle = props.bundle;
    this.timeout = props.timeout;
    this.logGroup = new LogGroup(this, 'LogGroup', { retention: props.logRetention });
    const role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Tradewarden ${props.job} function`,
    });
    // Written log streams only in its own log group, instead of the managed
    // AWSLambdaBasicExecutionRole (which allows every log group of the account).
    this.logGroup.grantWrite(role);
    this.role = role;

    this.function = new NodejsFunction(this, 'Function', {
      description: `Tradewarden ${props.job}`,
      entry: props.entry ?? handlerEntry(props.job),
      handler: 'handler',
      runtime: JOB_RUNTIME,
      architecture: JOB_ARCHITECTURE,
      memorySize: props.memoryMb,
      timeout: props.timeout,
      role,
      logGroup: this.logGroup,
      environment: { ...props.environment },
      tracing: props.tracing ? Tracing.ACTIVE : Tracing.DISABLED,
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      bundling: nodejsBundlingOptions(props.bundle),
      ...(props.deadLetterQueue ? { deadLetterQueue: props.deadLetterQueue } : {}),
      ...(props.reservedConcurrency !== undefined ? { reservedConcurrentExecutions: props.reservedConcurrency } : {}),
    });
    if (props.tracing) {
      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'X-Ray active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level ' +
          'permissions, so AWS requires Resource "*" for them. The statement holds only those two actions; ' +
          'every other statement of this role names its resources.',
      });
    }
  }
}
