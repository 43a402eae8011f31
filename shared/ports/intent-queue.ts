import type { Intent } from '../domain/intent.js';

/** The FIFO execution queue: group = symbol, deduplication id = intent id. */
export interface IntentQueue {
  send(intents: readonly Intent[]): Promise<void>;
}

/**
 * The age of the oldest message of each queue, for health (HLT-2, EXE-13): on AWS what CloudWatch
 * reports as ApproximateAgeOfOldestMessage, locally read from the embedded SQS.
 */
export interface QueueAgeReader {
  /** Seconds the oldest message of each named queue has waited (in flight included); 0 when empty. */
  oldestAges(): Promise<Readonly<Record<string, number>>>;
}

/** Queue depths, for health (HLT-2). */
export interface QueueInspector {
  depths(): Promise<Readonly<Record<string, number>>>;
}
