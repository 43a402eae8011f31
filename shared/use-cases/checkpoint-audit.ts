/**
 * The scheduled audit checkpoint (SEC-5): anchors every audit stream's head where no writer of
 * the audit log can reach it.
 *
 * Primary course:
 * 1. Read every stream's head pointer (one Query of the sparse audit-heads index).
 * 2. Store them, with the time, as a new write-once checkpoint (S3 Object Lock on AWS, an
 *    append-only directory locally).
 * 3. Return what was anchored. A failure of either step fails the run (it is retried by the
 *    schedule, then dead-lettered and alarmed): a missing checkpoint is never silent.
 */
import type { StoredCheckpoint } from '../domain/audit-checkpoint.js';
import type { AuditCheckpointStore, AuditHeadReader } from '../ports/audit-checkpoints.js';
import type { Clock } from '../ports/clock.js';

export interface CheckpointAuditDeps {
  readonly heads: AuditHeadReader;
  readonly checkpoints: AuditCheckpointStore;
  readonly clock: Clock;
}

export interface CheckpointResult {
  readonly id: string;
  readonly at: string;
  /** Streams anchored. */
  readonly streams: number;
  /** Records anchored: the sum of the checkpointed sequence numbers. */
  readonly records: number;
}

export async function checkpointAudit(deps: CheckpointAuditDeps): Promise<CheckpointResult> {
  const at = deps.clock.now().toISOString();
  const heads = await deps.heads.heads();
  const stored: StoredCheckpoint = await deps.checkpoints.put({ at, heads });
  const records = Object.values(heads).reduce((sum, h) => sum + h.seq, 0);
  return { id: stored.id, at, streams: Object.keys(heads).length, records };
}
