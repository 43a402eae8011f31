/**
 * The budget ledger of one quote currency (EXE-7), with the positions it pays for (EXE-8).
 * Pure functions over an immutable book; the store writes each result with one conditional
 * write on the book's version, so a reservation, a fill and its position change land together
 * or not at all.
 *
 * Invariants (checked by `checkBook`, property-tested):
 * - available + reserved + committed = total; none of them negative;
 * - reserved = the sum of the unspent remainder of every order's reservation;
 * - committed = the sum of the positions' cost bases (exactly: see position.ts);
 * - applying the same cumulative fill twice changes nothing (fills are cumulative, not deltas),
 *   as long as the order's entry is in the book. `release` removes the entry, so a caller must
 *   book an order's last fill BEFORE it releases the order, and never after (order-commit does:
 *   fill, then terminal state, then release).
 * Property-tested in test/unit/ledger-invariants.test.ts.
 */
import { InsufficientBudgetError } from './errors.js';
import { Decimal, dec, str, type DecimalString } from './money.js';
import { applyTrade, flatPosition, type Position } from './position.js';
import type { Side } from './order.js';

/** Budget held for one order and how much of its fill has been booked. */
export interface OrderBudget {
  readonly symbol: string;
  readonly side: Side;
  /** Quote reserved at the start. */
  readonly reserved: DecimalString;
  /** Part of the reservation not yet spent by fills. */
  readonly remaining: DecimalString;
  /** Cumulative fill already booked: base filled, quote cost, quote fee. */
  readonly filled: DecimalString;
  readonly cost: DecimalString;
  readonly fee: DecimalString;
  /** When the reservation was made (ISO), for releasing stale ones. */
  readonly at: string;
}

export interface AccountBook {
  readonly currency: string;
  readonly version: number;
  readonly total: DecimalString;
  readonly available: DecimalString;
  readonly reserved: DecimalString;
  /** Cost basis of held positions. */
  readonly committed: DecimalString;
  readonly orders: Readonly<Record<string, OrderBudget>>;
  readonly positions: Readonly<Record<string, Position>>;
  readonly updatedAt: string;
}

export function openBook(currency: string, total: DecimalString, at: Date): AccountBook {
  return {
    currency,
    version: 0,
    total,
    available: total,
    reserved: '0',
    committed: '0',
    orders: {},
    positions: {},
    updatedAt: at.toISOString(),
  };
}

export interface ReserveRequest {
  readonly orderId: string;
  readonly symbol: string;
  readonly side: Side;
  /** Quote to hold: for a buy, the most it may cost including fees; 0 for a sell. */
  readonly amount: DecimalString;
}

/**
 * Reserves budget for an order. Idempotent: an order already in the book returns null.
 * @throws InsufficientBudgetError when available < amount.
 */
export function reserve(book: AccountBook, request: ReserveRequest, at: Date): AccountBook | null {
  if (book.orders[request.orderId]) return null;
  const amount = dec(request.amount);
  if (amount.isNegative()) throw new InsufficientBudgetError('a reservation cannot be negative');
  if (dec(book.available).lt(amount)) {
    throw new InsufficientBudgetError(`available ${book.available} ${book.currency} < ${request.amount}`, {
      details: { available: book.available, requested: request.amount },
    });
  }
  return {
    ...book,
    available: str(dec(book.available).minus(amount)),
    reserved: str(dec(book.reserved).plus(amount)),
    orders: {
      ...book.orders,
      [request.orderId]: {
        symbol: request.symbol,
        side: request.side,
        reserved: request.amount,
        remaining: request.amount,
        filled: '0',
        cost: '0',
        fee: '0',
        at: at.toISOString(),
      },
    },
    updatedAt: at.toISOString(),
  };
}

/** A cumulative fill as the exchange reports it. */
export interface CumulativeFill {
  readonly orderId: string;
  readonly symbol: string;
  readonly side: Side;
  readonly filled: DecimalString;
  readonly cost: DecimalString;
  readonly fee: DecimalString;
  /**
   * What was booked for the order before its entry left the book (a late fill after the order
   * ended, EXE-10): counted from here when the book has no entry for the order. @default zero
   */
  readonly bookedBefore?: { readonly filled: DecimalString; readonly cost: DecimalString; readonly fee: DecimalString };
}

/**
 * Books the part of a cumulative fill not yet booked. Buys spend their reservation first, then
 * available (a fill that happened must be recorded even if it cost more than reserved); sells
 * return proceeds to available and book realized PnL. Returns null when nothing is new.
 */
