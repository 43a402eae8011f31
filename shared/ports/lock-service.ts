/** A held lease. `token` grows on every acquisition: the fencing token (RISK-7). */
export interface Lease {
  readonly name: string;
  readonly owner: string;
  readonly token: number;
  readonly expiresAt: number;
}

export interface LockInfo {
  readonly name: string;
  readonly owner: string | null;
  readonly token: number;
  readonly expiresAt: number;
}

export interface LockService {
  /** @throws LockHeldError when another owner holds an unexpired lease. */
  acquire(name: string, owner: string, leaseMs: number, now: Date): Promise<Lease>;
  /** Releases only if `lease` is still the current one; a lost lease is left alone. */
  release(lease: Lease): Promise<void>;
  /** The locks currently held (live or past their lease), for health; found by key, never by a table scan. */
  list(): Promise<LockInfo[]>;
}
