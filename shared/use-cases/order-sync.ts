/**
 * Brings a local order in line with what the exchange reports. Shared by the executor (right
 * after sending) and the reconciler (later). Order of writes matters for crash safety:
 * 1. the book first (fill booked, and the reservation released if the order is over), one
 *    conditional write that is idempotent because fills are cumulative;
 * 2. then the order's state. A crash between the two leaves the order non-terminal, so the next
 *    pass repeats step 1 (a no-op) and completes step 2. Never the other way round: a terminal
 *    order is never looked at again, so its fill would be lost.
 */
import { applyFill, release } from '../domain/account.js';
import { isTerminal, stateFromExchange, type OrderRecord, type OrderState } from '../domain/order.js';
import { dec } from '../domain/money.js';
import type { AccountStore } from '../ports/account-store.js';
import type { AuditLog } from '../ports/audit-log.js';
import type { ExchangeOrder } from '../ports/exchange.js';
import type { OrderPatch, OrderStore } from '../ports/order-store.js';

export interface OrderSyncDeps {
  readonly orders: OrderStore;
  readonly accounts: AccountStore;
  readonly audit: AuditLog;
  readonly quoteCurrency: string;
}

export function auditStream(symbol: string): string {
  return `symbol:${symbol}`;
}

/** Books the exchange's view of `order` and moves it to the state that view implies. */
export async function syncFromExchange(
  deps: OrderSyncDeps,
  order: OrderRecord,
  remote: ExchangeOrder,
  fence: number,
  at: Date,
): Promise<OrderRecord> {
  const reported = stateFromExchange(remote.status, remote.filled);
  // A cancel in flight stays CANCEL_REQUESTED until the exchange reports the order over.
  const target: OrderState = order.state === 'CANCEL_REQUESTED' && !isTerminal(reported) ? 'CANCEL_REQUESTED' : reported;
  const newFill = dec(remote.filled).gt(order.filled);
  await settleBook(deps, order, { filled: remote.filled, cost: remote.cost, fee: remote.fee }, isTerminal(target), at);
  if (target === order.state && !newFill && order.exchangeOrderId === remote.id) return order;
  const next = await deps.orders.transition(
    order,
    target,
    { exchangeOrderId: remote.id, filled: remote.filled, cost: remote.cost, fee: remote.fee, notFoundCount: 0 },
    fence,
    at,
  );
  await deps.audit.append(
    auditStream(order.symbol),
    {
      type: newFill ? 'order.filled' : 'order.state',
      correlationId: order.correlationId,
      data: { orderId: order.id, from: order.state, to: target, filled: remote.filled, cost: remote.cost, fee: remote.fee, exchangeOrderId: remote.id },
    },
    at,
  );
  return next;
}

/** Ends an order without a fill from the exchange (rejected, expired, lost): releases its budget, then records the state. */
export async function closeWithoutExchange(
  deps: OrderSyncDeps,
  order: OrderRecord,
  to: Extract<OrderState, 'REJECTED' | 'EXPIRED' | 'FAILED' | 'CANCELED'>,
  reason: string,
  fence: number,
  at: Date,
  patch: OrderPatch = {},
): Promise<OrderRecord> {
  await settleBook(deps, order, { filled: order.filled, cost: order.cost, fee: order.fee }, true, at);
  const next = await deps.orders.transition(order, to, { ...patch, reason }, fence, at);
  await deps.audit.append(
    auditStream(order.symbol),
    { type: `order.${to.toLowerCase()}`, correlationId: order.correlationId, data: { orderId: order.id, from: order.state, reason } },
    at,
  );
  await deps.audit.append(
    auditStream(order.symbol),
    { type: 'budget.released', correlationId: order.correlationId, data: { orderId: order.id } },
    at,
  );
  return next;
}

async function settleBook(
  deps: OrderSyncDeps,
  order: OrderRecord,
  fill: { filled: string; cost: string; fee: string },
  terminal: boolean,
  at: Date,
): Promise<void> {
  await deps.accounts.update(deps.quoteCurrency, (book) => {
    const filled = applyFill(book, { orderId: order.id, symbol: order.symbol, side: order.side, ...fill }, at) ?? book;
    const done = terminal ? (release(filled, order.id, at) ?? filled) : filled;
    return done === book ? null : done;
  });
}
