/**
 * Reconciliation with the exchange (REC-1, REC-2, REC-5, EXE-7 stale reservations).
 *
 * Primary course:
 * 1. Take the global reconciler lease: one run at a time.
 * 2. Page through non-terminal orders from the stored cursor, each under its symbol lease.
 * 3. For each order settled long enough (an executor may still be working on a fresh one):
 *    look it up by client order id. Found: book fills and state. "Not found": count it; declare
 *    it lost (FAILED, budget released) only after repeated not-found answers over the grace
 *    period. A network error propagates: it is never read as "not found" (REC-2).
 * 4. Stop before the deadline, store the cursor; the next run resumes from it (REC-5).
 * 5. Release reservations older than the bound that no live order backs.
 * 6. Store and return the report.
 */
import { randomUUID } from 'node:crypto';
import { release, staleReservations } from '../domain/account.js';
import { LockHeldError } from '../domain/errors.js';
import { isTerminal, type OrderRecord } from '../domain/order.js';
import type { AccountStore } from '../ports/account-store.js';
import type { AuditLog } from '../ports/audit-log.js';
import type { Clock } from '../ports/clock.js';
import type { ControlStore } from '../ports/control-store.js';
import type { Exchange } from '../ports/exchange.js';
import type { LockService } from '../ports/lock-service.js';
import type { OrderStore } from '../ports/order-store.js';
import { auditStream, closeWithoutExchange, syncFromExchange } from './order-sync.js';

export const RECONCILER_LOCK = 'reconciler';

export interface ReconcileDeps {
  readonly orders: OrderStore;
  readonly accounts: AccountStore;
  readonly locks: LockService;
  readonly exchange: Exchange;
  readonly audit: AuditLog;
  readonly control: ControlStore;
  readonly clock: Clock;
  readonly settings: {
    readonly quoteCurrency: string;
    readonly owner: string;
    readonly lockLeaseMs: number;
    /** Orders younger than this are left to the executor that may still be working on them. */
    readonly settleMs: number;
    /** "Not found" answers needed, and the time they must span, before an order is declared lost. */
    readonly lostAfterNotFound: number;
    readonly lostGraceMs: number;
    readonly reservationMaxAgeMs: number;
    readonly pageSize: number;
  };
}

export interface ReconcileInput {
  /** Wall-clock time by which the run must stop (function timeout minus a margin). */
  readonly deadline: Date;
  /** Restrict to one symbol (ad hoc replay). */
  readonly symbol?: string;
}

export interface ReconcileReport {
  readonly status: 'completed' | 'partial' | 'skipped';
  readonly at: string;
  readonly checked: number;
  readonly updated: number;
  readonly filled: number;
  readonly notFound: number;
  readonly lost: number;
  readonly expired: number;
  readonly skippedBusy: number;
  readonly releasedReservations: number;
  readonly cursor?: string;
}

export async function reconcile(deps: ReconcileDeps, input: ReconcileInput): Promise<ReconcileReport> {
  const { settings } = deps;
  const start = deps.clock.now();
  const counts = { checked: 0, updated: 0, filled: 0, notFound: 0, lost: 0, expired: 0, skippedBusy: 0, releasedReservations: 0 };
  let runLease;
  try {
    runLease = await deps.locks.acquire(RECONCILER_LOCK, `${settings.owner}:${randomUUID()}`, settings.lockLeaseMs, start);
  } catch (error) {
    if (error instanceof LockHeldError) return { status: 'skipped', at: start.toISOString(), ...counts };
    throw error;
  }
  try {
    const previous = await deps.control.getReport('reconciliation');
    let cursor = typeof previous?.cursor === 'string' && !input.symbol ? previous.cursor : undefined;
    let partial = false;
    do {
      if (deps.clock.now() >= input.deadline) {
        partial = true;
        break;
      }
      const page = await deps.orders.listOpen(settings.pageSize, cursor);
      for (const order of page.items) {
        if (input.symbol && order.symbol !== input.symbol) continue;
        if (deps.clock.now() >= input.deadline) {
          partial = true;
          break;
        }
        counts.checked += 1;
        const outcome = await reconcileOrder(deps, order);
        if (outcome !== 'unchanged') counts.updated += 1;
        if (outcome === 'filled') counts.filled += 1;
        if (outcome === 'not-found') counts.notFound += 1;
        if (outcome === 'lost') counts.lost += 1;
        if (outcome === 'expired') counts.expired += 1;
        if (outcome === 'busy') counts.skippedBusy += 1;
      }
      if (partial) break;
      cursor = page.cursor;
    } while (cursor);

    if (!partial) counts.releasedReservations = await releaseStale(deps);
    const report: ReconcileReport = {
      status: partial ? 'partial' : 'completed',
      at: deps.clock.now().toISOString(),
      ...counts,
      ...(partial && cursor ? { cursor } : {}),
    };
    await deps.control.putReport('reconciliation', { ...report });
    return report;
  } finally {
    await deps.locks.release(runLease);
  }
}

