/**
 * The reconciler's sweep of stale reservations (EXE-7): budget held past its bound by an order
 * that is over or missing goes back to available.
 */
import { release, staleReservations } from '../domain/account.js';
import { dec } from '../domain/money.js';
import { isTerminal } from '../domain/order.js';
import { auditStream } from './order-commit.js';
import type { ReconcileDeps } from './reconcile.js';

/**
 * Releases reservations past the bound whose order is over or missing. An entry that has booked
 * more than its ended order records is a late fill being committed (order-commit.ts): releasing
 * it would make the book forget that fill, so it stays until the order catches up.
 */
export async function releaseStaleReservations(deps: ReconcileDeps): Promise<number> {
  const now = deps.clock.now();
  const book = await deps.accounts.get(deps.settings.quoteCurrency);
  if (!book) return 0;
  let released = 0;
  for (const orderId of staleReservations(book, now, deps.settings.reservationMaxAgeMs)) {
    const order = await deps.orders.get(orderId);
    if (order && !isTerminal(order.state)) continue;
    let changed = false;
    await deps.accounts.update(deps.settings.quoteCurrency, (b) => {
      const entry = b.orders[orderId];
      if (order && entry && dec(entry.filled).gt(dec(order.filled))) return null;
      const next = release(b, orderId, now);
      changed = next !== null;
      return next;
    });
    // Another pass released it first (or a late fill holds it): nothing moved, nothing to audit.
    if (!changed) continue;
    await deps.audit.append(auditStream(book.orders[orderId]?.symbol ?? 'unknown'), { type: 'budget.released', data: { orderId, reason: 'stale reservation without a live order' } }, now);
    released += 1;
  }
  return released;
}
