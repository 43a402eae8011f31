/**
 * Lambda entry point. Cold start: configuration is parsed once (an invalid value stops the
 * container with a message naming the field) and every client is created once, at module scope.
 */
import { containerFromEnvironment } from '../../shared/runtime/entry.js';
import { createReconcilerHandler } from './app.js';

export const handler = createReconcilerHandler(await containerFromEnvironment('reconciler'));
