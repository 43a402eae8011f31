import type { PauseScope, PauseState } from '../ports/control-store.js';
import type { Side } from '../domain/order.js';

/** A pause with an expiry in the past no longer holds. */
export function isPauseActive(pause: PauseState, now: Date): boolean {
  if (!pause.paused) return false;
  return !pause.until || Date.parse(pause.until) > now.getTime();
}


/** What an active pause stops: nothing (`none`), new entries only, or all trading (RISK-8). */
export function pauseScope(pause: PauseState, now: Date): PauseScope | 'none' {
  if (!isPauseActive(pause, now)) return 'none';
  return pause.scope ?? 'all';
}

/**
 * Whether the pause stops an order of `side`. Tradewarden trades spot long: a buy opens or adds
 * to a position (an entry), a sell reduces it (an exit, stop-loss, take-profit).
 */
export function pauseBlocks(pause: PauseState, now: Date, side: Side): boolean {
  const scope = pauseScope(pause, now);
  return scope === 'all' || (scope === 'entries' && side === 'buy');
}

/**
 * One line on what trading may do now, for status and health: "trading", "paused: <reason>", or
 * for an entries-only pause its reason (the drift halt says "entries blocked by drift" with the
 * figures).
 */
export function tradingSummary(pause: PauseState, now: Date): string {
  const scope = pauseScope(pause, now);
  if (scope === 'none') return 'trading';
  if (scope === 'entries') {
    const reason = pause.reason ?? 'no reason given';
    return reason.startsWith('entries blocked') ? reason : `entries blocked: ${reason}`;
  }
  return `paused: ${pause.reason ?? 'no reason given'}`;
}
