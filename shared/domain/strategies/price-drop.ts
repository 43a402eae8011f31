/**
 * Buys after the ask fell `dropPercent` below the highest high of the last `lookbackCandles`
 * closed candles. The reference bots' core idea, kept deliberately simple. It only enters:
 * exits come from the generic stop-loss / take-profit protection (RISK-4), which applies to every
 * position whichever strategy opened it.
 */
import * as z from 'zod';
import { Decimal, dec } from '../money.js';
import { candleCount, percent } from './params.js';
import type { Strategy } from './strategy.js';

export const PRICE_DROP = 'price-drop';

export const PriceDropParamsSchema = z
  .object({
    dropPercent: percent.default('1.5'),
    lookbackCandles: candleCount.default(30),
  })
  .strict();
export type PriceDropParams = z.infer<typeof PriceDropParamsSchema>;

export const priceDrop: Strategy<PriceDropParams> = {
  name: PRICE_DROP,
  description: 'buy when the ask is dropPercent below the highest high of the last lookbackCandles candles',
  paramsSchema: PriceDropParamsSchema,
  candlesNeeded: (p) => p.lookbackCandles,
  evaluate({ ticker, candles, position }, p) {
    if (position || candles.length === 0) return null;
    const high = Decimal.max(...candles.map((c) => c.high));
    const trigger = high.times(dec('1').minus(dec(p.dropPercent).div('100')));
    if (dec(ticker.ask).lte(trigger)) {
      return { side: 'buy', reason: `ask ${ticker.ask} <= ${p.dropPercent}% below high ${high.toFixed()}` };
    }
    return null;
  },
};
