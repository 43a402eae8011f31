/**
 * The health function's entry wiring. Health on AWS reads the age of the oldest intent from
 * CloudWatch (SQS's ApproximateAgeOfOldestMessage), as the IntentsExpiringInQueue alarm does
 * (HLT-2, EXE-13). Only the health function imports this module, so the CloudWatch client is in
 * its bundle alone (and only its role may call GetMetricData).
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchQueueAges } from '../adapters/aws/cloudwatch-queue-ages.js';
import { systemClock } from '../ports/clock.js';
import type { QueueAgeReader } from '../ports/intent-queue.js';
import type { Config } from './config.js';
import { EXECUTION_QUEUE_NAME, type Container } from './container.js';
import { containerFromEnvironment } from './entry.js';

export function cloudWatchQueueAges(config: Config): Promise<QueueAgeReader> {
  return Promise.resolve(
    new CloudWatchQueueAges({
      client: new CloudWatchClient({ region: config.region }),
      // The execution queue alone: a dead-letter queue's age is not judged (its depth is), and each
      // metric read is billed (infra/cost: one per health run).
      queues: { [EXECUTION_QUEUE_NAME]: config.executionQueueUrl },
      clock: systemClock,
    }),
  );
}

/** The health function's container, from the process environment. */
export function healthContainerFromEnvironment(): Promise<Container> {
  return containerFromEnvironment('health', { queueAges: cloudWatchQueueAges });
}
