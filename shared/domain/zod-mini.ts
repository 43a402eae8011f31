/**
 * zod, in its small build (`zod/mini`), with English messages. Every schema on a function's cold
 * path is built with it: the full build costs a cold start about 75 KB of code and builds each
 * schema with its chainable methods, where `zod/mini` builds plain schemas and checks (PERF-3).
 * The validation and its messages are the same (one zod core).
 */
import { config } from 'zod/mini';
import { en } from 'zod/locales';

config(en());

export * from 'zod/mini';
