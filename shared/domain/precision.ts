/**
 * Rounding to a market's step and tick, and the limit checks the exchange would otherwise make
 * after we sent the order (EXE-6; ccxt does not check limits before sending).
 */
import type { MarketRules } from './market.js';
import { Decimal, dec, str, type DecimalString } from './money.js';

/** Amounts are truncated to the step (never round up into more than was budgeted). */
export function roundAmount(amount: DecimalString, step: DecimalString): DecimalString {
  return str(dec(amount).div(step).toDecimalPlaces(0, Decimal.ROUND_DOWN).times(step));
}

/** Prices are rounded to the nearest tick. */
export function roundPrice(price: DecimalString, tick: DecimalString): DecimalString {
  return str(dec(price).div(tick).toDecimalPlaces(0, Decimal.ROUND_HALF_UP).times(tick));
}

/** Returns why an order breaks the market's limits, or null when it is sendable. */
export function limitViolation(rules: MarketRules, amount: DecimalString, price: DecimalString): string | null {
  const a = dec(amount);
  const p = dec(price);
  if (a.lte(0)) return `amount ${amount} rounds to zero at step ${rules.amountStep}`;
  if (rules.minAmount && a.lt(rules.minAmount)) return `amount ${amount} below minimum ${rules.minAmount}`;
  if (rules.maxAmount && a.gt(rules.maxAmount)) return `amount ${amount} above maximum ${rules.maxAmount}`;
  if (rules.minPrice && p.lt(rules.minPrice)) return `price ${price} below minimum ${rules.minPrice}`;
  if (rules.maxPrice && p.gt(rules.maxPrice)) return `price ${price} above maximum ${rules.maxPrice}`;
  const notional = a.times(p);
  if (rules.minNotional && notional.lt(rules.minNotional)) return `notional ${str(notional)} below minimum ${rules.minNotional}`;
  if (rules.maxNotional && notional.gt(rules.maxNotional)) return `notional ${str(notional)} above maximum ${rules.maxNotional}`;
  return null;
}
