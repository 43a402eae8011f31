/**
 * Rounding to a market's step and tick, and the limit checks the exchange would otherwise make
 * after we sent the order (EXE-6; ccxt does not check limits before sending).
 */
import type { MarketRules } from './market.js';
import { Decimal, dec, str, type DecimalString } from './money.js';

/**
 * Amounts are truncated to the step (never round up into more than was budgeted).
 * A step that is a power of ten at or below 1 (`1`, `0.1`, ..., the usual amount step) truncates
 * to its number of decimals: the same result without the long division, which for an amount
 * sized by a division (40 significant digits) was most of an order's sizing. Exact whenever the
 * amount has at most `Decimal.precision` significant digits (the quotient by the step is then
 * exact too); any other amount or step takes the division.
 */
export function roundAmount(amount: DecimalString, step: DecimalString): DecimalString {
  const value = dec(amount);
  const places = decimalsOfUnitStep(step);
  if (places !== undefined && value.isFinite() && value.sd() <= Decimal.precision) return str(value.toDecimalPlaces(places, Decimal.ROUND_DOWN));
  return str(value.div(step).toDecimalPlaces(0, Decimal.ROUND_DOWN).times(step));
}

/** `1`, `0.1`, `0.01`, ...: a power of ten at or below 1, written plainly. */
const UNIT_STEP = /^(?:1|0\.(0*)1)$/;

/** The decimals of a step `UNIT_STEP` matches (0 for `1`), else undefined. */
function decimalsOfUnitStep(step: DecimalString): number | undefined {
  const match = UNIT_STEP.exec(step);
  if (!match) return undefined;
  return match[1] === undefined ? 0 : match[1].length + 1;
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
