/**
 * The cheaper forms of the scanner's candle window checks decide as the plain rules do:
 * `ohlcConsistent` (prices written alike compared as text, else as numbers, else in decimal) is the
 * decimal OHLC rule, and `CandleCache.merged` (the cached tail found from the end) is the cached
 * series filtered, followed by the fetched candles, cut to `keep`.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Candle } from '../../shared/domain/market.js';
import { checkCandles, ohlcConsistent } from '../../shared/domain/market-validation.js';
import { Decimal, dec } from '../../shared/domain/money.js';
import { CandleCache } from '../../shared/use-cases/candle-cache.js';

const MINUTE = 60_000;

/** The rule in decimal arithmetic only. */
function decimalRule(c: Pick<Candle, 'open' | 'high' | 'low' | 'close'>): boolean {
  return !dec(c.high).lt(Decimal.max(c.open, c.close)) && !dec(c.low).gt(Decimal.min(c.open, c.close));
}

/** Decimal strings as the schema accepts them: leading zeros, 0 to 18 decimals, many ties. */
const digits = (min: number, max: number) => fc.array(fc.constantFrom('0', '1', '5', '9'), { minLength: min, maxLength: max }).map((d) => d.join(''));
const anyDecimal = fc.tuple(digits(1, 4), fc.option(digits(1, 18), { nil: undefined })).map(([i, f]) => (f === undefined ? i : `${i}.${f}`)).filter((s) => /[1-9]/.test(s));
/** Prices of one fixed format (same length, point at the same place), as an exchange or a data file writes them. */
const fixedFormat = fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 6 })).chain(([i, f]) =>
  fc.array(fc.tuple(digits(i, i), digits(f, f)).map(([a, b]) => (f === 0 ? a : `${a}.${b}`)), { minLength: 4, maxLength: 4 }).filter((v) => v.every((s) => /[1-9]/.test(s))),
);

describe('Function: ohlcConsistent', () => {
  it('decides as the decimal rule on prices of one fixed format (the text comparison)', () => {
    fc.assert(
      fc.property(fixedFormat, ([open, high, low, close]) => {
        const candle = { openTime: MINUTE, open: open!, high: high!, low: low!, close: close!, volume: '1' };
        expect(ohlcConsistent(candle)).toBe(decimalRule(candle));
      }),
      { numRuns: 2000 },
    );
  });

  it('decides as the decimal rule on prices written differently (numbers, then decimals)', () => {
    fc.assert(
      fc.property(anyDecimal, anyDecimal, anyDecimal, anyDecimal, (open, high, low, close) => {
        const candle = { openTime: MINUTE, open, high, low, close, volume: '1' };
        expect(ohlcConsistent(candle)).toBe(decimalRule(candle));
        // and checkCandles refuses exactly the inconsistent ones
        expect(checkCandles([candle], new Date(2 * MINUTE), MINUTE).ok).toBe(decimalRule(candle));
      }),
      { numRuns: 2000 },
    );
  });

  it('tells apart equal-looking prices of the same length: a high below the close by its last digit is refused', () => {
    expect(ohlcConsistent({ openTime: MINUTE, open: '100.05', high: '100.09', low: '099.99', close: '100.10', volume: '1' })).toBe(false);
    expect(ohlcConsistent({ openTime: MINUTE, open: '100.05', high: '100.10', low: '099.99', close: '100.10', volume: '1' })).toBe(true);
    // Same length, the point elsewhere: not compared as text.
    expect(ohlcConsistent({ openTime: MINUTE, open: '99.50', high: '100.1', low: '99.40', close: '99.60', volume: '1' })).toBe(true);
  });
});

describe('Class: CandleCache', () => {
  describe('Method: merged', () => {
    const candle = (openTime: number, tag: string): Candle => ({ openTime, open: tag, high: tag, low: tag, close: tag, volume: '1' });
    /** What merged was: the cached candles older than the first fetched one, then the fetched, cut to `keep`. */
    const plain = (series: readonly Candle[] | undefined, fetched: readonly Candle[], keep: number) => {
      const first = fetched[0]?.openTime;
      if (!series || first === undefined) return fetched.slice(-keep);
      return [...series.filter((c) => c.openTime < first), ...fetched].slice(-keep);
    };
    // Open times in any order (the cache stores only validated series, but the rule holds for any).
    const times = fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 40 });

    it('gives the cached series filtered, followed by the fetched candles, cut to keep', () => {
      fc.assert(
        fc.property(fc.option(times, { nil: undefined }), times, fc.integer({ min: -3, max: 45 }), (cachedTimes, fetchedTimes, keep) => {
          const cache = new CandleCache();
          const series = cachedTimes?.map((t) => candle(t * MINUTE, `1${t}`));
          if (series) cache.put('BTC/USDT', series);
          const fetched = fetchedTimes.map((t) => candle(t * MINUTE, `2${t}`));
          expect(cache.merged('BTC/USDT', fetched, keep)).toEqual(plain(series, fetched, keep));
        }),
        { numRuns: 1000 },
      );
    });
  });
});
