import type { AuditLog } from '../ports/audit-log.js';
import type { Clock } from '../ports/clock.js';
import type { ControlStore, PauseState } from '../ports/control-store.js';

/** A pause with an expiry in the past no longer holds. */
export function isPauseActive(pause: PauseState, now: Date): boolean {
  if (!pause.paused) return false;
  return !pause.until || Date.parse(pause.until) > now.getTime();
}

/**
 * Pauses trading (RISK-1): writes the pause record, then audits it on the control stream.
 * 1. Write the pause (reason, author, since).
 * 2. Audit it.
 */
export async function pauseTrading(deps: { readonly clock: Clock; readonly control: ControlStore; readonly audit: AuditLog }, input: { readonly reason: string; readonly author: string }): Promise<PauseState> {
  const now = deps.clock.now();
  const state: PauseState = { paused: true, reason: input.reason, author: input.author, since: now.toISOString() };
  await deps.control.setPause(state);
  await deps.audit.append('control', { type: 'control.paused', data: { ...state } }, now);
  return state;
}

/** Resumes trading: clears the pause record, then audits who resumed. */
export async function resumeTrading(deps: { readonly clock: Clock; readonly control: ControlStore; readonly audit: AuditLog }, input: { readonly author: string }): Promise<PauseState> {
  const now = deps.clock.now();
  const state: PauseState = { paused: false };
  await deps.control.setPause(state);
  await deps.audit.append('control', { type: 'control.resumed', data: { author: input.author } }, now);
  return state;
}
