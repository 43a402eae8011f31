import type { ChainHead } from '../domain/audit-chain.js';

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
  /**
   * Releases only if `lease` is still the current one; a lost lease is left alone.
   *
   * `head`: the head the audit stream of the lease's name (`symbol:<SYMBOL>`) should move to.
   * A lock service that keeps that lease on the stream's head item moves it in the same write
   * (PERF-2) and resolves true; false means the head was not moved (the lease was lost, the head
   * is already there or beyond, or the service cannot carry it) and stays the audit log's to move.
   */
  release(lease: Lease, head?: ChainHead): Promise<boolean>;
  /** The locks currently held (live or past their lease), for health; found by key, never by a table scan. */
  list(): Promise<LockInfo[]>;
}
