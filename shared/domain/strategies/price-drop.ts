/**
 * Buys after the price fell `dropPercent` below the highest high of the last `lookbackCandles`
 * closed candles; sells the whole position once the bid is `takeProfitPercent` above the average
 * entry price, or cut it once the bid is `stopLossPercent` below. The reference bots' core idea,
 * kept deliberately simple.
 */
import { dec } from '../money.js';
import type { Strategy } from './strategy.js';

export interface PriceDropParams {
  readonly dropPercent: string;
  readonly lookbackCandles: number;
  readonly takeProfitPercent: string;
  readonly stopLossPercent: string;
  readonly orderQuoteAmount: string;
}

export const PRICE_DROP = 'price-drop';

export const priceDrop: Strategy<PriceDropParams> = {
  name: PRICE_DROP,
  candlesNeeded: (p) => p.lookbackCandles,
  evaluate({ ticker, candles, position }, p) {
    const held = position ? dec(position.qty) : dec('0');
    if (held.gt(0) && position) {
      const target = dec(position.avgPrice).times(dec('1').plus(dec(p.takeProfitPercent).div('100')));
      if (dec(ticker.bid).gte(target)) {
        return [{ strategy: PRICE_DROP, symbol: ticker.symbol, side: 'sell', amount: position.qty, reason: `bid ${ticker.bid} >= take-profit ${target.toFixed()}` }];
      }
      const stop = dec(position.avgPrice).times(dec('1').minus(dec(p.stopLossPercent).div('100')));
      if (dec(ticker.bid).lte(stop)) {
        return [{ strategy: PRICE_DROP, symbol: ticker.symbol, side: 'sell', amount: position.qty, reason: `bid ${ticker.bid} <= stop-loss ${stop.toFixed()}` }];
      }
      return [];
    }
    if (candles.length === 0) return [];
    const high = candles.reduce((m, c) => (dec(c.high).gt(m) ? dec(c.high) : m), dec('0'));
    const trigger = high.times(dec('1').minus(dec(p.dropPercent).div('100')));
    if (dec(ticker.ask).lte(trigger)) {
      return [{ strategy: PRICE_DROP, symbol: ticker.symbol, side: 'buy', quoteAmount: p.orderQuoteAmount, reason: `ask ${ticker.ask} <= ${p.dropPercent}% below high ${high.toFixed()}` }];
    }
    return [];
  },
};
