/**
 * The FIFO queue that carries trade intents from the scanner to the executor, and its FIFO
 * dead-letter queue (OPS-2). Built from the shared queue definition.
 */
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { EventSourceMapping, type IFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption, RedrivePermission } from 'aws-cdk-lib/aws-sqs';
import { Construct, type IDependable } from 'constructs';
import { DLQ_RETENTION_SECONDS, EXECUTION_QUEUE, queueName, type QueueDefinition } from '../../shared/definitions/queues.js';

export interface ExecutionQueueProps {
  /**
   * The queue's definition; it must be FIFO and dead-lettering.
   * @default EXECUTION_QUEUE from shared/definitions/queues.ts
   */
  readonly definition?: QueueDefinition;
  /**
   * Prefix of the execution queue's name (`<prefix>-<logicalId>.fifo`, as in the local stack).
   * @default the stack name
   */
  readonly namePrefix?: string;
}

/** How the executor consumes the queue. */
export interface ExecutionConsumerOptions {
  /** Messages per invocation (at most 10 for FIFO). */
  readonly batchSize: number;
  /** Upper bound on concurrent invocations. */
  readonly maxConcurrency: number;
  /**
   * What the consumer needs before the first batch arrives (its role's policies).
   * @default nothing beyond CDK's own dependencies
   */
  readonly dependsOn?: readonly IDependable[];
}

/**
 * FIFO: group = symbol, deduplication id = intent id (set by the sender; content-based
 * deduplication is off). After `maxReceiveCount` receives a message moves to the FIFO DLQ,
 * whose redrive-allow policy names this queue, so the console's "Start DLQ redrive" moves it
 * back; the executor's idempotent claim makes a redriven intent execute at most once (EXE-1).
 */
export class ExecutionQueue extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly definition: QueueDefinition;

  constructor(scope: Construct, id: string, props: ExecutionQueueProps = {}) {
    super(scope, id);
    const definition = props.definition ?? EXECUTION_QUEUE;
    const deadLetter = definition.deadLetter;
    if (!definition.fifo || !deadLetter) throw new Error(`${definition.logicalId} must be a FIFO queue with a dead-letter queue`);
    this.definition = definition;
    const prefix = props.namePrefix ?? Stack.of(this).stackName;
    const sourceName = queueName(prefix, definition.logicalId, true);

    // The DLQ's redrive-allow policy names the source queue by ARN built from its fixed name:
    // referencing the source queue object would make the two queues depend on each other.
    // The DLQ holds failed intents, so it outlives the stack (RETAIN). It has no fixed name:
    // CloudFormation generates one (ending in .fifo), so a retained DLQ never blocks a
    // redeploy after `cdk destroy`. The source queue keeps its fixed name and is deleted with
    // the stack (what it holds expires within the intent time-to-live anyway).
    const sourceArn = Stack.of(this).formatArn({ service: 'sqs', resource: sourceName });
    this.deadLetterQueue = new Queue(this, deadLetter.logicalId, {
      fifo: true,
      removalPolicy: RemovalPolicy.RETAIN,
      retentionPeriod: Duration.seconds(DLQ_RETENTION_SECONDS),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      redriveAllowPolicy: {
        redrivePermission: RedrivePermission.BY_QUEUE,
        sourceQueues: [Queue.fromQueueArn(this, 'SourceQueueRef', sourceArn)],
      },
    });
    this.queue = new Queue(this, definition.logicalId, {
      queueName: sourceName,
      fifo: true,
      contentBasedDeduplication: false,
      visibilityTimeout: Duration.seconds(definition.visibilityTimeoutSeconds),
      retentionPeriod: Duration.seconds(definition.retentionSeconds),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: deadLetter.maxReceiveCount },
    });
  }

  /**
   * Makes `consumer` the queue's consumer, with partial batch responses: only the failed
   * messages of a batch are redelivered.
   */
  feed(consumer: IFunction, options: ExecutionConsumerOptions): void {
    const source = new SqsEventSource(this.queue, {
      batchSize: options.batchSize,
      maxConcurrency: options.maxConcurrency,
      reportBatchItemFailures: true,
    });
    consumer.addEventSource(source);
    const mapping = consumer.node.children.find((c): c is EventSourceMapping => c instanceof EventSourceMapping);
    if (!mapping) throw new Error('the SQS event source created no event source mapping');
    mapping.node.addDependency(...(options.dependsOn ?? []));
  }
}
