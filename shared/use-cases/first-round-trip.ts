/**
 * The executor's first round trip (PERF-2): every read that does not depend on another, and the
 * symbol lease, in flight together. execute-intent.ts awaits each where it needs it.
 */
import { randomUUID } from 'node:crypto';
import type { AccountBook } from '../domain/account.js';
import type { EntryLimits } from '../domain/entry-limits.js';
import { ValidationError } from '../domain/errors.js';
import { intentFingerprint, type Intent } from '../domain/intent.js';
import { isTerminal, type OrderRecord, type OrderState } from '../domain/order.js';
import type { PauseState } from '../ports/control-store.js';
import type { Lease } from '../ports/lock-service.js';
import type { ExecuteIntentDeps } from './execute-intent.js';
import { auditStream } from './order-commit.js';
import { sizeOrder, type Sized } from './size-order.js';

/** States after which the executor has nothing left to do: the reconciler follows the order. */
export const SUBMITTED: ReadonlySet<OrderState> = new Set(['OPEN', 'PARTIALLY_FILLED', 'CANCEL_REQUESTED']);

/** Whether the executor is done with an order: ended, or on the exchange for the reconciler. */
export function pastSubmission(order: OrderRecord): boolean {
  return isTerminal(order.state) || SUBMITTED.has(order.state);
}

/**
 * INTENT_FINGERPRINT (EXE-1, SEC-4): a delivery of an intent id whose trade fields differ from
 * those its order was claimed with is not that intent; it is refused with a coded error (not
 * retryable: the handler dead-letters it) and changes no state. An order claimed before the
 * fingerprint was recorded cannot be compared and is answered as before.
 * @throws ValidationError when the stored order was claimed for other content.
 */
export function refuseChangedContent(order: OrderRecord, intent: Intent): void {
  if (order.intentFingerprint === undefined || order.intentFingerprint === intentFingerprint(intent)) return;
  throw new ValidationError(`intent ${intent.id} was delivered before with different content`, ['id'], {
    details: { intentId: intent.id, orderId: order.id, state: order.state },
  });
}

/** What the first round trip read and took; each read is awaited where it is needed. */
export interface FirstRoundTrip {
  readonly existing: OrderRecord | null;
  /** Null when the symbol is unknown (taken later, if at all). */
  readonly lease: Lease | null;
  readonly pause: Promise<PauseState>;
  readonly book: Promise<AccountBook | null>;
  readonly limits?: Promise<EntryLimits>;
  readonly sizing: Promise<Sized> | null;
}

/**
 * FIRST_ROUND_TRIP: every read that does not depend on another, and the lease, in flight
 * together (one round trip where there were five). What that costs, and why it is safe:
 * - the order is read while the lease is taken, not after: a claim of an order that appeared
 *   meanwhile fails its condition and continues with the stored order (`claim`); a resumed
 *   order is read again under the lease;
 * - a duplicate of a finished intent takes and gives back the lease (two writes; most
 *   duplicates end at the queue's deduplication before the executor);
 * - a delivery whose content differs from the stored order's (INTENT_FINGERPRINT) is refused
 *   here, the lease given back, before anything is written;
 * - the book is only the starting point of the reservation's conditional write; a book that
 *   changed meanwhile is read again there (a sell's amount is capped by a read under the lease);
 * - the sizing's ticker is read for every new intent that can still be sent, before the pause
 *   is known: a paused intent wastes one ticker read.
 * A failure of a read or of the lease is thrown only where its value is needed, after the lease
 * (when taken) has been given back; nothing is left in flight.
 */
export async function firstRoundTrip(deps: ExecuteIntentDeps, intent: Intent, orderId: string, now: Date, known: boolean, deadline: Date): Promise<FirstRoundTrip> {
  const settled = <T>(promise: Promise<T>): Promise<T> => {
    promise.catch(() => undefined);
    return promise;
  };
  // Where the intent's audit stream ends, read beside the rest (the claim's record needs it).
  if (known) deps.audit.prepare?.(auditStream(intent.symbol));
  const leasing = known ? deps.locks.acquire(`symbol:${intent.symbol}`, `${deps.settings.owner}:${randomUUID()}`, deps.settings.lockLeaseMs, now) : Promise.resolve(null);
  const pause = settled(deps.control.getPause());
  const book = settled(deps.accounts.get(deps.settings.quoteCurrency));
  const limits = intent.side === 'buy' ? settled(deps.entryLimits()) : undefined;
  // A sell is capped at the position held, read under the lease.
  const heldBook = (): Promise<AccountBook | null> => (intent.side === 'sell' ? leasing.then(() => deps.accounts.get(deps.settings.quoteCurrency)) : book);
  const sizing = known && now.getTime() < deadline.getTime() ? settled(sizeOrder(deps, intent, heldBook)) : null;
  const [order, lease] = await Promise.allSettled([deps.orders.get(orderId), leasing]);
  // Everything started above settles before this returns or throws: no request outlives the run.
  await Promise.allSettled([pause, book, ...(limits ? [limits] : []), ...(sizing ? [sizing] : [])]);
  if (order.status === 'rejected') {
    if (lease.status === 'fulfilled' && lease.value) await deps.locks.release(lease.value);
    throw order.reason;
  }
  const existing = order.value;
  if (existing) {
    try {
      refuseChangedContent(existing, intent);
    } catch (error) {
      if (lease.status === 'fulfilled' && lease.value) await deps.locks.release(lease.value);
      throw error;
    }
  }
  if (lease.status === 'rejected') {
    // A finished intent is answered whoever holds the lease; anything else needs it.
    if (existing && pastSubmission(existing)) return { existing, lease: null, pause, book, ...(limits ? { limits } : {}), sizing };
    throw lease.reason;
  }
  return { existing, lease: lease.value, pause, book, ...(limits ? { limits } : {}), sizing };
}

