/**
 * A standard SQS dead-letter queue for a scheduled job: both EventBridge Scheduler (delivery
 * failed after its retries) and Lambda (the asynchronous invocation failed) put the original
 * event here, so a failed run can be inspected and replayed with `npm run invoke` (OPS-2, OPS-3).
 * Retained with the stack (what failed outlives a `cdk destroy`); it has no fixed name, so a
 * retained queue never blocks a redeploy.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Queue, QueueEncryption, type IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DLQ_RETENTION_SECONDS } from '../../shared/definitions/queues.js';

export interface JobDeadLetterQueueProps {
  /**
   * How long a failed event is kept.
   * @default DLQ_RETENTION_SECONDS (14 days, the SQS maximum)
   */
  readonly retention?: Duration;
}

export class JobDeadLetterQueue extends Construct {
  readonly queue: IQueue;

  constructor(scope: Construct, id: string, props: JobDeadLetterQueueProps = {}) {
    super(scope, id);
    this.queue = new Queue(this, 'Queue', {
      retentionPeriod: props.retention ?? Duration.seconds(DLQ_RETENTION_SECONDS),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
