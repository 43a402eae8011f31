/**
 * The plain predicates that accept well-formed tickers and candles (market-validation.ts) agree
 * with the zod schemas: whatever they accept, the schema accepts with the same value, and
 * whatever the schema refuses, they refuse. Values are drawn near the boundaries (zeros, too many
 * digits, exponents, signs, spaces, unsafe integers, wrong types, extra fields).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CandleSchema, TickerSchema, checkTicker, decimalSign, wellFormedCandle, wellFormedTicker } from '../../shared/domain/market-validation.js';

const digits = (min: number, max: number) => fc.array(fc.constantFrom('0', '0', '1', '5', '9'), { minLength: min, maxLength: max }).map((d) => d.join(''));
const decimalLike = fc.oneof(
  digits(1, 21),
  fc.tuple(digits(1, 21), digits(1, 19)).map(([i, f]) => `${i}.${f}`),
  fc.constantFrom('0', '0.0', '00.000', '1e5', '-1', '+1', ' 1', '1 ', '.5', '5.', '', 'NaN', 'Infinity', '1,5', '٣'),
);
const anyField = fc.oneof(decimalLike, decimalLike, decimalLike, fc.double(), fc.constant(undefined), fc.constant(null), fc.integer());
const timeLike = fc.oneof(fc.integer({ min: -5, max: 2_000_000_000_000 }), fc.constantFrom(0, 1.5, 2 ** 53, 2 ** 53 - 1, Number.NaN, Infinity), fc.constant('1700000000000'));

describe('Market data checks: the fast predicates agree with the schemas', () => {
  it('accepts exactly the candles the candle schema accepts, with the same value', () => {
    fc.assert(
      fc.property(fc.record({ openTime: timeLike, open: anyField, high: anyField, low: anyField, close: anyField, volume: anyField, extra: fc.option(fc.string()) }), (raw) => {
        const parsed = CandleSchema.safeParse(raw);
        const fast = wellFormedCandle(raw);
        if (fast) expect(parsed.success && JSON.stringify(parsed.data)).toBe(JSON.stringify(fast));
        if (!parsed.success) expect(fast).toBeUndefined();
      }),
      { numRuns: 3000 },
    );
  });

  it('accepts exactly the tickers the ticker schema accepts, with the same value', () => {
    fc.assert(
      fc.property(fc.record({ symbol: fc.oneof(fc.constantFrom('BTC/USDT', 'AB', 'ABC', ''), fc.integer()), bid: anyField, ask: anyField, last: anyField, volume: anyField, timestamp: timeLike }), (raw) => {
        const parsed = TickerSchema.safeParse(raw);
        const fast = wellFormedTicker(raw);
        if (fast) expect(parsed.success && JSON.stringify(parsed.data)).toBe(JSON.stringify(fast));
        if (!parsed.success) expect(fast).toBeUndefined();
      }),
      { numRuns: 3000 },
    );
  });

  it('reads a decimal string in one pass as the decimal pattern and the non-zero digit test do', () => {
    // The rule the predicates stood on before: the schema's pattern, then a non-zero digit.
    const pattern = /^\d{1,20}(\.\d{1,18})?$/;
    const rule = (s: string) => (pattern.test(s) ? (/[1-9]/.test(s) ? 1 : 0) : -1);
    const text = fc.oneof(decimalLike, fc.string(), fc.string({ unit: fc.constantFrom('0', '1', '9', '.', '-', 'e', ' ', '\n', '/', ':', '٣') }), digits(19, 22), fc.tuple(digits(1, 3), digits(17, 20)).map(([i, f]) => `${i}.${f}`));
    fc.assert(
      fc.property(text, (s) => {
        expect(decimalSign(s)).toBe(rule(s));
      }),
      { numRuns: 5000 },
    );
    expect([decimalSign('12.50'), decimalSign('0.000'), decimalSign('1.'), decimalSign('9'.repeat(21)), decimalSign(`1.${'0'.repeat(19)}`), decimalSign('1\n')]).toEqual([1, 0, -1, -1, -1, -1]);
  });

  it('takes both ways through the predicates, so the property above is not vacuous', () => {
    expect(wellFormedCandle({ openTime: 60_000, open: '1.5', high: '2', low: '1', close: '1.5', volume: '0' })).toEqual({ openTime: 60_000, open: '1.5', high: '2', low: '1', close: '1.5', volume: '0' });
    expect(wellFormedCandle({ openTime: 60_000, open: '0.000', high: '2', low: '1', close: '1.5', volume: '0' })).toBeUndefined();
    // bid = ask = last: accepted without decimal arithmetic; zero volume is still refused.
    expect(checkTicker({ symbol: 'BTC/USDT', bid: '10.5', ask: '10.5', last: '10.5', volume: '3', timestamp: 1000 }, new Date(1000), 5000)).toEqual({ ok: true, ticker: { symbol: 'BTC/USDT', bid: '10.5', ask: '10.5', last: '10.5', volume: '3', timestamp: 1000 } });
    expect(checkTicker({ symbol: 'BTC/USDT', bid: '10.5', ask: '10.5', last: '10.5', volume: '0.000', timestamp: 1000 }, new Date(1000), 5000)).toEqual({ ok: false, rejection: { symbol: 'BTC/USDT', reason: 'no volume in 24 h (market halted?)' } });
    expect(checkTicker({ symbol: 'BTC/USDT', bid: '11', ask: '10.5', last: '10.5', volume: '3', timestamp: 1000 }, new Date(1000), 5000).ok).toBe(false);
  });
});
