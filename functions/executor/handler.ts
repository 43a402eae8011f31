/**
 * Lambda entry point. Cold start: configuration is parsed once (an invalid value stops the
 * container with a message naming the field) and every client is created once, at module scope.
 */
import { SqsRetryScheduler } from '../../shared/adapters/sqs-retry-scheduler.js';
import { containerFromEnvironment } from '../../shared/runtime/entry.js';
import { createExecutorHandler } from './app.js';

const container = await containerFromEnvironment('executor');

export const handler = createExecutorHandler(container, {
  retryScheduler: new SqsRetryScheduler({ sqs: container.sqs, queueUrl: container.config.executionQueueUrl }),
});
