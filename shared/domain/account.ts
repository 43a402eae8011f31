/**
 * The budget ledger of one quote currency (EXE-7), with the positions it pays for (EXE-8).
 * Pure functions over an immutable book; the store writes each result with one conditional
 * write on the book's version, so a reservation, a fill and its position change land together
 * or not at all.
 *
 * Invariants (checked by `checkBook`, property-tested):
 * - available + reserved + committed = total; none of them negative;
 * - reserved = the sum of the unspent remainder of every order's reservation;
 * - committed = the sum of the positions' cost bases (exactly: see position.ts) plus the cost
 *   bases of the fee-asset holdings;
 * - applying the same cumulative fill twice changes nothing (fills are cumulative, not deltas),
 *   as long as the order's entry is in the book. `release` removes the entry, so a caller must
 *   book an order's last fill BEFORE it releases the order, and never after (order-commit does:
 *   fill, then terminal state, then release).
 *
 * Fees per currency (EXE-12, fees.ts): a fee in the quote currency is cash; a fee in the base
 * coin lowers the quantity the position receives (a buy) or raises what leaves it (a sell); a fee
 * in a third asset (BNB) is taken from that asset's holding in this book, valued in quote at the
 * price it had when the fill was booked: the holding gives up those coins as if sold at that
 * price (realizing the difference to their cost basis on the holding) and the value is the
 * trade's fee. So the fee's value is part of the position's basis or of its realized PnL
 * whatever the currency, and total = opening + deposits + every realized PnL.
 * Property-tested in test/unit/ledger-invariants.test.ts.
 */
import { baseOf } from './drift.js';
import { InsufficientBudgetError, ValidationError } from './errors.js';
import { ASSET_PATTERN, feeDeltas, feeIn, feeOf, normalizeFees, type FeeAmount } from './fees.js';
import { DECIMAL_PATTERN, Decimal, add, dec, isZero, str, sub, type DecimalString } from './money.js';
import { LEDGER_SCALE, applyTrade, basisOf, flatPosition, type Position } from './position.js';
import type { Side } from './order.js';

/** Budget held for one order and how much of its fill has been booked. */
export interface OrderBudget {
  readonly symbol: string;
  readonly side: Side;
  /** Quote reserved at the start. */
  readonly reserved: DecimalString;
  /** Part of the reservation not yet spent by fills. */
  readonly remaining: DecimalString;
  /** Cumulative fill already booked: base filled, quote cost, fees per currency. */
  readonly filled: DecimalString;
  readonly cost: DecimalString;
  readonly fees: readonly FeeAmount[];
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
  /** Assets held to pay fees with (BNB), by asset; absent on books written before they existed. */
  readonly holdings?: Readonly<Record<string, Holding>>;
  /**
   * External baseline per tracked asset: what the exchange holds beyond this book (the owner's
   * other coins, another deployment's budget), recorded at the opening and by a rebase (REC-7,
   * domain/ledger.ts). Absent: zero.
   */
  readonly baselines?: Readonly<Record<string, DecimalString>>;
  /** How the book was opened (REC-6); absent on books opened before it was recorded. */
  readonly opened?: import('./ledger.js').Opening;
  readonly updatedAt: string;
}

/**
 * A fee asset the account holds (e.g. BNB that pays fees at a discount). Its cost basis is part
 * of `committed`; paying a fee with it realizes the difference between the fee's value at the
 * fill-time price and the basis of the coins given up.
 */
export interface Holding {
  readonly asset: string;
  /** Quantity held; negative only when the exchange charged more than the book knew of. */
  readonly qty: DecimalString;
  /** Cost basis of the quantity held, in the quote currency, >= 0. */
  readonly basis: DecimalString;
  readonly realizedPnl: DecimalString;
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
        fees: [],
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
  /** Cumulative fees per currency. */
  readonly fees: readonly FeeAmount[];
  /**
   * Quote price per unit of each third-asset fee currency when the fill is booked. A fee asset
   * without a price here is valued at its holding's average cost (realizing nothing on it).
   */
  readonly feePrices?: Readonly<Record<string, DecimalString>>;
  /**
   * What the order recorded as booked: counted from here when the book has no entry for the
   * order (its entry was released when it ended, and a fill came late: EXE-10). @default zero
   */
  readonly bookedBefore?: { readonly filled: DecimalString; readonly cost: DecimalString; readonly fees: readonly FeeAmount[] };
}

/** The fees booked for an order, for entries written before fees were kept per currency. */
function bookedFees(entry: OrderBudget & { fee?: DecimalString }, currency: string): readonly FeeAmount[] {
  return entry.fees ?? feeOf(currency, entry.fee ?? '0');
}

