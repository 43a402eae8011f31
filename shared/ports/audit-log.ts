import type { ChainHead } from '../domain/audit-chain.js';
import type { StoredCheckpoint } from '../domain/audit-checkpoint.js';

/** One audited decision or movement (OPS-4). */
export interface AuditEntry {
  /** What happened, e.g. `intent.accepted`, `order.sent`, `budget.reserved`. */
  readonly type: string;
  readonly correlationId?: string;
  readonly data: Readonly<Record<string, unknown>>;
}

export interface AuditRecord extends AuditEntry {
  readonly stream: string;
  readonly seq: number;
  readonly at: string;
  readonly prevHash: string;
  readonly hash: string;
  /** Written in a batch: the head position its writer knew durable (domain/audit-chain.ts). */
  readonly batch?: number;
}

export interface AuditVerification {
  readonly valid: boolean;
  readonly streams: number;
  readonly records: number;
  /** Checkpoints the records were checked against (SEC-5). */
  readonly checkpoints: number;
  /** The first broken record of each bad stream, and why. */
  readonly problems: readonly { stream: string; seq: number; problem: string }[];
}

/** A head move a log hands over to another writer (`AuditLog.pendingHead`). */
export interface PendingHead {
  /** Where the stream's head should move: the last record the log appended to it. */
  readonly head: ChainHead;
  /** Tells the log the head was moved there, so `settle()` does not move it again. */
  written(): void;
}

/** Append-only, hash-chained per stream. */
export interface AuditLog {
  append(stream: string, entry: AuditEntry, at: Date): Promise<AuditRecord>;
  /**
   * Waits for the work an append may leave running after it resolved (the head pointer update,
   * when the log overlaps it with the caller's next step) and throws its first failure. Called
   * before an invocation ends.
   */
  settle?(): Promise<void>;
  /**
   * Starts reading where `stream` ends, if the log does not know it, so that the stream's next
   * append needs no read of its own (the executor starts it in its first round trip, beside its
   * other reads). Only a hint: a failed or outdated read is made again by the append.
   */
  prepare?(stream: string): void;
  /**
   * The head move `settle()` would still make for `stream` (records appended in a batch past the
   * head), or undefined. Handed over to a writer that makes it in a write of its own (the release
   * of the symbol lease, PERF-2); until `written()` is called, `settle()` still makes it.
   */
  pendingHead?(stream: string): PendingHead | undefined;
  /**
   * Checks every stream's chain and head pointer and, when given, that the records agree with
   * every checkpoint (SEC-5): a stream rewritten at or before a checkpointed head fails.
   */
  verify(options?: { readonly checkpoints?: readonly StoredCheckpoint[] }): Promise<AuditVerification>;
}
