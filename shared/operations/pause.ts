/**
 * Pause and resume trading (RISK-1). The pause is the kill switch every scan reads first; each
 * change is audited on the `control` stream (OPS-4).
 */
import type { PauseState } from '../ports/control-store.js';
import type { OperatorDeps } from './ports.js';

export interface PauseInput {
  readonly reason: string;
  readonly author: string;
  /** How long the pause holds; without it, until a resume. */
  readonly forMs?: number;
}

/**
 * 1. Write the pause record (reason, author, since, optional expiry).
 * 2. Audit it.
 */
export async function pauseTrading(deps: Pick<OperatorDeps, 'clock' | 'control' | 'audit'>, input: PauseInput): Promise<PauseState> {
  const now = deps.clock.now();
  const until = input.forMs !== undefined ? new Date(now.getTime() + input.forMs).toISOString() : undefined;
  const state: PauseState = { paused: true, reason: input.reason, author: input.author, since: now.toISOString(), ...(until ? { until } : {}) };
  await deps.control.setPause(state);
  await deps.audit.append('control', { type: 'control.paused', data: { ...state } }, now);
  return state;
}

/**
 * 1. Clear the pause record.
 * 2. Audit it.
 */
export async function resumeTrading(deps: Pick<OperatorDeps, 'clock' | 'control' | 'audit'>, input: { readonly author: string }): Promise<PauseState> {
  const now = deps.clock.now();
  const state: PauseState = { paused: false };
  await deps.control.setPause(state);
  await deps.audit.append('control', { type: 'control.resumed', data: { author: input.author } }, now);
  return state;
}
