/**
 * Redelivery backoff on SQS: a failed message's visibility timeout is changed to the delay, so
 * it comes back then rather than after the queue's fixed timeout. One
 * ChangeMessageVisibilityBatch per ten messages (the SQS batch limit).
 */
import { ChangeMessageVisibilityBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { StorageError } from '../../domain/errors.js';
import type { RetryRequest, RetryScheduler } from '../../ports/retry-scheduler.js';

/** SQS accepts at most ten entries per batch call. */
export const SQS_BATCH_LIMIT = 10;
/** SQS's upper bound on a visibility timeout (12 hours). */
export const SQS_MAX_VISIBILITY_SECONDS = 43_200;

export class SqsRetryScheduler implements RetryScheduler {
  constructor(private readonly options: { readonly sqs: SQSClient; readonly queueUrl: string }) {}

  /** @throws StorageError naming the entries SQS refused (e.g. an expired receipt handle). */
  async retryLater(requests: readonly RetryRequest[]): Promise<void> {
    const failed: { id: string; code?: string; message?: string }[] = [];
    for (let i = 0; i < requests.length; i += SQS_BATCH_LIMIT) {
      const chunk = requests.slice(i, i + SQS_BATCH_LIMIT);
      const out = await this.options.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: this.options.queueUrl,
          Entries: chunk.map((r, n) => ({
            Id: String(n),
            ReceiptHandle: r.receiptHandle,
            VisibilityTimeout: Math.min(SQS_MAX_VISIBILITY_SECONDS, Math.max(0, Math.round(r.delaySeconds))),
          })),
        }),
      );
      for (const f of out.Failed ?? []) {
        const request = chunk[Number(f.Id)];
        failed.push({ id: request?.messageId ?? String(f.Id), ...(f.Code ? { code: f.Code } : {}), ...(f.Message ? { message: f.Message } : {}) });
      }
    }
    if (failed.length > 0) {
      throw new StorageError(`SQS refused to reschedule ${failed.length} message(s)`, { details: { failed } });
    }
  }
}
