/**
 * Moving-average crossover: enters when the fast simple moving average of the closes crosses
 * above the slow one on the last closed candle (it was at or below it one candle before), and
 * exits a held position when it crosses below.
 */
import * as z from '../zod-mini.js';
import { sma } from './indicators.js';
import { MAX_CANDLES } from './params.js';
import type { Strategy } from './strategy.js';

export const MA_CROSSOVER = 'ma-crossover';

export const MaCrossoverParamsSchema = z
  .strictObject({
    fastPeriod: z._default(z.number().check(z.int(), z.minimum(1), z.maximum(MAX_CANDLES - 1)), 9),
    slowPeriod: z._default(z.number().check(z.int(), z.minimum(2), z.maximum(MAX_CANDLES - 1)), 21),
  })
  .check(z.refine((p) => p.fastPeriod < p.slowPeriod, { message: 'fastPeriod must be below slowPeriod', path: ['fastPeriod'] }));
export type MaCrossoverParams = z.infer<typeof MaCrossoverParamsSchema>;

export const maCrossover: Strategy<MaCrossoverParams> = {
  name: MA_CROSSOVER,
  description: 'buy when the fast SMA crosses above the slow SMA, sell the position when it crosses below',
  paramsSchema: MaCrossoverParamsSchema,
  // The slow average now and one candle before.
  candlesNeeded: (p) => p.slowPeriod + 1,
  evaluate({ candles, position }, p) {
    const n = candles.length;
    const fastNow = sma(candles, p.fastPeriod, n);
    const slowNow = sma(candles, p.slowPeriod, n);
    const fastBefore = sma(candles, p.fastPeriod, n - 1);
    const slowBefore = sma(candles, p.slowPeriod, n - 1);
    if (!fastNow || !slowNow || !fastBefore || !slowBefore) return null;
    const detail = `SMA${p.fastPeriod} ${fastNow.toDecimalPlaces(8).toFixed()} vs SMA${p.slowPeriod} ${slowNow.toDecimalPlaces(8).toFixed()}`;
    if (!position && fastBefore.lte(slowBefore) && fastNow.gt(slowNow)) return { side: 'buy', reason: `golden cross: ${detail}` };
    if (position && fastBefore.gte(slowBefore) && fastNow.lt(slowNow)) return { side: 'sell', reason: `death cross: ${detail}` };
    return null;
  },
};
