/**
 * Brings a local order in line with what the exchange reports. Shared by the executor (right
 * after sending) and the reconciler (later). The order of writes is what makes a crash between
 * any two of them harmless (TST-2, test/integration/crash-recovery.test.ts):
 * 1. the fill into the book: one conditional write, idempotent because fills are cumulative
 *    and the order's book entry remembers what was booked;
 * 2. the order's state, audited just before it (a repeated pass may audit twice, never zero
 *    times: execute-intent.ts, AUDIT_ORDER);
 * 3. when the order is over, the release of its unspent reservation (removes its book entry).
 * A crash between 1 and 2 leaves the order non-terminal: the next pass repeats 1 (a no-op) and
 * does 2. A crash between 2 and 3 leaves a reservation without a live order: the next delivery
 * of the intent releases it (execute-intent, step 1), and so does the reconciler's bounded-age
 * sweep (EXE-7). Never release before the state is terminal: a released entry forgets what was
 * booked, so a repeated step 1 would book the whole fill a second time.
 */
import { applyFill, feeAssetsOf, release } from '../domain/account.js';
import type { FeeAmount } from '../domain/fees.js';
import { isTerminal, stateFromExchange, type OrderRecord, type OrderState } from '../domain/order.js';
import { UNSIGNED_DECIMAL_PATTERN, dec, type DecimalString } from '../domain/money.js';
import type { AccountStore } from '../ports/account-store.js';
import type { AuditLog } from '../ports/audit-log.js';
import type { Exchange, ExchangeOrder } from '../ports/exchange.js';
import type { OrderPatch, OrderStore } from '../ports/order-store.js';

export interface OrderSyncDeps {
  readonly orders: OrderStore;
  readonly accounts: AccountStore;
  readonly audit: AuditLog;
  readonly quoteCurrency: string;
  /**
   * Quote prices of third-asset fee currencies (BNB) at the time a fill is booked: the fee's
   * value for PnL (EXE-12). Without it such a fee is valued at the holding's average cost.
   */
  readonly feePrices?: (assets: readonly string[]) => Promise<Readonly<Record<string, DecimalString>>>;
}

/** Fee-asset prices from the exchange's tickers (`<ASSET>/<QUOTE>`, last price); an asset without a ticker is left out. */
export function exchangeFeePrices(exchange: Pick<Exchange, 'fetchTickers'>, quoteCurrency: string): NonNullable<OrderSyncDeps['feePrices']> {
  return async (assets) => {
    const tickers = await exchange.fetchTickers(assets.map((asset) => `${asset}/${quoteCurrency}`));
    const prices: Record<string, DecimalString> = {};
    for (const ticker of tickers) {
      if (UNSIGNED_DECIMAL_PATTERN.test(ticker.last) && dec(ticker.last).gt(0)) prices[ticker.symbol.slice(0, ticker.symbol.indexOf('/'))] = ticker.last;
    }
    return prices;
  };
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
  await bookFill(deps, order, { filled: remote.filled, cost: remote.cost, fees: remote.fees }, at);
  let next = order;
  if (target !== order.state || newFill || order.exchangeOrderId !== remote.id) {
    // Audited before the state write that applies it (execute-intent, AUDIT_ORDER).
    await deps.audit.append(
      auditStream(order.symbol),
      {
        type: newFill ? 'order.filled' : 'order.state',
        correlationId: order.correlationId,
        data: { orderId: order.id, from: order.state, to: target, filled: remote.filled, cost: remote.cost, fees: remote.fees, exchangeOrderId: remote.id },
      },
      at,
    );
    next = await deps.orders.transition(
      order,
      target,
      { exchangeOrderId: remote.id, filled: remote.filled, cost: remote.cost, fees: remote.fees, notFoundCount: 0 },
      fence,
      at,
    );
  }
  // The surplus release is part of the fill's booking; the `order.filled` record above carries
  // the cost and fee that determine it.
  if (isTerminal(target)) await releaseBudget(deps, next, at);
  return next;
}

/** Ends an order without a fill from the exchange (rejected, expired, lost): records the state, then releases its budget. */
export async function closeWithoutExchange(
  deps: OrderSyncDeps,
  order: OrderRecord,
  to: Extract<OrderState, 'REJECTED' | 'EXPIRED' | 'FAILED' | 'CANCELED'>,
  reason: string,
  fence: number,
  at: Date,
  patch: OrderPatch = {},
): Promise<OrderRecord> {
  // A fill recorded on the order but not yet in the book is booked before the order closes.
  await bookFill(deps, order, { filled: order.filled, cost: order.cost, fees: order.fees }, at);
  await deps.audit.append(
    auditStream(order.symbol),
    { type: `order.${to.toLowerCase()}`, correlationId: order.correlationId, data: { orderId: order.id, from: order.state, reason } },
    at,
  );
  const next = await deps.orders.transition(order, to, { ...patch, reason }, fence, at);
  const released = await releaseBudget(deps, next, at);
  await deps.audit.append(
    auditStream(order.symbol),
    { type: 'budget.released', correlationId: order.correlationId, data: { orderId: order.id, amount: released.amount, currency: deps.quoteCurrency } },
    at,
  );
  return next;
}

/**
 * Releases what is left of a terminal order's reservation. Idempotent: an order without a book
 * entry changes nothing. Returns whether the book changed and the quote amount given back.
 */
export async function releaseBudget(deps: OrderSyncDeps, order: OrderRecord, at: Date): Promise<{ changed: boolean; amount: string }> {
  let amount = '0';
  let changed = false;
  await deps.accounts.update(deps.quoteCurrency, (book) => {
    amount = book.orders[order.id]?.remaining ?? '0';
    const next = release(book, order.id, at);
    changed = next !== null;
    return next;
  });
  return { changed, amount };
}

async function bookFill(
  deps: OrderSyncDeps,
  order: OrderRecord,
  fill: { filled: string; cost: string; fees: readonly FeeAmount[] },
  at: Date,
): Promise<void> {
  if (!dec(fill.filled).gt(0)) return;
  const feeAssets = feeAssetsOf(fill.fees, order.symbol, deps.quoteCurrency);
  const feePrices = feeAssets.length > 0 && deps.feePrices ? await deps.feePrices(feeAssets) : {};
  await deps.accounts.update(deps.quoteCurrency, (book) => applyFill(book, { orderId: order.id, symbol: order.symbol, side: order.side, ...fill, feePrices }, at));
}
