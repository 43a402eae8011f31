/**
 * The deployed transport: the operator ports on a stack found through its outputs, talking to
 * its tables and queues with the operator's credentials through the standard AWS SDK
 * environment (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_SQS, ...).
 * Nothing here knows whether those endpoints are AWS or the embedded emulators, which is how
 * the tests prove the path has no local-only shortcut.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { createHealthHandler } from '../functions/health/app.js';
import { localContext } from '../local-runtime/stack.js';
import { S3AuditCheckpointStore } from '../shared/adapters/aws/s3-audit-checkpoint-store.js';
import { SqsDeadLetterRedrive } from '../shared/adapters/aws/sqs-dead-letter-redrive.js';
import { environmentFromOutputs } from '../shared/definitions/stack-outputs.js';
import { StackUnavailableError } from '../shared/operations/errors.js';
import type { HealthReport } from '../shared/use-cases/check-health.js';
import type { Clock } from '../shared/ports/clock.js';
import { ENV, loadConfig } from '../shared/runtime/config.js';
import { containerFor } from '../shared/runtime/entry.js';
import { createObservability } from '../shared/runtime/observability.js';
import { requireAwsAccess } from './aws-access.js';
import { operatorDeps } from './deps.js';
import type { OperatorSession } from './session.js';
import type { ResolvedStack } from './stack-outputs.js';

/** Timeout given to the in-process health check, as the deployed function has. */
const HEALTH_TIMEOUT_MS = 30_000;
/** Operator tools keep stdout for their own output: only errors are logged. */
const OPERATOR_LOG_LEVEL = 'ERROR';

export interface DeployedSessionOptions {
  /** Live mode: read the exchange API keys (status, emergency stop and cancels need them). */
  readonly exchangeKeys?: boolean;
  readonly clock?: Clock;
}

/**
 * Opens the operator ports on a deployed stack.
 * @throws StackUnavailableError when the outputs lack a key, or no region or credentials are found;
 *   ConfigError when the published settings do not parse.
 */
export async function openDeployedOperatorSession(stack: ResolvedStack, options: DeployedSessionOptions = {}): Promise<OperatorSession> {
  const built = environmentFromOutputs(stack.outputs);
  if ('missing' in built) {
    throw new StackUnavailableError(
      `the outputs of ${stack.stackName} lack ${built.missing.join(', ')}`,
      'deploy this version (npx cdk deploy -c stage=<name>) so the stack publishes them, then rewrite the outputs file (--outputs-file) if you use one',
    );
  }
  const probe = new DynamoDBClient({});
  let region: string;
  try {
    region = await requireAwsAccess(probe);
  } finally {
    probe.destroy();
  }
  const config = loadConfig({ ...built.env, [ENV.region]: region, [ENV.logLevel]: OPERATOR_LOG_LEVEL });
  const container = await containerFor('health', config, {
    withKeys: options.exchangeKeys ?? false,
    observability: createObservability('health', { logLevel: OPERATOR_LOG_LEVEL }),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const health = createHealthHandler(container);
  // The audit checkpoints (SEC-5): the bucket named by the stack's outputs, through the standard
  // SDK environment like every other client here (AWS_ENDPOINT_URL_S3 points it elsewhere).
  const s3 = config.auditCheckpointBucket ? new S3Client({ region }) : undefined;
  const deps = operatorDeps(container, {
    checkpoints: s3 && config.auditCheckpointBucket ? new S3AuditCheckpointStore({ s3, bucket: config.auditCheckpointBucket }) : undefined,
    health: { run: () => health({ scheduledTime: container.clock.now().toISOString() }, localContext('tradewarden-health', HEALTH_TIMEOUT_MS) as never) as Promise<HealthReport> },
    deadLetters: new SqsDeadLetterRedrive({
      sqs: container.sqs,
      queues: { queueUrl: config.executionQueueUrl, dlqUrl: config.executionDlqUrl },
      preferMoveTask: true,
    }),
  });
  return {
    deps,
    container,
    target: stack.stackName,
    close: async () => {
      container.ddb.destroy();
      container.sqs.destroy();
      s3?.destroy();
    },
  };
}
