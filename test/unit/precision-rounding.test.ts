/**
 * EXE-6: rounding to step and tick, and the limit checks made before anything is sent.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { MarketRules } from '../../shared/domain/market.js';
import { Decimal, dec, str } from '../../shared/domain/money.js';
import { limitViolation, roundAmount, roundPrice } from '../../shared/domain/precision.js';

const steps = fc.constantFrom('1', '0.1', '0.01', '0.001', '0.00001', '0.00000001', '5', '0.25', '0.0005');
const positive = fc.integer({ min: 1, max: 10 ** 12 }).chain((n) => fc.integer({ min: 0, max: 10 }).map((dp) => str(new Decimal(n).div(new Decimal(10).pow(dp)))));

describe('Domain: precision', () => {
  it('truncates amounts to a multiple of the step, never up, by less than one step', () => {
    fc.assert(
      fc.property(positive, steps, (amount, step) => {
        const rounded = dec(roundAmount(amount, step));
        expect(rounded.mod(step).isZero()).toBe(true);
        expect(rounded.lte(amount)).toBe(true);
        expect(dec(amount).minus(rounded).lt(step)).toBe(true);
        expect(rounded.gte(0)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('truncates to a power-of-ten step exactly as the division by the step does, for any amount', () => {
    // The rule roundAmount spelled out: divide by the step, cut to a whole number, multiply back.
    const byDivision = (amount: string, step: string) => str(dec(amount).div(step).toDecimalPlaces(0, Decimal.ROUND_DOWN).times(step));
    const digits = (min: number, max: number) => fc.array(fc.constantFrom(...'0123456789'), { minLength: min, maxLength: max }).map((d) => d.join(''));
    // Plain texts up to 50 significant digits (past the 40 of the division's precision), either
    // sign, leading and trailing zeros; texts with an exponent; zero with a sign.
    const plain = fc.tuple(fc.constantFrom('', '-'), digits(1, 25), fc.option(digits(1, 25), { nil: undefined })).map(([sign, whole, fraction]) => `${sign}${whole}${fraction === undefined ? '' : `.${fraction}`}`);
    const exponent = fc.tuple(digits(1, 12), fc.integer({ min: -30, max: 30 })).map(([d, e]) => `${d}e${e}`);
    const amounts = fc.oneof(plain, exponent, fc.constantFrom('0', '-0', '0.000', '1', '0.99999999999999999999999999999999999999999999'));
    const unitSteps = fc.integer({ min: 0, max: 20 }).map((k) => (k === 0 ? '1' : `0.${'0'.repeat(k - 1)}1`));
    const otherSteps = fc.constantFrom('10', '100', '5', '0.25', '0.0005', '0.10', '1.0', '1e-5', '2.5');
    fc.assert(
      fc.property(amounts, fc.oneof(unitSteps, otherSteps), (amount, step) => {
        expect(roundAmount(amount, step)).toBe(byDivision(amount, step));
      }),
      { numRuns: 3000 },
    );
    expect(roundAmount('0.00169581345678901234567890123456789012', '0.00001')).toBe('0.00169');
    expect(roundAmount('-0.0000001', '0.001')).toBe(byDivision('-0.0000001', '0.001'));
  });

  it('rounds prices to the nearest multiple of the tick, at most half a tick away', () => {
    fc.assert(
      fc.property(positive, steps, (price, tick) => {
        const rounded = dec(roundPrice(price, tick));
        expect(rounded.mod(tick).isZero()).toBe(true);
        expect(rounded.minus(price).abs().lte(dec(tick).div(2))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('returns results as plain decimal strings, never with an exponent', () => {
    expect(roundAmount('0.000000123456', '0.00000001')).toBe('0.00000012');
    expect(roundAmount('123456789012345678.9', '1')).toBe('123456789012345678');
    expect(roundPrice('0.00000001234', '0.00000001')).toBe('0.00000001');
  });

  it('accepts an order exactly when every limit holds, and names the first broken one', () => {
    const rules: MarketRules = {
      symbol: 'BTC/USDT',
      base: 'BTC',
      quote: 'USDT',
      amountStep: '0.00001',
      priceTick: '0.01',
      minAmount: '0.0001',
      maxAmount: '100',
      minPrice: '1',
      maxPrice: '1000000',
      minNotional: '10',
      maxNotional: '500000',
    };
    fc.assert(
      fc.property(positive, positive, (amount, price) => {
        const violation = limitViolation(rules, amount, price);
        const a = dec(amount);
        const p = dec(price);
        const ok =
          a.gt(0) && a.gte('0.0001') && a.lte('100') && p.gte('1') && p.lte('1000000') && a.times(p).gte('10') && a.times(p).lte('500000');
        expect(violation === null).toBe(ok);
      }),
      { numRuns: 500 },
    );
    expect(limitViolation(rules, '0.0002', '40000')).toMatch(/notional 8 below minimum 10/);
    expect(limitViolation(rules, '0', '40000')).toMatch(/rounds to zero/);
  });
});
