/**
 * When a failed intent message comes back (EXE-4): the backoff of shared/domain/timing.ts on the
 * message's receive count, for retryable errors only. A permanent error does not get here from a
 * queued record: the handler dead-letters it at once (SEC-4), and if that send fails the record
 * fails with the (retryable) send error and comes back after a backoff; the records
 * the FIFO processor skipped behind a failed one in its message group come back together with it.
 */
import { SqsFifoMessageGroupShortCircuitError, SqsFifoShortCircuitError } from '@aws-lambda-powertools/batch';
import { toTradewardenError } from '../../shared/domain/errors.js';
import { retryDelaySeconds } from '../../shared/domain/timing.js';
import type { RetryRequest } from '../../shared/ports/retry-scheduler.js';

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
