/**
 * Where the executor puts a message that can never succeed (SEC-4): straight to the dead-letter
 * queue, with why, instead of letting the queue redeliver it until maxReceiveCount while every
 * later message of its FIFO group waits behind it.
 */
export interface DeadLetter {
  /** The failed message's id; also its deduplication id in a FIFO dead-letter queue. */
  readonly messageId: string;
  /** The message body, unchanged, so a redrive sends exactly what failed. */
  readonly body: string;
  /** FIFO message group of the failed message (the symbol). */
  readonly groupId?: string;
  /** Stable error code (`VALIDATION_FAILED`, ...). */
  readonly errorCode: string;
  /** What went wrong, in words (never a secret: errors carry none, SEC-1). */
  readonly reason: string;
}

export interface DeadLetterQueue {
  /** @throws when the queue did not take the message (the caller must then not acknowledge it). */
  send(letter: DeadLetter): Promise<void>;
}
