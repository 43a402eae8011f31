/**
 * Powertools Logger, Metrics (EMF) and, only when tracing is on, Tracer: built once per
 * container by the handler entry module (never at import time of shared code).
 *
 * The Tracer is loaded with a dynamic import: the X-Ray SDK it wraps installs an async hook on
 * every promise as soon as it is imported, even with tracing off (about 30 % CPU in tests and
 * locally, and tens of milliseconds of cold start). Without tracing it is never evaluated.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { MiddlewareObj } from '@middy/core';
import type { JobName } from '../definitions/schedules.js';
import { METRICS_NAMESPACE } from './metric-names.js';

/** The X-Ray tracer and the middy middleware that opens and closes the handler's segment. */
export interface Tracing {
  readonly tracer: Tracer;
  readonly middleware: MiddlewareObj;
}

export interface Observability {
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Present only when tracing is on (`POWERTOOLS_TRACE_ENABLED=true`). */
  readonly tracing?: Tracing;
}

export interface ObservabilityOptions {
  readonly logLevel?: string;
  /** A tracer loaded with `loadTracing`. @default no tracing */
  readonly tracing?: Tracing;
}

export function createObservability(job: JobName, options: ObservabilityOptions = {}): Observability {
  const logger = new Logger({ serviceName: job, ...(options.logLevel ? { logLevel: options.logLevel as 'INFO' } : {}) });
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: job });
  return { logger, metrics, ...(options.tracing ? { tracing: options.tracing } : {}) };
}

/** Imports Powertools Tracer (and with it the X-Ray SDK) and builds the job's tracer. */
export async function loadTracing(job: JobName): Promise<Tracing> {
  const [{ Tracer: TracerClass }, { captureLambdaHandler }] = await Promise.all([
    import('@aws-lambda-powertools/tracer'),
    import('@aws-lambda-powertools/tracer/middleware'),
  ]);
  const tracer = new TracerClass({ serviceName: job, enabled: true });
  return { tracer, middleware: captureLambdaHandler(tracer) as MiddlewareObj };
}

/**
 * Adds a count or gauge only when it is not zero. CloudWatch bills a custom metric for each hour
 * in which it receives data, so a metric that is published only when something happens (a
 * rejection, stale data, an open circuit, a waiting dead letter) costs nothing in a quiet month.
 * Every alarm on such a metric treats missing data as "not breaching", which is what zero means.
 */
export function addIfNonZero(metrics: Metrics, name: string, unit: Parameters<Metrics['addMetric']>[1], value: number): void {
  if (value !== 0) metrics.addMetric(name, unit, value);
}