/** The third assets a fill's fees are charged in: neither the symbol's base nor the book's quote currency. */
export function feeAssetsOf(fees: readonly FeeAmount[], symbol: string, quote: string): string[] {
  return thirdAssets(normalizeFees(fees), symbol, quote);
}

/** `feeAssetsOf` of fees already normalized (one entry per currency, none zero). */
function thirdAssets(normalized: readonly FeeAmount[], symbol: string, quote: string): string[] {
  const base = baseOf(symbol);
  const out: string[] = [];
  for (const fee of normalized) if (fee.currency !== base && fee.currency !== quote) out.push(fee.currency);
  return out;
}

interface HoldingSpend {
  readonly holding: Holding;
  /** Quote value of the coins given up (the fee's value). */
  readonly value: Decimal;
  /** Cost basis removed from the holding. */
  readonly closedBasis: Decimal;
}

/** Takes `amount` of a holding to pay a fee valued at `price` (or at the holding's average cost). */
function spendHolding(held: Holding, amount: Decimal, price: DecimalString | undefined): HoldingSpend {
  const qty = dec(held.qty);
  const basis = dec(held.basis);
  const average = qty.gt(0) ? basis.div(qty) : new Decimal(0);
  const value = (price === undefined ? average : dec(price)).times(amount).toDecimalPlaces(LEDGER_SCALE, Decimal.ROUND_HALF_EVEN);
  // Only coins the book knows of carry a basis; a negative fee (a rebate) adds coins at value.
  let closedBasis: Decimal;
  if (amount.isNegative()) closedBasis = value;
  else if (qty.lte(0)) closedBasis = new Decimal(0);
  else if (amount.gte(qty)) closedBasis = basis;
  else closedBasis = basis.times(amount).div(qty).toDecimalPlaces(LEDGER_SCALE, Decimal.ROUND_HALF_EVEN);
  return {
    holding: {
      ...held,
      qty: str(qty.minus(amount)),
      basis: str(basis.minus(closedBasis)),
      realizedPnl: str(dec(held.realizedPnl).plus(value.minus(closedBasis))),
    },
    value,
    closedBasis,
  };
}

/**
 * Books the part of a cumulative fill not yet booked. Buys spend their reservation first, then
 * available (a fill that happened must be recorded even if it cost more than reserved); sells
 * return proceeds to available and book realized PnL. Fees are booked per currency (see the
 * module comment). Returns null when nothing is new.
 * @throws ValidationError when a base-coin fee is not smaller than the quantity bought.
 */
