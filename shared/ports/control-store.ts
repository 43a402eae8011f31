/** The kill switch record (RISK-1). */
export interface PauseState {
  readonly paused: boolean;
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
