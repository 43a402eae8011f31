/**
 * The last checks before an order goes to the exchange (EXE-14, RISK-1): immediately before every
 * exchange call (first send and re-send alike) the intent's expiry and the pause are checked
 * again, and a holder whose lease ran out does not send. An order that may no longer go out is
 * not on the exchange, so it is closed EXPIRED (expired) or REJECTED (paused) through the order
 * aggregate, which releases its reservation.
 */
import { LockLostError } from '../domain/errors.js';
import type { OrderRecord } from '../domain/order.js';
import type { Clock } from '../ports/clock.js';
import type { Lease } from '../ports/lock-service.js';
import type { PauseState } from '../ports/control-store.js';
import { pauseBlocks } from './pause.js';

/** Why a paused intent is refused, as recorded on its order. */
export function pausedReason(pause: PauseState): string {
  return `trading paused${pause.scope === 'entries' ? ' for entries' : ''}: ${pause.reason ?? 'no reason given'}`;
}

/** Why an intent past its deadline is not sent, as recorded on its order. */
export function expiredReason(deadline: Date): string {
  return `intent expired at ${deadline.toISOString()} before it was sent`;
}

/** An order that must not be sent, and the event that closes it. */
export interface SendBlocked {
  readonly type: 'Expired' | 'Rejected';
  readonly reason: string;
}

/** The intent's deadline passed: the order is closed EXPIRED instead of sent. */
export function expiryBlock(clock: Clock, deadline: Date): SendBlocked | null {
  return clock.now().getTime() >= deadline.getTime() ? { type: 'Expired', reason: expiredReason(deadline) } : null;
}

/**
 * The checks after the SUBMITTING write, on the pause read in the same round trip: paused (for
 * this side), expired, or the lease ran out. A lost lease is thrown: the exchange call is the one
 * write no fencing token guards, so a holder that stalled past its lease (GC, a frozen container)
 * must not send; this narrows the window and the exchange's duplicate client order id check
 * closes it.
 * @throws LockLostError when the lease expired before the order was sent
 */
export function sendBlock(clock: Clock, order: OrderRecord, pause: PauseState, deadline: Date, lease: Lease): SendBlocked | null {
  if (pauseBlocks(pause, clock.now(), order.side)) return { type: 'Rejected', reason: pausedReason(pause) };
  const expired = expiryBlock(clock, deadline);
  if (expired) return expired;
  if (clock.now().getTime() >= lease.expiresAt) {
    throw new LockLostError(lease.name, { details: { orderId: order.id, expiresAt: new Date(lease.expiresAt).toISOString(), reason: 'lease expired before the order was sent' } });
  }
  return null;
}
