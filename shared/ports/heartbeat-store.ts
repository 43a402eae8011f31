import type { JobName } from '../definitions/schedules.js';

export type Outcome = 'success' | 'failure';

export interface Heartbeat {
  readonly job: JobName;
  readonly lastStart?: string;
  readonly lastSuccess?: string;
  readonly lastFailure?: string;
  readonly lastDurationMs?: number;
  readonly lastOutcome?: Outcome;
  readonly lastErrorCode?: string;
}

/** HLT-1: every function records its last start, success, duration and outcome. */
export interface HeartbeatStore {
  recordStart(job: JobName, at: Date): Promise<void>;
  recordEnd(job: JobName, at: Date, durationMs: number, outcome: Outcome, errorCode?: string): Promise<void>;
  list(): Promise<Heartbeat[]>;
}
