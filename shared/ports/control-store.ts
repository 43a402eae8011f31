/**
 * What a pause stops (RISK-8): `all` (the kill switch: nothing trades) or `entries` (new entries
 * only; exits, stop-loss and take-profit keep working: the drift halt).
 */
export type PauseScope = 'all' | 'entries';
export const PAUSE_SCOPES: readonly PauseScope[] = ['all', 'entries'];

/** The kill switch record (RISK-1). */
export interface PauseState {
  readonly paused: boolean;
  /** Absent on records written before scopes existed, and on operator pauses: `all`. */
  readonly scope?: PauseScope;
  readonly reason?: string;
  readonly author?: string;
  readonly since?: string;
  readonly until?: string;
}

/**
 * Control records: pause and the latest reports of each job. `getPause` throws when the record
 * cannot be read; callers treat that as paused (fail closed).
 */
export interface ControlStore {
  getPause(): Promise<PauseState>;
  setPause(state: PauseState): Promise<void>;
  putReport(kind: ReportKind, report: Record<string, unknown>): Promise<void>;
  getReport(kind: ReportKind): Promise<Record<string, unknown> | null>;
}

export type ReportKind = 'scan' | 'reconciliation' | 'health';
