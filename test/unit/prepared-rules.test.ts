/**
 * The per-position rules prepared once (`protectiveLevels`, `dustTest`): at any price they decide
 * what the plain decimal rule decides, also where a number alone could not tell (a bid exactly at
 * a level, a notional exactly at the minimum). The references below are the rules in decimal
 * arithmetic only.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { dustTest } from '../../shared/domain/entry-limits.js';
import type { MarketRules, Ticker } from '../../shared/domain/market.js';
import { checkCandles } from '../../shared/domain/market-validation.js';
import { Decimal, dec, str } from '../../shared/domain/money.js';
import type { Position } from '../../shared/domain/position.js';
import { roundAmount } from '../../shared/domain/precision.js';
import { protectiveExit, protectiveLevels } from '../../shared/domain/protections.js';

const decimal = (min: number, max: number, scale: number) => fc.integer({ min: min * 10 ** scale, max: max * 10 ** scale }).map((n) => str(dec(String(n)).div(String(10 ** scale))));
const percent = fc.constantFrom('0.5', '1', '2', '3', '1.5', '0.01');

function ticker(bid: string): Ticker {
  return { symbol: 'BTC/USDT', bid, ask: bid, last: bid, volume: '1', timestamp: 0 };
}

function naiveExit(position: Position, bid: string, stopLossPercent: string, takeProfitPercent: string) {
  if (!dec(position.qty).gt(0)) return null;
  const avg = dec(position.avgPrice);
  if (avg.lte(0)) return null;
  const stop = avg.times(dec('1').minus(dec(stopLossPercent).div(100)));
  if (dec(bid).lte(stop)) return { protection: 'stop-loss', reason: `bid ${bid} <= stop-loss ${str(stop)} (${stopLossPercent}% below ${position.avgPrice})` };
  const target = avg.times(dec('1').plus(dec(takeProfitPercent).div(100)));
  if (dec(bid).gte(target)) return { protection: 'take-profit', reason: `bid ${bid} >= take-profit ${str(target)} (${takeProfitPercent}% above ${position.avgPrice})` };
  return null;
}

function naiveDust(position: Position, rules: MarketRules, price: string): boolean {
  if (dec(position.qty).lte(0)) return false;
  const amount = dec(roundAmount(position.qty, rules.amountStep));
  if (amount.lte(0)) return true;
  if (rules.minAmount && amount.lt(rules.minAmount)) return true;
  return rules.minNotional !== undefined && amount.times(price).lt(rules.minNotional);
}

describe('Prepared position rules', () => {
  describe('Method: protectiveLevels', () => {
    it('decides as the decimal stop-loss / take-profit rule, at the levels and around them', () => {
      fc.assert(
        fc.property(decimal(0, 5, 4), decimal(1, 70000, 2), percent, percent, decimal(1, 70000, 2), (qty, avgPrice, stopLossPercent, takeProfitPercent, bid) => {
          const position: Position = { symbol: 'BTC/USDT', qty, avgPrice, realizedPnl: '0' };
          const settings = { stopLossPercent, takeProfitPercent };
          const levels = protectiveLevels(position, settings);
          const stop = str(dec(avgPrice).times(dec('1').minus(dec(stopLossPercent).div(100))));
          const target = str(dec(avgPrice).times(dec('1').plus(dec(takeProfitPercent).div(100))));
          for (const b of [bid, stop, target, str(dec(stop).plus('0.000000000001')), str(dec(target).minus('0.000000000001'))]) {
            expect(levels(ticker(b))).toEqual(naiveExit(position, b, stopLossPercent, takeProfitPercent));
            expect(protectiveExit(position, ticker(b), settings)).toEqual(naiveExit(position, b, stopLossPercent, takeProfitPercent));
          }
        }),
      );
    });
  });

  describe('Method: dustTest', () => {
    it('decides as the decimal dust rule, with the notional at the minimum and around it', () => {
      fc.assert(
        fc.property(decimal(0, 2, 6), fc.constantFrom('0.00001', '0.001', '1'), fc.constantFrom(undefined, '0.0001', '0.01'), fc.constantFrom(undefined, '5', '10'), decimal(1, 70000, 2), (qty, amountStep, minAmount, minNotional, price) => {
          const position: Position = { symbol: 'BTC/USDT', qty, avgPrice: '1', realizedPnl: '0' };
          const rules = { symbol: 'BTC/USDT', base: 'BTC', quote: 'USDT', amountStep, priceTick: '0.01', ...(minAmount ? { minAmount } : {}), ...(minNotional ? { minNotional } : {}) } satisfies MarketRules;
          const test = dustTest(position, rules);
          const amount = dec(roundAmount(qty, amountStep));
          const atMinimum = minNotional && amount.gt(0) ? str(dec(minNotional).div(amount)) : price;
          for (const p of [price, atMinimum, str(dec(atMinimum).plus('0.0000000001'))]) expect(test(p)).toBe(naiveDust(position, rules, p));
        }),
      );
    });
  });

  describe('Method: checkCandles (OHLC consistency)', () => {
    it('accepts and refuses a candle as the decimal rule does, with values a double cannot tell apart', () => {
      // 18 decimals: beyond a double's precision, within the schema's.
      const value = fc.constantFrom('1', '1.0', '1.000000000000000001', '0.999999999999999999', '2', '0.5');
      fc.assert(
        fc.property(value, value, value, value, (open, high, low, close) => {
          const candle = { openTime: 60_000, open, high, low, close, volume: '1' };
          const consistent = !dec(high).lt(Decimal.max(open, close)) && !dec(low).gt(Decimal.min(open, close));
          expect(checkCandles([candle], new Date(120_000), 60_000).ok).toBe(consistent);
        }),
      );
    });
  });
});
