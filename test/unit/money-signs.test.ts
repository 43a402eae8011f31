/**
 * isZero, isNegative and isPositive read a plain decimal string's sign off its text; anything
 * else goes through decimal.js. Property: they agree with decimal.js on every value it accepts,
 * and throw where it throws.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dec, isNegative, isPositive, isZero } from '../../shared/domain/money.js';

const digits = (max: number) => fc.string({ unit: fc.constantFrom('0', '0', '0', '1', '5', '9'), minLength: 1, maxLength: max });
const plain = fc.tuple(fc.boolean(), digits(22), fc.option(digits(20), { nil: undefined })).map(([minus, int, frac]) => `${minus ? '-' : ''}${int}${frac === undefined ? '' : `.${frac}`}`);
const other = fc.constantFrom('1e-7', '-1e-7', '0e5', '1E3', '+1', '.5', '5.', '-.0', '', 'abc', ' 1', '1 ', '-', '0x10', 'Infinity', 'NaN');

function reference(a: string): { zero: boolean; negative: boolean; positive: boolean } | 'throws' {
  try {
    const d = dec(a);
    return { zero: d.isZero(), negative: d.isNegative() && !d.isZero(), positive: d.gt(0) };
  } catch {
    return 'throws';
  }
}

function actual(a: string): { zero: boolean; negative: boolean; positive: boolean } | 'throws' {
  try {
    return { zero: isZero(a), negative: isNegative(a), positive: isPositive(a) };
  } catch {
    return 'throws';
  }
}

describe('money sign tests', () => {
  it('agree with decimal.js on plain decimals (long ones included) and on every other text', () => {
    fc.assert(
      fc.property(fc.oneof(plain, other), (a) => {
        expect(actual(a)).toEqual(reference(a));
      }),
      { numRuns: 2000 },
    );
  });

  it('reads -0 and zeros with a fraction as zero, neither negative nor positive', () => {
    for (const a of ['0', '-0', '0.000', '-0.0', '000']) expect(actual(a)).toEqual({ zero: true, negative: false, positive: false });
    expect(actual('-0.001')).toEqual({ zero: false, negative: true, positive: false });
    expect(actual('007')).toEqual({ zero: false, negative: false, positive: true });
  });
});
