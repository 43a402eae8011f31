import type { Intent } from '../domain/intent.js';

/** The FIFO execution queue: group = symbol, deduplication id = intent id. */
export interface IntentQueue {
  send(intents: readonly Intent[]): Promise<void>;
}

/** Queue depths, for health (HLT-2). */
export interface QueueInspector {
  depths(): Promise<Readonly<Record<string, number>>>;
}
