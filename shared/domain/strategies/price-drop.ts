/**
 * Buys after the ask fell `dropPercent` below the highest high of the last `lookbackCandles`
 * closed candles. The reference bots' core idea, kept deliberately simple. It only enters:
 * exits come from the generic stop-loss / take-profit protection (RISK-4), which applies to every
 * position whichever strategy opened it.
 *
 * It is incremental (strategy.ts): the highest high is a rolling maximum, and an ask clearly above
 * or clearly below the trigger (by far more than a double's rounding) is decided on numbers; every
 * case near the trigger is decided in decimal arithmetic, so the decision is the exact decimal one.
 */
import * as z from '../zod-mini.js';
import { dec } from '../money.js';
import { candleCount, percent } from './params.js';
import { RollingMax } from './rolling-max.js';
import type { Strategy, StrategyEvaluator } from './strategy.js';

export const PRICE_DROP = 'price-drop';

export const PriceDropParamsSchema = z.strictObject({
  dropPercent: z._default(percent, '1.5'),
  lookbackCandles: z._default(candleCount, 30),
});
export type PriceDropParams = z.infer<typeof PriceDropParamsSchema>;

/** Relative margin between the ask and the trigger, as numbers, beyond which no decimal check is needed. */
const NUMERIC_MARGIN = 1e-9;

function priceDropEvaluator(p: PriceDropParams): StrategyEvaluator {
  const highs = new RollingMax(p.lookbackCandles);
  const factor = 1 - Number(p.dropPercent) / 100;
  // The high as the decimal rule writes it (`dec(text).toFixed()`), for the last high written:
  // the maximum stays the same text over many candles, and a signal is asked for again and again.
  let writtenOf: string | undefined;
  let written = '';
  return {
    push: (candle) => highs.push(candle.high),
    decide(ticker, position) {
      if (position || highs.empty) return null;
      const ask = Number(ticker.ask);
      const bound = highs.maxNum() * factor;
      if (ask > bound * (1 + NUMERIC_MARGIN)) return null;
      const text = highs.maxText()!;
      // Clearly below the trigger on numbers too: a buy, with the high written as the decimal rule writes it.
      if (ask < bound * (1 - NUMERIC_MARGIN)) {
        if (writtenOf !== text) {
          written = dec(text).toFixed();
          writtenOf = text;
        }
        return { side: 'buy', reason: `ask ${ticker.ask} <= ${p.dropPercent}% below high ${written}` };
      }
      const high = dec(text);
      const trigger = high.times(dec('1').minus(dec(p.dropPercent).div('100')));
      if (dec(ticker.ask).lte(trigger)) {
        return { side: 'buy', reason: `ask ${ticker.ask} <= ${p.dropPercent}% below high ${high.toFixed()}` };
      }
      return null;
    },
  };
}

export const priceDrop: Strategy<PriceDropParams> = {
  name: PRICE_DROP,
  description: 'buy when the ask is dropPercent below the highest high of the last lookbackCandles candles',
  paramsSchema: PriceDropParamsSchema,
  candlesNeeded: (p) => p.lookbackCandles,
  evaluate({ ticker, candles, position }, p) {
    const evaluator = priceDropEvaluator(p);
    for (const candle of candles) evaluator.push(candle);
    return evaluator.decide(ticker, position);
  },
  evaluator: priceDropEvaluator,
};
