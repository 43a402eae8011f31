/**
 * Makes an order aggregate's decision durable: the one path by which the executor and the
 * reconciler change an order and book its money. The aggregate (domain/order-aggregate.ts)
 * decides; this module writes, in an order that makes a crash between any two writes harmless
 * (TST-2, test/integration/crash-recovery.test.ts):
 * 1. the fill into the book (account.applyFill): one conditional write, idempotent because
 *    fills are cumulative and the order's book entry remembers what was booked;
 * 2. the audit records of the decision, as one batch append (one write), then the order's new
 *    version (a repeated pass may audit twice, never zero times: execute-intent.ts, AUDIT_ORDER);
 * 3. when the order is over, the release of its unspent reservation (removes its book entry).
 * A crash between 1 and 2 leaves the order as it was: the next pass repeats 1 (a no-op) and
 * does 2. A crash between 2 and 3 leaves a reservation without a live order: the next delivery
 * of the intent releases it (execute-intent, step 1), and so does the reconciler's bounded-age
 * sweep (EXE-7). Never release before the state is terminal: a released entry forgets what was
 * booked (a late fill is then counted from the order's own record: order-aggregate.ts).
 */
import { applyFill, feeAssetsOf, release, type AccountBook } from '../domain/account.js';
import { applyOrderEvents, type FillToBook, type OrderDecision, type OrderEvent } from '../domain/order-aggregate.js';
import type { OrderRecord } from '../domain/order.js';
import { UNSIGNED_DECIMAL_PATTERN, dec, isPositive, type DecimalString } from '../domain/money.js';
import type { AccountStore } from '../ports/account-store.js';
import type { AuditEntry, AuditLog } from '../ports/audit-log.js';
import type { Exchange } from '../ports/exchange.js';
import type { OrderStore } from '../ports/order-store.js';

export interface OrderCommitDeps {
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

/** Fee-asset prices from the exchange's tickers (`<ASSET>/<QUOTE>`, last price); an asset without a usable ticker is left out. */
export function exchangeFeePrices(exchange: Pick<Exchange, 'fetchTickers'>, quoteCurrency: string): NonNullable<OrderCommitDeps['feePrices']> {
  return async (assets) => {
    const tickers = await exchange.fetchTickers(assets.map((asset) => `${asset}/${quoteCurrency}`));
    const prices: Record<string, DecimalString> = {};
    for (const ticker of tickers) {
      if (UNSIGNED_DECIMAL_PATTERN.test(ticker.last) && isPositive(ticker.last)) prices[ticker.symbol.slice(0, ticker.symbol.indexOf('/'))] = ticker.last;
    }
    return prices;
  };
}

export function auditStream(symbol: string): string {
  return `symbol:${symbol}`;
}

/**
 * Applies `events` to `order` (as last read) and writes the result under `fence`. Returns the
 * order as stored, or `order` itself when the events brought nothing new.
 * @throws IllegalTransitionError (nothing written), ConcurrentModificationError, LockLostError
 */
export async function commitOrderEvents(
  deps: OrderCommitDeps,
  order: OrderRecord,
  events: OrderEvent | readonly OrderEvent[],
  fence: number,
  /**
   * `book`: the book as this run last wrote it, if any: only the starting point of a conditional
   * write (a stale one is read again). `precededBy`: records decided at the same moment as these
   * events (the executor's `order.sent` beside the exchange's answer), written first in the same
   * audit append, and written even when the events bring nothing new. `decided`: the aggregate's
   * decision of these events on this `order`, where the caller already made it (it is pure, so
   * it is not made twice).
   */
  options: { book?: AccountBook; precededBy?: readonly AuditEntry[]; decided?: OrderDecision } = {},
): Promise<OrderRecord> {
  const list = Array.isArray(events) ? (events as readonly OrderEvent[]) : [events as OrderEvent];
  const last = list.at(-1);
  if (!last) return order;
  const at = last.at;
  const decision = options.decided ?? applyOrderEvents(order, list);
  const booked = decision.budget.book ? await bookFill(deps, order, decision.budget.book, at, options.book) : undefined;
  let next = order;
  // Each record names the order's side, so a record (and the event announcing it) reads alone.
  // The decision's records are one batch append (one write, PERF-2), before the state they apply.
  const records = [
    ...(options.precededBy ?? []),
    ...(decision.changed ? decision.audit.map((entry) => ({ type: entry.type, correlationId: order.correlationId, data: { side: order.side, ...entry.data } })) : []),
  ];
  if (records.length > 0) await deps.audit.append(auditStream(order.symbol), records, at);
  if (decision.changed) next = await deps.orders.save(decision.next, { version: order.version, fence });
  if (decision.budget.release !== 'none') {
    // Starts from the book the fill just wrote (still conditional on its version): one read less.
    const startFrom = booked ?? options.book;
    const released = await releaseBudget(deps, next, at, startFrom ? { book: startFrom } : {});
    if (decision.budget.release === 'audited') {
      await deps.audit.append(
        auditStream(order.symbol),
        { type: 'budget.released', correlationId: order.correlationId, data: { orderId: order.id, amount: released.amount, currency: deps.quoteCurrency } },
        at,
      );
    }
  }
  return next;
}

/**
 * Releases what is left of a terminal order's reservation. Idempotent: an order without a book
 * entry changes nothing. Returns whether the book changed and the quote amount given back.
 * `unlessBookAhead`: for callers without the symbol lease (a redelivered intent): an entry that
 * booked more than the order records is a late fill being committed under the lease, and
 * releasing it would make the book forget that fill; it is left to that commit.
 */
export async function releaseBudget(
  deps: OrderCommitDeps,
  order: OrderRecord,
  at: Date,
  options: { unlessBookAhead?: boolean; book?: AccountBook } = {},
): Promise<{ changed: boolean; amount: string }> {
  let amount = '0';
  let changed = false;
  await deps.accounts.update(deps.quoteCurrency, (book) => {
    const entry = book.orders[order.id];
    if (options.unlessBookAhead && entry && dec(entry.filled).gt(dec(order.filled))) return null;
    amount = entry?.remaining ?? '0';
    const next = release(book, order.id, at);
    changed = next !== null;
    return next;
  }, options.book);
  return { changed, amount };
}

/** Books the fill; returns the book as written (or as read, when there was nothing to book). */
async function bookFill(deps: OrderCommitDeps, order: OrderRecord, fill: FillToBook, at: Date, known?: AccountBook): Promise<AccountBook | undefined> {
  if (!isPositive(fill.filled)) return undefined;
  const feeAssets = feeAssetsOf(fill.fees, order.symbol, deps.quoteCurrency);
  const feePrices = feeAssets.length > 0 && deps.feePrices ? await deps.feePrices(feeAssets) : {};
  return deps.accounts.update(deps.quoteCurrency, (book) => applyFill(book, { orderId: order.id, symbol: order.symbol, side: order.side, ...fill, feePrices }, at), known);
}
