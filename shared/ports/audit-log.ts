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
}

export interface AuditVerification {
  readonly valid: boolean;
  readonly streams: number;
  readonly records: number;
  /** The first broken record of each bad stream, and why. */
  readonly problems: readonly { stream: string; seq: number; problem: string }[];
}

/** Append-only, hash-chained per stream. */
export interface AuditLog {
  append(stream: string, entry: AuditEntry, at: Date): Promise<AuditRecord>;
  verify(): Promise<AuditVerification>;
}
