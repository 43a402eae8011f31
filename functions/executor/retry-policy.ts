/**
 * When a failed intent message comes back (EXE-4): exponential backoff on the message's receive
 * count with jitter, for retryable errors only. A permanent error does not get here from a
 * queued record: the handler dead-letters it at once (SEC-4), and if that send fails the record
 * fails with the (retryable) send error and comes back after a backoff; the records
 * the FIFO processor skipped behind a failed one in its message group come back together with it.
 */
import { SqsFifoMessageGroupShortCircuitError, SqsFifoShortCircuitError } from '@aws-lambda-powertools/batch';
import { toTradewardenError } from '../../shared/domain/errors.js';
import type { RetryRequest } from '../../shared/ports/retry-scheduler.js';

/** Delay before the second delivery of a message; each further receive doubles it. */
export const RETRY_BASE_SECONDS = 10;
/**
 * Longest delay. Five receives (the queue's maxReceiveCount) then span about 150 s at most
 * before the DLQ; a longer outage is what the DLQ and its redrive are for (OPS-2).
 */
export const RETRY_MAX_SECONDS = 900;

/**
 * Delay after the `receiveCount`-th delivery failed: base x 2^(receiveCount-1), capped, with
 * "equal jitter" (uniform in [half, full]) so retries of a burst of failures spread out while
 * each still waits at least half of its step.
 */
export function retryDelaySeconds(receiveCount: number, random: () => number = Math.random): number {
  const attempt = Number.isFinite(receiveCount) && receiveCount >= 1 ? Math.floor(receiveCount) : 1;
  const ceiling = Math.min(RETRY_MAX_SECONDS, RETRY_BASE_SECONDS * 2 ** Math.min(30, attempt - 1));
  return Math.max(1, Math.round(ceiling * (0.5 + random() / 2)));
}

/** A failed record of a batch as the retry plan needs it. */
export interface FailedRecord {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly attributes: { readonly ApproximateReceiveCount?: string; readonly MessageGroupId?: string };
}

/** Whether the FIFO processor skipped the record because an earlier record of its group failed. */
export function isSkipped(error: unknown): boolean {
  return error instanceof SqsFifoMessageGroupShortCircuitError || error instanceof SqsFifoShortCircuitError;
}

/**
 * Which failed records to reschedule and when. `failures` are in processing order with the
 * error each one failed with. A record skipped because an earlier record of its group failed
 * follows that record's decision and delay.
 */
export function planRetries(failures: readonly { record: FailedRecord; error: unknown }[], random: () => number = Math.random): RetryRequest[] {
  const byGroup = new Map<string, number | null>();
  const plan: RetryRequest[] = [];
  for (const { record, error } of failures) {
    if (!record.receiptHandle) continue;
    const group = record.attributes.MessageGroupId ?? `message:${record.messageId}`;
    let delay: number | null;
    if (isSkipped(error)) {
      delay = byGroup.get(group) ?? null;
    } else {
      const receives = Number(record.attributes.ApproximateReceiveCount ?? '1');
      delay = toTradewardenError(error).retryable ? retryDelaySeconds(receives, random) : null;
      if (!byGroup.has(group)) byGroup.set(group, delay);
    }
    if (delay !== null) plan.push({ messageId: record.messageId, receiptHandle: record.receiptHandle, delaySeconds: delay });
  }
  return plan;
}
