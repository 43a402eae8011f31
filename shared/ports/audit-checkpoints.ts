/**
 * Where audit checkpoints are kept (SEC-5): out of reach of every writer of the audit log. On
 * AWS an S3 bucket with Object Lock, written only by the checkpoint function; locally an
 * append-only directory. Neither adapter can replace or remove a checkpoint.
 */
import type { ChainHead } from '../domain/audit-chain.js';
import type { AuditCheckpoint, StoredCheckpoint } from '../domain/audit-checkpoint.js';

export interface AuditCheckpointStore {
  /** Stores a new checkpoint. Never replaces one: a second checkpoint of the same instant is refused. */
  put(checkpoint: AuditCheckpoint): Promise<StoredCheckpoint>;
  /** Every checkpoint ever stored (on S3: every version of every object), oldest first. */
  list(): Promise<StoredCheckpoint[]>;
}

/** Reads the head pointer of every audit stream. */
export interface AuditHeadReader {
  heads(): Promise<Record<string, ChainHead>>;
}
