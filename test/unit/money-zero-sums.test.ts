/**
 * `add` and `sub` give a canonical plain decimal back as it is (or its negation) when the other
 * side is zero. Property: they equal decimal.js's sum and difference written by `str` on every
 * text decimal.js accepts (long ones, signed zeros, leading and trailing zeros, exponents), with
 * zero on either side, and throw where that throws.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { add, dec, str, sub } from '../../shared/domain/money.js';
import { outcome, plainDecimal } from '../support/decimal-texts.js';

const plain = plainDecimal(24);
const canonicalPlain = plain.map((text) => str(dec(text)));
const other = fc.constantFrom('1e-7', '-1e-7', '0e5', '1E3', '.5', '-.0', '-0', '-0.0', '0.', '', 'abc', '0.10', '00', '-00.5', '1234567890123456789012345678901234567890.5');
const text = fc.oneof(plain, canonicalPlain, canonicalPlain, other);

describe('Functions: add and sub with zero', () => {
  it('equal str of the decimal.js sum and difference, zero on either side', () => {
    fc.assert(
      fc.property(text, fc.constantFrom('0', '0.0', '-0'), fc.boolean(), (a, zero, zeroFirst) => {
        const [x, y] = zeroFirst ? [zero, a] : [a, zero];
        expect(outcome(() => add(x, y))).toBe(outcome(() => str(dec(x).plus(dec(y)))));
        expect(outcome(() => sub(x, y))).toBe(outcome(() => str(dec(x).minus(dec(y)))));
      }),
      { numRuns: 3000 },
    );
  });

  it('returns the other side itself, or its negation, without a sum', () => {
    expect(add('0', '12.5')).toBe('12.5');
    expect(add('-0.001', '0')).toBe('-0.001');
    expect(sub('0', '12.5')).toBe('-12.5');
    expect(sub('0', '-0.25')).toBe('0.25');
    expect(sub('0', '0')).toBe('0');
    expect(sub('7', '0')).toBe('7');
    expect(add('0', '1.50')).toBe('1.5');
  });
});
