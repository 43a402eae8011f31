/**
 * Event schemas of every function's triggers and ad hoc payloads (zod, strict: an unknown field
 * is a bad input), one module per function so that a function's bundle builds only its own at
 * cold start (zod schemas are built at import). A function imports its own module; this one
 * gathers them for tests and tools.
 */
export * from './events/scanner.js';
export * from './events/executor.js';
export * from './events/reconciler.js';
export * from './events/health.js';
