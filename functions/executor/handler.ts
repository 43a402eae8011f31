/**
 * Lambda entry point. Cold start: configuration is parsed once (an invalid value stops the
 * container with a message naming the field) and every client is created once, at module scope.
 */
import { containerFromEnvironment } from '../../shared/runtime/entry.js';
import { createExecutorHandler } from './app.js';

const container = await containerFromEnvironment('executor');

// On AWS the handler itself delays a failed message's next delivery; the local runtime's
// poller does that job locally, so it passes no scheduler.
export const handler = createExecutorHandler(container, { retryScheduler: container.retryScheduler });
