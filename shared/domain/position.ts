/**
 * Position accounting with weighted average cost (EXE-8). Pure; quantities are signed (long > 0,
 * short < 0), fees are part of the trade's cost. Realized PnL is booked only when a trade
 * reduces or flips the position.
 *
 * The position carries its exact cost basis (`basis`), not only the average price: the average
 * is a quotient and therefore rounded, so `qty x avgPrice` of a round trip does not give back
 * exactly what was paid. Closing a position removes exactly its basis; a partial close removes
 * a share of it rounded to LEDGER_SCALE decimals. The ledger subtracts the same `closedBasis`
 * from `committed`, so `committed` equals the sum of the bases and returns to exactly zero when
 * every position is flat (property-tested in test/unit/position-accounting.test.ts).
 */
import { ValidationError } from './errors.js';
import { Decimal, dec, str, type DecimalString } from './money.js';

/** Decimal places kept by amounts that come from a division (a share of a basis or a fee). */
export const LEDGER_SCALE = 18;

export interface Position {
  readonly symbol: string;
  /** Signed base quantity: long > 0, short < 0. */
  readonly qty: DecimalString;
  /** Average entry price, fees included (0 when flat): basis / |qty|, for display and protections. */
  readonly avgPrice: DecimalString;
  readonly realizedPnl: DecimalString;
  /**
   * Exact cost basis of the open quantity, >= 0: for a long what was paid including fees, for a
   * short what was received net of fees. Absent on positions written before it existed; then
   * |qty| x avgPrice stands in.
   */
  readonly basis?: DecimalString;
}

export interface Trade {
  readonly side: 'buy' | 'sell';
  /** Base quantity, > 0 (anything else changes nothing). */
  readonly qty: DecimalString;
  /** Quote value of the trade (qty x price), >= 0. */
  readonly cost: DecimalString;
  /** Fee in quote; usually >= 0, negative for a rebate. */
  readonly fee: DecimalString;
}

export function flatPosition(symbol: string): Position {
  return { symbol, qty: '0', avgPrice: '0', realizedPnl: '0', basis: '0' };
}

/** Result of applying a trade: the new position, PnL realized by it and the cost basis it closed. */
export interface TradeResult {
  readonly position: Position;
  readonly realized: DecimalString;
  /** Cost basis removed from the position by the closing part of the trade (>= 0). */
  readonly closedBasis: DecimalString;
}

/** The position's cost basis, derived for positions stored before `basis` existed. */
export function basisOf(position: Position): Decimal {
  if (position.basis !== undefined) return dec(position.basis);
  return dec(position.qty).abs().times(dec(position.avgPrice));
}

function scaled(value: Decimal): Decimal {
  return value.toDecimalPlaces(LEDGER_SCALE, Decimal.ROUND_HALF_EVEN);
}

function finite(value: DecimalString, field: string): Decimal {
  let d: Decimal;
  try {
    d = dec(value);
  } catch (error) {
    throw new ValidationError(`trade ${field} is not a decimal: ${JSON.stringify(value)}`, [field], { cause: error });
  }
  if (!d.isFinite()) throw new ValidationError(`trade ${field} must be finite, got ${value}`, [field]);
  return d;
}

function averageOf(basis: Decimal, qty: Decimal): Decimal {
  return qty.isZero() ? new Decimal(0) : basis.div(qty.abs());
}

/**
 * Applies one trade. Guards: a zero, negative, NaN or infinite quantity changes nothing; an
 * average is never computed by dividing by zero (a flat position has avgPrice 0).
 * @throws ValidationError when the cost or fee is not a finite decimal, or the cost is negative
 *   (a fill that happened must never be dropped silently, nor booked as NaN).
 */
export function applyTrade(position: Position, trade: Trade): TradeResult {
  let qty: Decimal;
  try {
    qty = dec(trade.qty);
  } catch {
    return { position, realized: '0', closedBasis: '0' };
  }
  if (!qty.isFinite() || qty.lte(0)) return { position, realized: '0', closedBasis: '0' };
  const cost = finite(trade.cost, 'cost');
  const fee = finite(trade.fee, 'fee');
  if (cost.isNegative() && !cost.isZero()) throw new ValidationError(`trade cost must not be negative, got ${trade.cost}`, ['cost']);

  const buy = trade.side === 'buy';
  const signed = buy ? qty : qty.neg();
  const current = dec(position.qty);
  const basis = basisOf(position);

  // Same direction (or opening from flat): the trade's cost joins the basis. Fees raise a long's
  // basis and lower a short's (a short's basis is what it received).
  if (current.isZero() || current.isPositive() === signed.isPositive()) {
    const newQty = current.plus(signed);
    const newBasis = basis.plus(buy ? cost.plus(fee) : cost.minus(fee));
    return {
      position: { ...position, qty: str(newQty), avgPrice: str(averageOf(newBasis, newQty)), basis: str(newBasis) },
      realized: '0',
      closedBasis: '0',
    };
  }

  // Opposite direction: close up to |current|, then possibly open the rest the other way. The
  // trade's cost and fee are split pro rata; the closing share is rounded, the opening share is
  // the exact remainder, so nothing is created or lost by the split.
  const held = current.abs();
  const closing = Decimal.min(qty, held);
  const opening = qty.minus(closing);
  const costClosing = opening.isZero() ? cost : scaled(cost.times(closing).div(qty));
  const feeClosing = opening.isZero() ? fee : scaled(fee.times(closing).div(qty));
  const closedBasis = closing.eq(held) ? basis : scaled(basis.times(closing).div(held));
  // Long closed by a sell: received minus fee minus what it cost. Short closed by a buy: what it
  // received minus what buying back cost.
  const realized = buy ? closedBasis.minus(costClosing).minus(feeClosing) : costClosing.minus(feeClosing).minus(closedBasis);
  const remaining = current.plus(signed);
  let newBasis = basis.minus(closedBasis);
  if (opening.gt(0)) {
    const costOpening = cost.minus(costClosing);
    const feeOpening = fee.minus(feeClosing);
    newBasis = buy ? costOpening.plus(feeOpening) : costOpening.minus(feeOpening);
  }
  if (remaining.isZero()) newBasis = new Decimal(0);
  return {
    position: {
      ...position,
      qty: str(remaining),
      avgPrice: str(averageOf(newBasis, remaining)),
      realizedPnl: str(dec(position.realizedPnl).plus(realized)),
      basis: str(newBasis),
    },
    realized: str(realized),
    closedBasis: str(closedBasis),
  };
}

/**
 * Profit or loss of the open quantity if it were closed at `price`, fees paid so far included:
 * for a long, what it is worth minus what it cost; for a short, what it brought minus what
 * buying it back costs.
 */
export function unrealizedPnl(position: Position, price: DecimalString): DecimalString {
  const qty = dec(position.qty);
  if (qty.isZero()) return '0';
  const value = qty.abs().times(dec(price));
  return str(qty.isPositive() ? value.minus(basisOf(position)) : basisOf(position).minus(value));
}
