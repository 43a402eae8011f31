import { describe, it, expect } from 'vitest';
import { SyntheticMarket } from '../../shared/adapters/paper/synthetic-market.js';
import { ExchangeRejectedError } from '../../shared/domain/errors.js';
import { cmp, dec, div, sub } from '../../shared/domain/money.js';

const AT = new Date('2026-03-14T15:09:26.535Z');
const MINUTE = 60_000;
const DAY = 86_400_000;

function isMultipleOf(value: string, step: string): boolean {
  return dec(value).mod(step).isZero();
}

describe('Class: SyntheticMarket', () => {
  describe('Method: ticker', () => {
    it('returns the same ticker from separate instances with the same seed', () => {
      const a = new SyntheticMarket({ seed: 'alpha' });
      const b = new SyntheticMarket({ seed: 'alpha' });
      // Warm one instance's memo on other times first: the memo must not change results.
      a.candles('BTC/USDT', new Date(AT.getTime() + 3 * DAY), 300);

      for (const symbol of ['BTC/USDT', 'ETH/USDT', 'SOL/USDT', 'ETH/BTC']) {
        expect(a.ticker(symbol, AT)).toEqual(b.ticker(symbol, AT));
      }
    });

    it('gives different prices for different seeds', () => {
      const a = new SyntheticMarket({ seed: 'alpha' });
      const b = new SyntheticMarket({ seed: 'beta' });

      const differing = ['BTC/USDT', 'ETH/USDT', 'SOL/USDT'].filter((s) => a.price(s, AT) !== b.price(s, AT));

      expect(differing).toHaveLength(3);
    });

    it('quotes bid below ask with the last price between them, on the tick', () => {
      const market = new SyntheticMarket({ seed: 'alpha' });
      for (const symbol of ['BTC/USDT', 'ETH/USDT', 'DOGE/USDT', 'ETH/BTC', 'USDC/USDT']) {
        const { priceTick } = market.rules(symbol);
        for (let i = 0; i < 50; i += 1) {
          const at = new Date(AT.getTime() + i * 7_777_777);
          const t = market.ticker(symbol, at);

          expect(cmp(t.bid, t.ask)).toBe(-1);
          expect(cmp(t.bid, t.last)).toBeLessThanOrEqual(0);
          expect(cmp(t.last, t.ask)).toBeLessThanOrEqual(0);
          expect(cmp(t.volume, '0')).toBe(1);
          expect(t.timestamp).toBe(at.getTime());
          expect(t.symbol).toBe(symbol);
          for (const p of [t.bid, t.ask, t.last]) expect(isMultipleOf(p, priceTick)).toBe(true);
        }
      }
    });

    it('keeps a spread of a few basis points', () => {
      const t = new SyntheticMarket({ seed: 'alpha' }).ticker('BTC/USDT', AT);

      const spread = Number(div(sub(t.ask, t.bid), t.last));

      expect(spread).toBeGreaterThan(0.0001);
      expect(spread).toBeLessThan(0.001);
    });

    it('anchors BTC near 60000 and ETH near 3000', () => {
      const market = new SyntheticMarket({ seed: 'alpha' });

      expect(Number(market.price('BTC/USDT', AT))).toBeGreaterThan(30_000);
      expect(Number(market.price('BTC/USDT', AT))).toBeLessThan(120_000);
      expect(Number(market.price('ETH/USDT', AT))).toBeGreaterThan(1_500);
      expect(Number(market.price('ETH/USDT', AT))).toBeLessThan(6_000);
    });

    it('returns the ticker last price from price()', () => {
      const market = new SyntheticMarket({ seed: 'alpha' });

      expect(market.price('ETH/USDT', AT)).toBe(market.ticker('ETH/USDT', AT).last);
    });

    it('rejects a malformed symbol as bad-symbol', () => {
      const market = new SyntheticMarket({ seed: 'alpha' });
      for (const symbol of ['BTCUSDT', 'btc/usdt', 'B/USDT', 'BTC/USDT/X', '', 'BTC/BTC']) {
        expect(() => market.ticker(symbol, AT)).toThrow(ExchangeRejectedError);
        try {
          market.ticker(symbol, AT);
        } catch (error) {
          expect((error as ExchangeRejectedError).reason).toBe('bad-symbol');
        }
      }
    });
  });

  describe('Method: price over time', () => {
    it('moves from minute to minute by about a tenth of a percent', () => {
      const market = new SyntheticMarket({ seed: 'alpha' });
      const moves: number[] = [];
      let previous = market.price('BTC/USDT', AT);
      for (let i = 1; i <= 2_000; i += 1) {
        const price = market.price('BTC/USDT', new Date(AT.getTime() + i * MINUTE));
        moves.push(Math.abs(Number(div(price, previous)) - 1));
        previous = price;
      }
      moves.sort((x, y) => x - y);
      const median = moves[moves.length / 2] ?? 0;

      expect(median).toBeGreaterThan(0.0005);
      expect(median).toBeLessThan(0.004);
      expect(new Set(moves).size).toBeGreaterThan(1_000);
    });

    it('moves continuously within a minute: one second never jumps far', () => {
      const market = new SyntheticMarket({ seed: 'alpha' });
      let previous = Number(market.price('ETH/USDT', AT));
      for (let i = 1; i <= 3_600; i += 1) {
        const price = Number(market.price('ETH/USDT', new Date(AT.getTime() + i * 1_000)));

        expect(Math.abs(price / previous - 1)).toBeLessThan(0.003);
        previous = price;
      }
    });

    it('stays within a sane band of its base price over a year (mean reversion)', () => {
      const market = new SyntheticMarket({ seed: 'alpha' });
      const prices: number[] = [];
      for (let h = 0; h < 365 * 24; h += 1) prices.push(Number(market.price('BTC/USDT', new Date(AT.getTime() + h * 3_600_000))));

      expect(Math.min(...prices)).toBeGreaterThan(60_000 * 0.4);
      expect(Math.max(...prices)).toBeLessThan(60_000 * 2.5);
    });
  });

  describe('Method: candles', () => {
    it('returns closed one-minute candles aligned to the minute, oldest first, the last closed at or before until', () => {
      const market = new SyntheticMarket({ seed: 'alpha' });

      const candles = market.candles('BTC/USDT', AT, 100);

      expect(candles).toHaveLength(100);
      const last = candles[candles.length - 1];
      expect(last?.openTime).toBe(Math.floor(AT.getTime() / MINUTE) * MINUTE - MINUTE);
      expect((last?.openTime ?? 0) + MINUTE).toBeLessThanOrEqual(AT.getTime());
      candles.forEach((c, i) => {
        expect(c.openTime % MINUTE).toBe(0);
        if (i > 0) expect(c.openTime - (candles[i - 1]?.openTime ?? 0)).toBe(MINUTE);
      });
    });

    it('includes the candle that closed exactly at until', () => {
      const market = new SyntheticMarket({ seed: 'alpha' });
      const boundary = new Date(Math.floor(AT.getTime() / MINUTE) * MINUTE);

      const [candle] = market.candles('BTC/USDT', boundary, 1);

      expect(candle?.openTime).toBe(boundary.getTime() - MINUTE);
    });

    it('keeps OHLC consistent: high at or above open and close, low at or below, positive volume', () => {
      const market = new SyntheticMarket({ seed: 'alpha' });
      for (const symbol of ['BTC/USDT', 'ETH/USDT', 'DOGE/USDT']) {
        for (const c of market.candles(symbol, AT, 500)) {
          expect(cmp(c.high, c.open)).toBeGreaterThanOrEqual(0);
          expect(cmp(c.high, c.close)).toBeGreaterThanOrEqual(0);
          expect(cmp(c.low, c.open)).toBeLessThanOrEqual(0);
          expect(cmp(c.low, c.close)).toBeLessThanOrEqual(0);
          expect(cmp(c.volume, '0')).toBe(1);
        }
      }
    });

    it('agrees with the walk: open is the price at the open time, close the price in the last second', () => {
      const market = new SyntheticMarket({ seed: 'alpha' });

      for (const c of market.candles('ETH/USDT', AT, 30)) {
        expect(c.open).toBe(market.price('ETH/USDT', new Date(c.openTime)));
        expect(c.close).toBe(market.price('ETH/USDT', new Date(c.openTime + MINUTE - 1)));
      }
    });

    it('returns the same candles from separate instances with the same seed', () => {
      const a = new SyntheticMarket({ seed: 'alpha' }).candles('SOL/USDT', AT, 50);
      const b = new SyntheticMarket({ seed: 'alpha' }).candles('SOL/USDT', AT, 50);

      expect(a).toEqual(b);
    });

    it('rejects a limit outside 1..1000', () => {
      const market = new SyntheticMarket({ seed: 'alpha' });

      expect(() => market.candles('BTC/USDT', AT, 0)).toThrow(ExchangeRejectedError);
      expect(() => market.candles('BTC/USDT', AT, 1001)).toThrow(ExchangeRejectedError);
      expect(() => market.candles('BTC/USDT', AT, 1.5)).toThrow(ExchangeRejectedError);
    });
  });

  describe('Method: rules', () => {
    it('gives positive steps, a 5 USD minimum notional and limits independent of the seed', () => {
      const rules = new SyntheticMarket({ seed: 'alpha' }).rules('BTC/USDT');

      expect(rules).toEqual(new SyntheticMarket({ seed: 'beta' }).rules('BTC/USDT'));
      expect(rules).toMatchObject({ symbol: 'BTC/USDT', base: 'BTC', quote: 'USDT', minNotional: '5' });
      expect(cmp(rules.amountStep, '0')).toBe(1);
      expect(cmp(rules.priceTick, '0')).toBe(1);
      expect(rules.minAmount).toBe(rules.amountStep);
    });

    it('gives an amount step worth well under the minimum notional', () => {
      const market = new SyntheticMarket({ seed: 'alpha' });
      for (const symbol of ['BTC/USDT', 'ETH/USDT', 'DOGE/USDT', 'PEPE/USDT']) {
        const rules = market.rules(symbol);
        const stepValue = dec(rules.amountStep).times(market.price(symbol, AT));

        expect(stepValue.lt(rules.minNotional ?? '0')).toBe(true);
      }
    });
  });

  it('serves a thousand tickers across a year, memo churn included, identical to a fresh instance (time logged, not asserted)', () => {
    const market = new SyntheticMarket({ seed: 'alpha' });
    const symbols = ['BTC/USDT', 'ETH/USDT', 'SOL/USDT', 'DOGE/USDT', 'XRP/USDT'];
    const times = Array.from({ length: 1_000 }, (_, i) => new Date(AT.getTime() + i * 31_557_000));
    const started = performance.now();
    const tickers = times.map((at, i) => market.ticker(symbols[i % symbols.length] ?? 'BTC/USDT', at));
    const elapsedMs = performance.now() - started;
    console.info(`synthetic market: 1000 tickers in ${elapsedMs.toFixed(1)} ms`);

    const fresh = new SyntheticMarket({ seed: 'alpha' });
    for (let i = 0; i < 1_000; i += 97) {
      expect(tickers[i]).toEqual(fresh.ticker(symbols[i % symbols.length] ?? 'BTC/USDT', times[i] ?? AT));
    }
  });
});