export function applyFill(book: AccountBook, fill: CumulativeFill, at: Date): AccountBook | null {
  const entry: OrderBudget = book.orders[fill.orderId] ?? {
    symbol: fill.symbol,
    side: fill.side,
    reserved: '0',
    remaining: '0',
    filled: fill.bookedBefore?.filled ?? '0',
    cost: fill.bookedBefore?.cost ?? '0',
    fee: fill.bookedBefore?.fee ?? '0',
    at: at.toISOString(),
  };
  const dFilled = dec(fill.filled).minus(entry.filled);
  const dCost = dec(fill.cost).minus(entry.cost);
  const dFee = dec(fill.fee).minus(entry.fee);
  if (dFilled.lte(0)) return null;

  const position = book.positions[fill.symbol] ?? flatPosition(fill.symbol);
  // The position's basis grows by exactly what the cash side pays (cost + fee, a negative fee
  // being a rebate), so `committed` stays the sum of the positions' bases.
  const result = applyTrade(position, { side: fill.side, qty: str(dFilled), cost: str(dCost), fee: str(dFee) });
  let available = dec(book.available);
  let reserved = dec(book.reserved);
  let committed = dec(book.committed);
  let total = dec(book.total);
  let remaining = dec(entry.remaining);

  if (fill.side === 'buy') {
    const spend = dCost.plus(dFee);
    const fromReserved = Decimal.min(spend, remaining);
    remaining = remaining.minus(fromReserved);
    reserved = reserved.minus(fromReserved);
    available = available.minus(spend.minus(fromReserved));
    committed = committed.plus(spend);
  } else {
    const proceeds = dCost.minus(dFee);
    const basis = dec(result.closedBasis);
    committed = committed.minus(basis);
    available = available.plus(proceeds);
    total = total.plus(proceeds).minus(basis);
  }

  return {
    ...book,
    total: str(total),
    available: str(available),
    reserved: str(reserved),
    committed: str(committed),
    orders: {
      ...book.orders,
      [fill.orderId]: { ...entry, remaining: str(remaining), filled: fill.filled, cost: fill.cost, fee: fill.fee },
    },
    positions: { ...book.positions, [fill.symbol]: result.position },
    updatedAt: at.toISOString(),
  };
}

/**
 * Ends an order's budget: the unspent remainder goes back to available and the entry leaves
 * the book. Idempotent: returns null when the order has no entry.
 */
export function release(book: AccountBook, orderId: string, at: Date): AccountBook | null {
  const entry = book.orders[orderId];
  if (!entry) return null;
  const { [orderId]: _released, ...orders } = book.orders;
  return {
    ...book,
    available: str(dec(book.available).plus(entry.remaining)),
    reserved: str(dec(book.reserved).minus(entry.remaining)),
    orders,
    updatedAt: at.toISOString(),
  };
}

/** Orders whose reservation is older than `maxAgeMs` (candidates for release when no live order backs them). */
export function staleReservations(book: AccountBook, now: Date, maxAgeMs: number): string[] {
  return Object.entries(book.orders)
    .filter(([, e]) => now.getTime() - Date.parse(e.at) > maxAgeMs)
    .map(([id]) => id);
}

/** Mark-to-market equity: free and reserved cash plus positions at the given prices. */
export function equity(book: AccountBook, prices: Readonly<Record<string, DecimalString>>): DecimalString {
  let value = dec(book.available).plus(book.reserved);
  for (const p of Object.values(book.positions)) {
    const price = prices[p.symbol];
    value = value.plus(dec(p.qty).times(price ?? p.avgPrice));
  }
  return str(value);
}

/** Returns every broken invariant (empty when the book is sound). */
export function checkBook(book: AccountBook): string[] {
  const problems: string[] = [];
  const sum = dec(book.available).plus(book.reserved).plus(book.committed);
  if (!sum.eq(book.total)) problems.push(`available + reserved + committed = ${str(sum)} != total ${book.total}`);
  for (const field of ['available', 'reserved', 'committed', 'total'] as const) {
    if (dec(book[field]).isNegative() && !dec(book[field]).isZero()) problems.push(`${field} is negative: ${book[field]}`);
  }
  const remaining = Object.values(book.orders).reduce((acc, e) => acc.plus(e.remaining), new Decimal(0));
  if (!remaining.eq(book.reserved)) problems.push(`reserved ${book.reserved} != sum of remaining ${str(remaining)}`);
  return problems;
}
