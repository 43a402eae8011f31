import type { CircuitState } from '../domain/circuit.js';

/** A circuit state with the version it was read at (0: no record yet, i.e. closed). */
export interface VersionedCircuit {
  readonly state: CircuitState;
  readonly version: number;
}

/**
 * The shared circuit state of each exchange (RISK-5): one record per exchange, read by every
 * instance before each exchange call and written only on a transition.
 */
export interface CircuitStore {
  /** Strongly consistent read; a missing record is a closed circuit at version 0. */
  read(exchangeId: string): Promise<VersionedCircuit>;
  /**
   * Writes `state` at `expectedVersion + 1` if the record is still at `expectedVersion`.
   * @returns false when another instance wrote first (re-read and decide again).
   */
  write(exchangeId: string, state: CircuitState, expectedVersion: number): Promise<boolean>;
}
