/**
 * One order brought in line with the exchange, under its symbol lease (REC-1, REC-2, EXE-10).
 * The decision is pure (domain/reconciliation.ts); this module only reads, looks up and commits.
 */
import { randomUUID } from 'node:crypto';
import { LockHeldError } from '../domain/errors.js';
import { decideReconciliation, type ReconciliationOutcome, type ReconciliationSettings } from '../domain/reconciliation.js';
import { isTerminal, type OrderRecord } from '../domain/order.js';
import { commitOrderEvents, exchangeFeePrices, type OrderCommitDeps } from './order-commit.js';
import type { ReconcileDeps } from './reconcile.js';

export type OrderOutcome = ReconciliationOutcome | 'busy';

export function commitDeps(deps: ReconcileDeps): OrderCommitDeps {
  return { orders: deps.orders, accounts: deps.accounts, audit: deps.audit, quoteCurrency: deps.settings.quoteCurrency, feePrices: exchangeFeePrices(deps.exchange, deps.settings.quoteCurrency) };
}

/**
 * Brings one order in line with the exchange.
 * - `pass`: the scheduled pass; orders changed within the settle time are left alone, and a
 *   "not found" answer counts towards declaring the order lost.
 * - `confirm`: settling in-flight orders before balances are measured again; the lease alone
 *   proves no executor is on the order, and a "not found" answer changes nothing.
 */
export async function reconcileOrder(deps: ReconcileDeps, order: OrderRecord, mode: 'pass' | 'confirm'): Promise<OrderOutcome> {
  const now = deps.clock.now();
  const settings: ReconciliationSettings = { mode, settleMs: deps.settings.settleMs, lostAfterNotFound: deps.settings.lostAfterNotFound, lostGraceMs: deps.settings.lostGraceMs };
  const first = decideReconciliation(order, undefined, now, settings);
  if (first.kind === 'leave') return first.outcome;
  let lease;
  try {
    lease = await deps.locks.acquire(`symbol:${order.symbol}`, `${deps.settings.owner}:${randomUUID()}`, deps.settings.lockLeaseMs, now);
  } catch (error) {
    if (error instanceof LockHeldError) return 'busy';
    throw error;
  }
  try {
    const current = await deps.orders.get(order.id);
    if (!current) return 'unchanged';
    let action = decideReconciliation(current, undefined, now, settings);
    if (action.kind === 'lookup') {
      // A network error here propagates: never treated as "not found" (REC-2).
      const remote = await deps.exchange.fetchOrderByClientId(current.symbol, current.id);
      action = decideReconciliation(current, remote ? { found: remote } : { notFound: true }, now, settings);
    }
    if (action.kind === 'leave') return action.outcome;
    if (action.kind === 'lookup') throw new Error(`reconciliation of ${current.id} asked for a second lookup`);
    await commitOrderEvents(commitDeps(deps), current, action.events, lease.token, action.decision ? { decided: action.decision } : {});
    return action.outcome;
  } finally {
    await deps.locks.release(lease);
  }
}

/** Settles the orders that still hold budget, before balances are measured again. */
export async function settleInFlight(deps: ReconcileDeps, orderIds: readonly string[]): Promise<boolean> {
  let settled = true;
  for (const id of orderIds) {
    const order = await deps.orders.get(id);
    if (!order || isTerminal(order.state)) continue;
    if ((await reconcileOrder(deps, order, 'confirm')) === 'busy') settled = false;
  }
  return settled;
}
