/**
 * Lambda entry point. Cold start: configuration is parsed once (an invalid value stops the
 * container with a message naming the field) and every client is created once, at module scope.
 */
import { healthContainerFromEnvironment } from '../../shared/runtime/health-entry.js';
import { createHealthHandler } from './app.js';

export const handler = createHealthHandler(await healthContainerFromEnvironment());
