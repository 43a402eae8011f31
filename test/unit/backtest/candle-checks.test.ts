/**
 * The candle checks of backtest/data/candle-file.ts compare prices as numbers where that is exact
 * and as decimals where it is not (texts with more digits than a double holds), and hand on the
 * numbers they parsed, so the columns never parse a text again.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decimalNumber, readCandleChunks } from '../../../backtest/data/candle-file.js';
import { BacktestDataError } from '../../../backtest/data/errors.js';
import { VALUES_PER_CANDLE } from '../../../backtest/data/step-columns.js';
import { cmp, decimalBelow } from '../../../shared/domain/money.js';
import { candleRows, MINUTE, T0, tempDirPerTest, dataFailure } from '../../support/candle-rows.js';

const tmp = tempDirPerTest('tw-bt-checks-');

/** Plain decimals as the files hold them (1-20 integer digits, 0-18 fraction digits), many of them a digit apart. */
const decimalArb = fc
  .record({
    int: fc.stringMatching(/^[0-9]{1,20}$/),
    frac: fc.option(fc.stringMatching(/^[0-9]{1,18}$/), { nil: undefined }),
  })
  .map(({ int, frac }) => (frac === undefined ? int : `${int}.${frac}`));
/** A decimal and a neighbour that differs in its last digit (often the same double). */
const pairArb = decimalArb.chain((a) =>
  fc.oneof(
    fc.constant([a, a] as const),
    decimalArb.map((b) => [a, b] as const),
    fc.integer({ min: 0, max: 9 }).map((d) => [a, a.slice(0, -1) + String(d)] as const),
  ),
);

async function chunks(path: string) {
  const out = [];
  for await (const chunk of readCandleChunks(path, { timeframeMs: MINUTE })) out.push(chunk);
  return out;
}

const failure = (path: string): Promise<BacktestDataError> => dataFailure(() => chunks(path));

describe('Backtest data: candle checks', () => {
  it('reads a decimal as Number() does, to the last bit, however many digits it has', () => {
    const timestampArb = fc.stringMatching(/^[0-9]{1,16}$/);
    fc.assert(
      fc.property(fc.oneof(decimalArb, timestampArb, pairArb.map(([, b]) => b)), (text) => {
        expect(Object.is(decimalNumber(text), Number(text))).toBe(true);
      }),
      { numRuns: 5000, seed: 23 },
    );
    // Around 2^53, where the digits stop fitting a double exactly, and the longest texts.
    for (const text of ['9007199254740991', '9007199254740992', '9007199254740993', '900719925474099.3', '0.9007199254740993', '99999999999999999999.999999999999999999', '0.000000000000000001', '0', '0.0', '60043.0351']) {
      expect(Object.is(decimalNumber(text), Number(text))).toBe(true);
    }
  });

  it('orders two decimals as the decimal type does, whether or not their doubles differ', () => {
    fc.assert(
      fc.property(pairArb, ([a, b]) => {
        expect(decimalBelow(a, Number(a), b, Number(b))).toBe(cmp(a, b) < 0);
        expect(decimalBelow(b, Number(b), a, Number(a))).toBe(cmp(b, a) < 0);
      }),
      { numRuns: 2000, seed: 17 },
    );
  });

  it.each([
    ['a high below the low', '1.000000000000000002,1.000000000000000001,1.000000000000000002,1.000000000000000002', /high 1.000000000000000001 is below low 1.000000000000000002/],
    ['a high below the open', '1.000000000000000002,1.000000000000000001,1,1', /high 1.000000000000000001 is below the open or the close/],
    ['a low above the close', '1.000000000000000002,1.000000000000000002,1.000000000000000001,1', /low 1.000000000000000001 is above the open or the close/],
  ])('refuses %s that only the 18th decimal shows, with the file and the line', async (_what, prices, reason) => {
    const path = join(tmp.path, 'AAA-USDT.csv');
    writeFileSync(path, `${T0},1,1,1,1,1\n${T0 + MINUTE},${prices},5\n`);
    const error = await failure(path);
    expect([error.code, error.file, error.line]).toEqual(['BACKTEST_DATA_INVALID', path, 2]);
    expect(error.message).toMatch(reason);
  });

  it('accepts prices equal as decimals though written differently', async () => {
    const path = join(tmp.path, 'AAA-USDT.csv');
    writeFileSync(path, `${T0},1.50,1.5,1.500000000000000000,1.5,0\n`);
    const [chunk] = await chunks(path);
    expect(chunk!.candles).toHaveLength(1);
  });

  it('hands on the numbers of every candle: Number() of its open, high, low, close and volume texts', async () => {
    const csvPath = join(tmp.path, 'AAA-USDT.csv');
    // A header, a quoted row (the CSV library's path) and many plain rows (several chunks).
    const rows = candleRows(5000);
    rows[7] = rows[7]!.replace(/^(\d+),([^,]+),/, '$1,"$2",');
    writeFileSync(csvPath, ['timestamp,open,high,low,close,volume', ...rows].join('\n') + '\n');
    const jsonPath = join(tmp.path, 'BBB-USDT.jsonl');
    writeFileSync(jsonPath, candleRows(3000).map((r) => {
      const [t, o, h, l, c, v] = r.split(',');
      return JSON.stringify({ timestamp: Number(t), open: o, high: Number(h), low: l, close: c, volume: Number(v) });
    }).join('\n') + '\n');
    for (const [path, count] of [[csvPath, 5000], [jsonPath, 3000]] as const) {
      const read = await chunks(path);
      expect(read.length).toBeGreaterThan(1);
      let n = 0;
      for (const { candles, values } of read) {
        candles.forEach((c, k) => {
          const numbers = [...values.subarray(k * VALUES_PER_CANDLE, (k + 1) * VALUES_PER_CANDLE)];
          expect(numbers).toEqual([c.open, c.high, c.low, c.close, c.volume].map(Number));
        });
        n += candles.length;
      }
      expect(n).toBe(count);
    }
  });
});
