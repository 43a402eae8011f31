import type { DecimalString } from '../domain/money.js';

/** The account's value at one moment, for the equity curve (OPS-9). */
export interface EquitySnapshot {
  /** ISO time the value was measured. */
  readonly at: string;
  readonly currency: string;
  readonly equity: DecimalString;
  readonly realizedPnl: DecimalString;
}

/**
 * Recorded equity over time. Bounded by construction: at most one snapshot per bucket (a later
 * snapshot in the same bucket replaces the earlier one), and readers ask for the latest N.
 */
export interface EquitySnapshotStore {
  record(snapshot: EquitySnapshot): Promise<void>;
  /** The latest `limit` snapshots of `currency`, oldest first. */
  latest(currency: string, limit: number): Promise<EquitySnapshot[]>;
}
