/** A received queue message to be delivered again after a delay (EXE-4). */
export interface RetryRequest {
  readonly messageId: string;
  /** The receipt handle of the delivery that failed. */
  readonly receiptHandle: string;
  /** Seconds until the message may be received again. */
  readonly delaySeconds: number;
}

/**
 * Schedules the redelivery of messages that failed with a retryable error, with the backoff
 * the caller computed, instead of the queue's fixed visibility timeout.
 */
export interface RetryScheduler {
  /** @throws when the queue refuses any of the changes (the message then keeps its visibility timeout). */
  retryLater(requests: readonly RetryRequest[]): Promise<void>;
}
