/**
 * Verifying a log that is being written: `verify` reads the head pointers, then every record,
 * then the head pointers again. What it checks is the log as of the first read: every record up
 * to that head (plus the one record a crash may leave past it) must be there and chained. A
 * record past that which the second read of the head covers was appended while verify ran; it
 * is left for the next run, not reported. A record past both reads of the head was not written
 * through the log (beyond-head) and is kept, so the chain check reports it.
 */
import type { ChainHead, ChainedRecord } from './audit-chain.js';

export interface StreamSnapshot {
  readonly records: readonly ChainedRecord[];
  /** The head to check the records against: absent when the stream began while verify ran. */
  readonly head: ChainHead | null | undefined;
}

/**
 * @param before the stream's head read before the records (null: none then)
 * @param after the stream's head read after the records (null: none then)
 */
export function snapshotOf(records: readonly ChainedRecord[], before: ChainHead | null, after: ChainHead | null): StreamSnapshot {
  const limit = (before?.seq ?? 0) + 1;
  const appendedMeanwhile = (after?.seq ?? 0) + 1;
  const kept = records.filter((r) => r.seq <= limit || r.seq > appendedMeanwhile);
  if (before === null && after !== null && kept.length === 0) return { records: [], head: undefined };
  return { records: kept, head: before };
}
