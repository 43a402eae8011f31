/**
 * Powertools Logger, Metrics (EMF) and Tracer, built once per container by the handler entry
 * module (never at import time of shared code).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';
import type { JobName } from '../definitions/schedules.js';
import { METRICS_NAMESPACE } from './metric-names.js';

export interface Observability {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly tracer: Tracer;
}

export function createObservability(job: JobName, options: { logLevel?: string; tracing?: boolean } = {}): Observability {
  const logger = new Logger({ serviceName: job, ...(options.logLevel ? { logLevel: options.logLevel as 'INFO' } : {}) });
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: job });
  const tracer = new Tracer({ serviceName: job, enabled: options.tracing ?? true });
  return { logger, metrics, tracer };
}
