/**
 * `dec` keeps the decimals it parsed from text (bounded) and gives the same value again for the
 * same text. Property: whatever it has seen before, `dec(text)` is `new Decimal(text)` (the same
 * digits, or the same error), a value it gave out is not changed by arithmetic on it, and the
 * string helpers built on it agree with decimal.js on plain decimals.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal, PARSED_DECIMALS_MAX, add, cmp, dec, div, mul, sub } from '../../shared/domain/money.js';

const digits = (max: number) => fc.string({ unit: fc.constantFrom('0', '1', '2', '5', '9'), minLength: 1, maxLength: max });
const plain = fc.tuple(fc.boolean(), digits(12), fc.option(digits(10), { nil: undefined })).map(([minus, int, frac]) => `${minus ? '-' : ''}${int}${frac === undefined ? '' : `.${frac}`}`);
const other = fc.constantFrom('1e-7', '-1e-7', '1E3', '.5', '', 'abc', ' 1', '-', 'NaN', 'Infinity', '0.10', '00.5');

function parsed(text: string): string {
  try {
    return `ok ${new Decimal(text).toFixed()}`;
  } catch (error) {
    return `error ${(error as Error).message}`;
  }
}

function viaDec(text: string): string {
  try {
    return `ok ${dec(text).toFixed()}`;
  } catch (error) {
    return `error ${(error as Error).message}`;
  }
}

describe('dec: parsed decimals kept by their text', () => {
  it('gives what a fresh parse gives, first time and every time after, errors included', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(plain, other), { minLength: 1, maxLength: 30 }), (texts) => {
        for (const text of [...texts, ...texts]) expect(viaDec(text)).toBe(parsed(text));
      }),
      { numRuns: 500 },
    );
  });

  it('stays right past its bound (more distinct texts than it keeps)', () => {
    const texts = Array.from({ length: PARSED_DECIMALS_MAX + 500 }, (_, i) => `${i}.${i % 97}`);
    for (const text of texts) expect(dec(text).toFixed()).toBe(new Decimal(text).toFixed());
    // The earliest texts again, after the store was emptied and refilled.
    for (const text of texts.slice(0, 50)) expect(dec(text).toFixed()).toBe(new Decimal(text).toFixed());
  });

  it('hands out values that arithmetic does not change', () => {
    const first = dec('12.5');
    first.plus('1');
    first.times('3').minus('2');
    first.toDecimalPlaces(0, Decimal.ROUND_UP);
    expect(dec('12.5').toFixed()).toBe('12.5');
    expect(first.toFixed()).toBe('12.5');
  });

  it('keeps add, sub, mul, div and cmp equal to decimal.js on plain decimals', () => {
    fc.assert(
      fc.property(plain, plain, (a, b) => {
        const x = new Decimal(a);
        const y = new Decimal(b);
        expect(add(a, b)).toBe(x.plus(y).toFixed());
        expect(sub(a, b)).toBe(x.minus(y).toFixed());
        expect(mul(a, b)).toBe(x.times(y).toFixed());
        if (!y.isZero()) expect(div(a, b)).toBe(x.div(y).toFixed());
        expect(cmp(a, b)).toBe(x.cmp(y));
      }),
      { numRuns: 1000 },
    );
  });
});
