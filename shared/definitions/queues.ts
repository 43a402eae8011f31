/**
 * The SQS queues, described once for the CDK stack and the embedded local stack. Their timing
 * (visibility timeout, receives before the DLQ) is part of the timing rules in domain/timing.ts.
 */
import { EXECUTION_VISIBILITY_TIMEOUT_SECONDS, MAX_RECEIVE_COUNT } from '../domain/timing.js';

export interface QueueDefinition {
  /** Construct id in CDK and the local queue name stem. */
  readonly logicalId: string;
  readonly fifo: boolean;
  /** Visibility timeout; for an event-source queue it must be >= 6x the consumer's timeout on AWS. */
  readonly visibilityTimeoutSeconds: number;
  readonly retentionSeconds: number;
  /** Present on queues that dead-letter. */
  readonly deadLetter?: { readonly logicalId: string; readonly maxReceiveCount: number };
}

/** Seconds in one day, for retention settings. */
const DAY_SECONDS = 86_400;

/**
 * Trade intents from the scanner to the executor. FIFO: group = symbol (one symbol is never
 * worked on by two consumers at once), deduplication id = intent id (a re-sent intent within
 * five minutes is dropped by SQS itself).
 */
export const EXECUTION_QUEUE: QueueDefinition = {
  logicalId: 'ExecutionQueue',
  fifo: true,
  visibilityTimeoutSeconds: EXECUTION_VISIBILITY_TIMEOUT_SECONDS,
  retentionSeconds: 4 * DAY_SECONDS,
  deadLetter: { logicalId: 'ExecutionDlq', maxReceiveCount: MAX_RECEIVE_COUNT },
};

/** Dead-letter retention is the SQS maximum so nothing ages out before someone redrives it. */
export const DLQ_RETENTION_SECONDS = 14 * DAY_SECONDS;

export const QUEUES = [EXECUTION_QUEUE] as const;

/** SQS requires FIFO queue names to end in `.fifo`. */
export function queueName(prefix: string, logicalId: string, fifo: boolean): string {
  return `${prefix}-${logicalId}${fifo ? '.fifo' : ''}`;
}
