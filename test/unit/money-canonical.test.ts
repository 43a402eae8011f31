/**
 * `canonical` returns a text already in `str`'s form as it is and parses anything else.
 * Property: it equals `str(dec(text))` on every text decimal.js accepts (long ones, signed
 * zeros, leading and trailing zeros, exponents) and throws where that throws.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonical, dec, str } from '../../shared/domain/money.js';
import { outcome, plainDecimal } from '../support/decimal-texts.js';

const plain = plainDecimal(50);
const other = fc.constantFrom('1e-7', '-1e-7', '0e5', '1E3', '.5', '5.', '-.0', '-0', '-0.0', '0.', '', 'abc', ' 1', '1 ', '-', '0x10', 'Infinity', 'NaN', '0.10', '00', '-00.5');

describe('Function: canonical', () => {
  it('equals str(dec(text)) on every text, and throws where it throws', () => {
    fc.assert(
      fc.property(fc.oneof(plain, other), (text) => {
        expect(outcome(() => canonical(text))).toBe(outcome(() => str(dec(text))));
      }),
      { numRuns: 3000 },
    );
  });

  it('returns canonical text itself, without a parse', () => {
    const text = ['12', '.', '5'].join('');
    expect(canonical(text)).toBe(text);
    expect(canonical('0')).toBe('0');
    expect(canonical('-0.001')).toBe('-0.001');
    expect(canonical('-0')).toBe('0');
    expect(canonical('1.50')).toBe('1.5');
  });
});
