/**
 * The one middy stack every handler uses: Lambda context in logs, EMF flush, tracing (when
 * on), event parsing with zod (a coded ValidationError that changes no state), heartbeat
 * (HLT-1), duration and memory per invocation in one structured log line (HLT-6) and
 * structured error codes (HLT-4). Errors are logged with their code and rethrown: never
 * swallowed (HLT-5).
 *
 * Duration, memory, failures and heartbeats are not custom metrics: Lambda publishes Duration,
 * Invocations and Errors for free (a heartbeat is exactly a successful invocation: Invocations -
 * Errors, which the missing-heartbeat alarms read), and its REPORT log line carries the memory
 * used; custom copies cost $0.30 a month each per function. The heartbeat itself is still
 * written to the state table, where health reads it.
 *
 * EMF is flushed only when the invocation added a metric: the functions publish counts only when
 * they are not zero (`addIfNonZero`), and an empty flush would log a warning every quiet minute.
 */
import middy, { type MiddlewareObj } from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import * as z from '../domain/zod-mini.js';
import { ValidationError, toTradewardenError } from '../domain/errors.js';
import type { JobName } from '../definitions/schedules.js';
import type { Clock } from '../ports/clock.js';
import type { HeartbeatStore } from '../ports/heartbeat-store.js';
import type { Observability } from './observability.js';

/** Largest event accepted, in bytes of JSON; anything bigger is a bad input (SEC-4). */
export const MAX_EVENT_BYTES = 256 * 1024;
const BYTES_PER_MB = 1024 * 1024;

export interface StackDeps {
  readonly observability: Observability;
  readonly heartbeats: HeartbeatStore;
  readonly clock: Clock;
}

/** Parses an unknown event with a zod schema into a coded ValidationError. */
export function parseWith<T>(schema: z.core.$ZodType<T>, event: unknown, what: string): T {
  const size = Buffer.byteLength(JSON.stringify(event ?? null) ?? '', 'utf8');
  if (size > MAX_EVENT_BYTES) throw new ValidationError(`${what} is ${size} bytes, more than ${MAX_EVENT_BYTES}`);
  const parsed = z.safeParse(schema, event);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ValidationError(`invalid ${what}: ${issues.join('; ')}`, issues);
  }
  return parsed.data;
}

function parseEvent<T>(schema: z.core.$ZodType<T>, what: string, check?: (event: T) => void): MiddlewareObj<unknown> {
  return {
    before: (request) => {
      const event = parseWith(schema, request.event, what);
      check?.(event);
      request.event = event;
    },
  };
}

export interface StackOptions<TEvent> {
  /**
   * Checks of the parsed event that need the runtime (the clock, the configuration), run before
   * the heartbeat: an event they refuse (a coded ValidationError) changes nothing.
   */
  readonly check?: (event: TEvent) => void;
  /**
   * Write the start heartbeat beside the work instead of before it (the executor: it is not a
   * round trip between the intent and the order, PERF-2). It is awaited before the invocation
   * ends, and a failed write still fails the invocation (HLT-5); only the work has run by then,
   * which suits a handler whose work is idempotent (a retried intent is answered from its order).
   * @default false (written before the work; a failed write stops it)
   */
  readonly heartbeatAlongside?: boolean;
}

interface HeartbeatInternal {
  startedAt?: number;
  /** The start heartbeat written beside the work (`heartbeatAlongside`). */
  started?: Promise<void>;
}

function heartbeat(job: JobName, deps: StackDeps, alongside: boolean): MiddlewareObj<unknown, unknown, Error, Context> {
  const { logger } = deps.observability;
  const record = (outcome: 'success' | 'failure', startedAt: number, errorCode?: string) => {
    const durationMs = deps.clock.now().getTime() - startedAt;
    logger.info('invocation finished', { outcome, durationMs, memoryUsedMb: Math.round(process.memoryUsage().rss / BYTES_PER_MB) });
    return deps.heartbeats.recordEnd(job, deps.clock.now(), durationMs, outcome, errorCode);
  };
  return {
    before: async (request) => {
      const internal = request.internal as HeartbeatInternal;
      const startedAt = deps.clock.now().getTime();
      internal.startedAt = startedAt;
      const started = deps.heartbeats.recordStart(job, new Date(startedAt));
      if (!alongside) return started;
      // Observed in `after` or `onError`, whichever ends the invocation.
      started.catch(() => undefined);
      internal.started = started;
    },
    after: async (request) => {
      const internal = request.internal as HeartbeatInternal;
      await internal.started;
      const startedAt = internal.startedAt ?? deps.clock.now().getTime();
      await record('success', startedAt);
    },
    onError: async (request) => {
      const internal = request.internal as HeartbeatInternal;
      const error = toTradewardenError(request.error);
      logger.error('invocation failed', { error: error.toJSON(), cause: error.cause instanceof Error ? error.cause.message : undefined });
      const startedAt = internal.startedAt;
      // Only an invocation that got past parsing touched state; a bad event changes nothing.
      if (startedAt !== undefined) {
        try {
          await internal.started?.catch((startError: unknown) => logger.error('start heartbeat could not be written', { error: String(startError) }));
          await record('failure', startedAt, error.code);
        } catch (writeError) {
          logger.error('failure heartbeat could not be written', { error: String(writeError) });
        }
      }
      request.error = error;
    },
  };
}

/**
 * Wraps a use-case call in the standard stack. `parse` validates the raw event; `run` receives
 * the typed event.
 */
export function withStack<TEvent, TResult>(
  job: JobName,
  deps: StackDeps,
  schema: z.core.$ZodType<TEvent>,
  run: (event: TEvent, context: Context) => Promise<TResult>,
  options: StackOptions<TEvent> = {},
) {
  const { logger, metrics, tracing } = deps.observability;
  const stack = middy<unknown, TResult, Error, Context>(async (event: unknown, context: Context) => run(event as TEvent, context))
    .use(injectLambdaContext(logger, { resetKeys: true }))
    // No ColdStart metric: it is one paid custom metric per function, and Lambda's REPORT log
    // line already carries every cold start's Init Duration for free.
    .use(publishMetrics(metrics));
  if (tracing) stack.use(tracing.middleware);
  // Parse before the heartbeat: a bad event fails before any state is written.
  return stack.use(parseEvent(schema, `${job} event`, options.check)).use(heartbeat(job, deps, options.heartbeatAlongside ?? false));
}

/** Writes the invocation's EMF blob on success and on failure, when it holds any metric. */
function publishMetrics(metrics: Metrics): MiddlewareObj<unknown, unknown, Error, Context> {
  const flush = () => {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  };
  return { after: flush, onError: flush };
}