type OrderOutcome = 'unchanged' | 'updated' | 'filled' | 'not-found' | 'lost' | 'expired' | 'busy';

async function reconcileOrder(deps: ReconcileDeps, order: OrderRecord): Promise<OrderOutcome> {
  const now = deps.clock.now();
  if (now.getTime() - Date.parse(order.updatedAt) < deps.settings.settleMs) return 'unchanged';
  let lease;
  try {
    lease = await deps.locks.acquire(`symbol:${order.symbol}`, `${deps.settings.owner}:${randomUUID()}`, deps.settings.lockLeaseMs, now);
  } catch (error) {
    if (error instanceof LockHeldError) return 'busy';
    throw error;
  }
  try {
    const current = await deps.orders.get(order.id);
    if (!current || isTerminal(current.state)) return 'unchanged';
    const sync = { orders: deps.orders, accounts: deps.accounts, audit: deps.audit, quoteCurrency: deps.settings.quoteCurrency };
    if (current.state === 'NEW') {
      // Claimed but never sent: its intent is redelivered or dead-lettered; once the order is
      // older than the grace period nothing will send it, so its budget goes back.
      if (now.getTime() - Date.parse(current.createdAt) < deps.settings.lostGraceMs) return 'unchanged';
      await closeWithoutExchange(sync, current, 'EXPIRED', 'claimed but never sent', lease.token, now);
      return 'expired';
    }
    // A network error here propagates: never treated as "not found" (REC-2).
    const remote = await deps.exchange.fetchOrderByClientId(current.symbol, current.id);
    if (remote) {
      const next = await syncFromExchange(sync, current, remote, lease.token, now);
      if (next === current) return 'unchanged';
      return next.filled !== current.filled ? 'filled' : 'updated';
    }
    const count = current.notFoundCount + 1;
    const first = current.firstNotFoundAt ?? now.toISOString();
    if (count >= deps.settings.lostAfterNotFound && now.getTime() - Date.parse(first) >= deps.settings.lostGraceMs) {
      await closeWithoutExchange(sync, current, 'FAILED', `not found on the exchange ${count} times since ${first}`, lease.token, now, { notFoundCount: count });
      return 'lost';
    }
    const target = current.state === 'SUBMITTING' ? 'UNKNOWN' : current.state;
    await deps.orders.transition(current, target, { notFoundCount: count, firstNotFoundAt: first }, lease.token, now);
    await deps.audit.append(auditStream(current.symbol), { type: 'order.not-found', correlationId: current.correlationId, data: { orderId: current.id, count } }, now);
    return 'not-found';
  } finally {
    await deps.locks.release(lease);
  }
}

/** Releases reservations past the bound whose order is over or missing (EXE-7). */
async function releaseStale(deps: ReconcileDeps): Promise<number> {
  const now = deps.clock.now();
  const book = await deps.accounts.get(deps.settings.quoteCurrency);
  if (!book) return 0;
  let released = 0;
  for (const orderId of staleReservations(book, now, deps.settings.reservationMaxAgeMs)) {
    const order = await deps.orders.get(orderId);
    if (order && !isTerminal(order.state)) continue;
    await deps.accounts.update(deps.settings.quoteCurrency, (b) => release(b, orderId, now));
    await deps.audit.append(auditStream(book.orders[orderId]?.symbol ?? 'unknown'), { type: 'budget.released', data: { orderId, reason: 'stale reservation without a live order' } }, now);
    released += 1;
  }
  return released;
}