export function applyFill(book: AccountBook, fill: CumulativeFill, at: Date): AccountBook | null {
  const entry: OrderBudget = book.orders[fill.orderId] ?? {
    symbol: fill.symbol,
    side: fill.side,
    reserved: '0',
    remaining: '0',
    filled: fill.bookedBefore?.filled ?? '0',
    cost: fill.bookedBefore?.cost ?? '0',
    fees: fill.bookedBefore?.fees ?? [],
    at: at.toISOString(),
  };
  const reportedFees = normalizeFees(fill.fees);
  // As texts (exact), which a first fill (nothing booked yet) gets without arithmetic: `sub`.
  const dFilledText = sub(fill.filled, entry.filled);
  const dCostText = sub(fill.cost, entry.cost);
  const dFilled = dec(dFilledText);
  const dCost = dec(dCostText);
  if (dFilled.lte(0)) return null;
  // Nothing booked yet (the usual first fill): what is new is the report itself, normalized above.
  const booked = bookedFees(entry, book.currency);
  const dFees = booked.length === 0 ? reportedFees : feeDeltas(reportedFees, booked);

  // Third-asset fees: coins leave their holding, valued at the fill-time price.
  const holdings: Record<string, Holding> = { ...(book.holdings ?? {}) };
  let thirdValue = new Decimal(0);
  let holdingBasisClosed = new Decimal(0);
  const third = thirdAssets(dFees, fill.symbol, book.currency);
  for (const asset of third) {
    const held = holdings[asset] ?? { asset, qty: '0', basis: '0', realizedPnl: '0' };
    const spent = spendHolding(held, dec(feeIn(dFees, asset)), fill.feePrices?.[asset]);
    holdings[asset] = spent.holding;
    thirdValue = thirdValue.plus(spent.value);
    holdingBasisClosed = holdingBasisClosed.plus(spent.closedBasis);
  }

  const quoteFeeText = feeIn(dFees, book.currency);
  const baseFeeText = feeIn(dFees, baseOf(fill.symbol));
  const quoteFee = dec(quoteFeeText);
  // A base-coin fee: a buy receives less, a sell gives more.
  const qtyText = fill.side === 'buy' ? sub(dFilledText, baseFeeText) : add(dFilledText, baseFeeText);
  if (dec(qtyText).lte(0)) {
    throw new ValidationError(`fee ${baseFeeText} ${baseOf(fill.symbol)} leaves nothing of the ${dFilledText} filled on ${fill.orderId}`, ['fees']);
  }

  const position = book.positions[fill.symbol] ?? flatPosition(fill.symbol);
  // The position's basis grows by what the trade cost including the value of every fee (a
  // negative fee being a rebate), so `committed` stays the sum of the bases.
  const fee = third.length === 0 ? quoteFeeText : str(quoteFee.plus(thirdValue));
  const result = applyTrade(position, { side: fill.side, qty: qtyText, cost: dCostText, fee });
  const basisChange = basisOf(result.position).minus(basisOf(position));
  let available = dec(book.available);
  let reserved = dec(book.reserved);
  let remaining = dec(entry.remaining);

  // Cash moves by the cost and the quote fee only; the other fees are paid in coins.
  if (fill.side === 'buy') {
    const spend = dCost.plus(quoteFee);
    const fromReserved = Decimal.min(spend, remaining);
    remaining = remaining.minus(fromReserved);
    reserved = reserved.minus(fromReserved);
    available = available.minus(spend.minus(fromReserved));
  } else {
    available = available.plus(dCost.minus(quoteFee));
  }
  const committed = dec(book.committed).plus(basisChange).minus(holdingBasisClosed);
  // Whatever left cash or committed and did not arrive in the other is realized PnL.
  const total = dec(book.total)
    .plus(available.minus(dec(book.available)))
    .plus(reserved.minus(dec(book.reserved)))
    .plus(committed.minus(dec(book.committed)));

  return {
    ...book,
    total: str(total),
    available: str(available),
    reserved: str(reserved),
    committed: str(committed),
    orders: {
      ...book.orders,
      [fill.orderId]: { ...entry, remaining: str(remaining), filled: fill.filled, cost: fill.cost, fees: reportedFees },
    },
    positions: { ...book.positions, [fill.symbol]: result.position },
    ...(Object.keys(holdings).length > 0 ? { holdings } : {}),
    updatedAt: at.toISOString(),
  };
}

/**
 * Adds coins of a fee asset to the book (a deposit, e.g. the paper account's starting BNB),
 * at `price` quote per unit: the value joins `total` and `committed` as the holding's basis.
 * @throws ValidationError on a malformed asset, the quote currency itself, or a negative amount or price.
 */
export function depositHolding(book: AccountBook, asset: string, qty: DecimalString, price: DecimalString, at: Date): AccountBook {
  if (!ASSET_PATTERN.test(asset) || asset === book.currency) throw new ValidationError(`cannot hold ${JSON.stringify(asset)} as a fee asset of a ${book.currency} book`, ['asset']);
  const amount = dec(qty);
  const value = amount.times(price);
  if (amount.isNegative() || dec(price).isNegative()) throw new ValidationError('a deposit needs a non-negative quantity and price', ['qty', 'price']);
  const held = book.holdings?.[asset] ?? { asset, qty: '0', basis: '0', realizedPnl: '0' };
  return {
    ...book,
    total: str(dec(book.total).plus(value)),
    committed: str(dec(book.committed).plus(value)),
    holdings: { ...(book.holdings ?? {}), [asset]: { ...held, qty: str(dec(held.qty).plus(amount)), basis: str(dec(held.basis).plus(value)) } },
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
    available: str(dec(book.available).plus(dec(entry.remaining))),
    reserved: str(dec(book.reserved).minus(dec(entry.remaining))),
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

/**
 * Mark-to-market equity: free and reserved cash plus positions and fee-asset holdings at the given prices.
 * A flat position (a book keeps one for every symbol it ever traded) adds nothing at a plain decimal
 * price, so it is not multiplied out; at any other price text it is, as before (which may throw).
 */
export function equity(book: AccountBook, prices: Readonly<Record<string, DecimalString>>): DecimalString {
  let value = dec(book.available).plus(dec(book.reserved));
  for (const p of Object.values(book.positions)) {
    const price = prices[p.symbol] ?? p.avgPrice;
    if (isZero(p.qty) && DECIMAL_PATTERN.test(price)) continue;
    value = value.plus(dec(p.qty).times(dec(price)));
  }
  for (const h of Object.values(book.holdings ?? {})) {
    const price = prices[`${h.asset}/${book.currency}`];
    value = value.plus(price !== undefined ? dec(h.qty).times(dec(price)) : dec(h.basis));
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
