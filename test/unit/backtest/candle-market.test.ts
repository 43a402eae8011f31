/**
 * The candle market's ticker volume (backtest/candle-market.ts): its text is the day's volume sum
 * to 8 decimals, cut to its shortest form, the same text whichever way it is made.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { volumeText } from '../../../backtest/candle-market.js';

/** The text as it is defined: the 8-decimal text parsed and written again, unless that has an exponent. */
const reference = (value: number): string => {
  const fixed = value.toFixed(8);
  const text = String(Number(fixed));
  return text.includes('e') ? fixed : text;
};

/** `value` moved by `steps` doubles (negative: down). */
const neighbour = (value: number, steps: number): number => {
  const bits = new BigInt64Array(new Float64Array([value]).buffer);
  bits[0] = bits[0]! + BigInt(steps);
  return new Float64Array(bits.buffer)[0]!;
};

describe('Backtest market: the ticker volume text', () => {
  it('is the 8-decimal text of the sum in its shortest form, for sums of any size', () => {
    fc.assert(
      fc.property(fc.oneof(fc.double({ min: 0, max: 1e-5, noNaN: true }), fc.double({ min: 0, max: 2e7, noNaN: true }), fc.double({ noNaN: true })), (value) => {
        expect(volumeText(value)).toBe(reference(value));
      }),
      { numRuns: 20_000, seed: 29 },
    );
    // Sums as the volume ring makes them: volumes of few decimals added and taken away again.
    let sum = 0;
    for (let i = 0; i < 20_000; i += 1) {
      sum += ((i * 7919) % 100_000) / 10 ** (1 + (i % 9));
      if (i % 3 === 0) sum -= ((i * 104_729) % 100_000) / 10 ** (1 + ((i + 4) % 9));
      if (sum > 9e6 || i % 1000 === 0) sum = ((i * 31) % 997) / 1e7;
      expect(volumeText(sum)).toBe(reference(sum));
    }
  });

  it('is the same text at the edges: zero, a millionth, 1e7 and where 8 decimals round up', () => {
    for (const edge of [0, -0, 1e-8, 5e-9, 0.000000995, 1e-6, 0.000001005, 0.1, 1 / 512, 3 / 512, 9999999.99999999, 1e7, 1.5e7, -1e-12, -3.25]) {
      for (let steps = -40; steps <= 40; steps += 1) {
        const value = neighbour(edge, steps);
        expect(volumeText(value)).toBe(reference(value));
      }
    }
    expect([volumeText(0), volumeText(1e-8), volumeText(1e-6), volumeText(12.5), volumeText(100)]).toEqual(['0', '0.00000001', '0.000001', '12.5', '100']);
  });
});
