/**
 * Decimal texts for the property tests of money.ts against decimal.js: plain decimals with many
 * zeros, and the outcome of a call as one comparable text (its value, or the error it throws).
 */
import fc from 'fast-check';

/** Digit runs of up to `max` digits, mostly zeros (leading and trailing zeros are the cases that matter). */
export const digits = (max: number) => fc.string({ unit: fc.constantFrom('0', '0', '0', '1', '5', '9'), minLength: 1, maxLength: max });

/** A plain decimal text, signed or not, with up to `max` digits on each side of an optional point. */
export const plainDecimal = (max: number) =>
  fc
    .tuple(fc.constantFrom('', '-', '+'), digits(max), fc.option(digits(max), { nil: undefined }))
    .map(([sign, int, frac]) => `${sign}${int}${frac === undefined ? '' : `.${frac}`}`);

/** `= value` for a call that returns, `throws Name` for one that throws. */
export function outcome(run: () => string): string {
  try {
    return `= ${run()}`;
  } catch (error) {
    return `throws ${(error as Error).name}`;
  }
}
