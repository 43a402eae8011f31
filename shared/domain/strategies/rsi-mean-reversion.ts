/**
 * RSI mean reversion: enters when Wilder's RSI of the closes is at or below `oversold`, exits a
 * held position when it is at or above `overbought`. RSI is smoothed, so it takes `lookback`
 * candles (at least `period + 1`) to settle; the default is three periods.
 */
import * as z from '../zod-mini.js';
import { rsi } from './indicators.js';
import { MAX_CANDLES } from './params.js';
import type { Strategy } from './strategy.js';

export const RSI_MEAN_REVERSION = 'rsi-mean-reversion';

const level = z.number().check(z.gt(0), z.lt(100));

export const RsiParamsSchema = z
  .strictObject({
    period: z._default(z.number().check(z.int(), z.minimum(2), z.maximum(200)), 14),
    lookback: z._default(z.number().check(z.int(), z.minimum(3), z.maximum(MAX_CANDLES)), 43),
    oversold: z._default(level, 30),
    overbought: z._default(level, 70),
  })
  .check(
    z.refine((p) => p.lookback >= p.period + 1, { message: 'lookback must be at least period + 1', path: ['lookback'] }),
    z.refine((p) => p.oversold < p.overbought, { message: 'oversold must be below overbought', path: ['oversold'] }),
  );
export type RsiParams = z.infer<typeof RsiParamsSchema>;

export const rsiMeanReversion: Strategy<RsiParams> = {
  name: RSI_MEAN_REVERSION,
  description: 'buy when RSI <= oversold, sell the position when RSI >= overbought',
  paramsSchema: RsiParamsSchema,
  candlesNeeded: (p) => p.lookback,
  evaluate({ candles, position }, p) {
    const value = rsi(candles, p.period);
    if (!value) return null;
    const shown = value.toDecimalPlaces(2).toFixed();
    if (!position && value.lte(p.oversold)) return { side: 'buy', reason: `RSI${p.period} ${shown} <= ${p.oversold}` };
    if (position && value.gte(p.overbought)) return { side: 'sell', reason: `RSI${p.period} ${shown} >= ${p.overbought}` };
    return null;
  },
};
