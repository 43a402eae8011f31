/**
 * Position accounting with weighted average cost (EXE-8). Pure; quantities are signed (long > 0,
 * short < 0), fees are part of the trade's cost. Realized PnL is booked only when a trade
 * reduces or flips the position.
 */
import { Decimal, dec, str, type DecimalString } from './money.js';

export interface Position {
  readonly symbol: string;
  /** Signed base quantity: long > 0, short < 0. */
  readonly qty: DecimalString;
  /** Average entry price, fees included (0 when flat). */
  readonly avgPrice: DecimalString;
  readonly realizedPnl: DecimalString;
}

export interface Trade {
  readonly side: 'buy' | 'sell';
  /** Base quantity, > 0. */
  readonly qty: DecimalString;
  /** Quote value of the trade (qty x price), > 0. */
  readonly cost: DecimalString;
  /** Fee in quote, >= 0. */
  readonly fee: DecimalString;
}

export function flatPosition(symbol: string): Position {
  return { symbol, qty: '0', avgPrice: '0', realizedPnl: '0' };
}

/** Result of applying a trade: the new position, PnL realized by it and the cost basis it closed. */
export interface TradeResult {
  readonly position: Position;
  readonly realized: DecimalString;
  /** Cost basis removed from the position by the closing part of the trade (>= 0). */
  readonly closedBasis: DecimalString;
}

/**
 * Applies one trade. Guards: a zero or negative quantity changes nothing; an average is never
 * computed by dividing by zero (a flat position has avgPrice 0).
 */
export function applyTrade(position: Position, trade: Trade): TradeResult {
  const qty = dec(trade.qty);
  if (!qty.isFinite() || qty.lte(0)) return { position, realized: '0', closedBasis: '0' };
  const fee = dec(trade.fee);
  const signed = trade.side === 'buy' ? qty : qty.neg();
  const current = dec(position.qty);
  const avg = dec(position.avgPrice);
  const price = dec(trade.cost).div(qty);

  // Same direction (or opening from flat): weighted average including the fee.
  if (current.isZero() || current.isPositive() === signed.isPositive()) {
    const newQty = current.plus(signed);
    // Fees raise a long's entry price and lower a short's.
    const feePerUnit = fee.div(qty);
    const entry = signed.isPositive() ? price.plus(feePerUnit) : price.minus(feePerUnit);
    const newAvg = current.abs().times(avg).plus(qty.times(entry)).div(newQty.abs());
    return {
      position: { ...position, qty: str(newQty), avgPrice: str(newAvg) },
      realized: '0',
      closedBasis: '0',
    };
  }

  // Opposite direction: close up to |current|, then possibly open the rest the other way.
  const closing = Decimal.min(qty, current.abs());
  const opening = qty.minus(closing);
  const feeClosing = fee.times(closing).div(qty);
  const feeOpening = fee.minus(feeClosing);
  const direction = current.isPositive() ? 1 : -1;
  const realized = price.minus(avg).times(closing).times(direction).minus(feeClosing);
  const closedBasis = avg.times(closing);
  const remaining = current.plus(signed);
  let newAvg = avg;
  if (remaining.isZero()) newAvg = new Decimal(0);
  else if (opening.gt(0)) {
    const feePerUnit = feeOpening.div(opening);
    newAvg = signed.isPositive() ? price.plus(feePerUnit) : price.minus(feePerUnit);
  }
  return {
    position: {
      ...position,
      qty: str(remaining),
      avgPrice: str(newAvg),
      realizedPnl: str(dec(position.realizedPnl).plus(realized)),
    },
    realized: str(realized),
    closedBasis: str(closedBasis),
  };
}
