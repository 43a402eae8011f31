import type { PauseState } from '../ports/control-store.js';

/** A pause with an expiry in the past no longer holds. */
export function isPauseActive(pause: PauseState, now: Date): boolean {
  if (!pause.paused) return false;
  return !pause.until || Date.parse(pause.until) > now.getTime();
}

