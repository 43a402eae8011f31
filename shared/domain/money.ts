/**
 * Decimal arithmetic for money and quantities. Values travel as decimal strings (never binary
 * floats) and are computed with decimal.js; a JS number never holds a price or an amount.
 */
import { Decimal as DecimalJs } from 'decimal.js';

/** A decimal.js clone with enough precision for any price times any amount. */
export const Decimal = DecimalJs.clone({ precision: 40, rounding: DecimalJs.ROUND_HALF_EVEN, toExpNeg: -40, toExpPos: 40 });
export type Decimal = InstanceType<typeof Decimal>;

/** A decimal string: digits, optional sign and fraction, no exponent. */
export type DecimalString = string;

export const ZERO = '0';

/**
 * Decimals parsed from text, by the text. The same amounts, prices and rates are read again and
 * again on an order's way (sizing, reservation, fill, fees, ledger, balance check), and a decimal.js
 * value is immutable, so one parse serves every reader. Bounded: emptied when full.
 */
const PARSED = new Map<string, Decimal>();
/** Texts kept at most (a few hundred KB). */
export const PARSED_DECIMALS_MAX = 4096;

export function dec(value: DecimalString | Decimal): Decimal {
  if (typeof value !== 'string') return new Decimal(value);
  let parsed = PARSED.get(value);
  if (parsed === undefined) {
    // Bad text throws here, as it always did, and is not kept.
    parsed = new Decimal(value);
    if (PARSED.size >= PARSED_DECIMALS_MAX) PARSED.clear();
    PARSED.set(value, parsed);
  }
  return parsed;
}

/** Canonical string form: no exponent, no trailing zeros. */
export function str(value: Decimal): DecimalString {
  return value.toFixed();
}

/**
 * `str(dec(text))`: the canonical form of a decimal text. Text already in that form (no sign on
 * zero, no leading or trailing zeros, no exponent) is returned as it is, without a parse.
 */
export function canonical(text: DecimalString): DecimalString {
  return CANONICAL_PATTERN.test(text) ? text : str(dec(text));
}

/** The texts `str` gives: 0, or a signed number without leading zeros, trailing fraction zeros or exponent. */
const CANONICAL_PATTERN = /^(?:0|-?(?:[1-9]\d*|0(?=\.))(?:\.\d*[1-9])?)$/;

// Zero added to (or taken from) a plain decimal in canonical form gives that text back, or its
// negation: add and sub return it without a parse, a sum and a new text. Plain decimals have at
// most 38 digits, so the 40-digit arithmetic would not have rounded them either.

export function add(a: DecimalString, b: DecimalString): DecimalString {
  if (a === ZERO && plainCanonical(b)) return b;
  if (b === ZERO && plainCanonical(a)) return a;
  return str(dec(a).plus(dec(b)));
}

export function sub(a: DecimalString, b: DecimalString): DecimalString {
  if (b === ZERO && plainCanonical(a)) return a;
  if (a === ZERO && plainCanonical(b)) return b === ZERO ? ZERO : b.charCodeAt(0) === MINUS ? b.slice(1) : `-${b}`;
  return str(dec(a).minus(dec(b)));
}

/** A plain decimal (DECIMAL_PATTERN) written as `str` writes it. */
function plainCanonical(text: DecimalString): boolean {
  return DECIMAL_PATTERN.test(text) && CANONICAL_PATTERN.test(text);
}

export function mul(a: DecimalString, b: DecimalString): DecimalString {
  return str(dec(a).times(dec(b)));
}

export function div(a: DecimalString, b: DecimalString): DecimalString {
  return str(dec(a).div(dec(b)));
}

export function cmp(a: DecimalString, b: DecimalString): -1 | 0 | 1 {
  return dec(a).cmp(dec(b)) as -1 | 0 | 1;
}

/**
 * `a < b` for two decimals given with their `Number()`s `x` and `y`. Rounding to the nearest double
 * keeps order (a < b gives x <= y), so unequal numbers order their decimals exactly; only equal
 * numbers of different texts (more digits than a double holds) are compared as decimals.
 */
export function decimalBelow(a: DecimalString, x: number, b: DecimalString, y: number): boolean {
  if (x !== y) return x < y;
  return a !== b && cmp(a, b) < 0;
}

export function min(a: DecimalString, b: DecimalString): DecimalString {
  return cmp(a, b) <= 0 ? a : b;
}

// A plain decimal string (DECIMAL_PATTERN) is zero when it has no digit 1-9, and its sign is its
// first character: the sign tests below read that off the text, and anything else (an exponent,
// a bad value) goes through decimal.js as before.

export function isZero(a: DecimalString): boolean {
  return DECIMAL_PATTERN.test(a) ? !NON_ZERO_DIGIT.test(a) : dec(a).isZero();
}

export function isNegative(a: DecimalString): boolean {
  if (DECIMAL_PATTERN.test(a)) return a.charCodeAt(0) === MINUS && NON_ZERO_DIGIT.test(a);
  return dec(a).isNegative() && !dec(a).isZero();
}

/** a > 0. */
export function isPositive(a: DecimalString): boolean {
  return DECIMAL_PATTERN.test(a) ? a.charCodeAt(0) !== MINUS && NON_ZERO_DIGIT.test(a) : dec(a).gt(0);
}

const NON_ZERO_DIGIT = /[1-9]/;
const MINUS = 45;

/** Strict decimal-string check used by schemas: finite, no exponent, bounded length. */
export const DECIMAL_PATTERN = /^-?\d{1,20}(\.\d{1,18})?$/;
export const UNSIGNED_DECIMAL_PATTERN = /^\d{1,20}(\.\d{1,18})?$/;
