/**
 * The scanner's data gate (DATA-1..5), kill switch (RISK-1) and tunables (OPS-5) on in-memory
 * fakes: bad data of every kind produces no signal and a reason in the result and the report.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ExchangeTransientError, ValidationError } from '../../shared/domain/errors.js';
import type { Candle } from '../../shared/domain/market.js';
import { CandleCache, scanMarket, type ScanDeps } from '../../shared/use-cases/scan-market.js';
import { scanFixture, type ScanFixture } from '../fixtures/scanner-fakes.js';
import { flatCandles } from '../support/fakes.js';

const NOW = new Date('2026-05-01T12:00:30.000Z');
const SLOT = new Date('2026-05-01T12:00:00.000Z');
const MINUTE = 60_000;

describe('Use case: scanMarket (market data, kill switch, tunables)', () => {
  let f: ScanFixture;
  let deps: ScanDeps;

  beforeEach(async () => {
    f = await scanFixture(NOW);
    deps = f.deps;
    // A 30-candle high of 52000 and an ask of 50000: 3.8% below, so price-drop (1.5%) buys.
    f.exchange.candles['BTC/USDT'] = flatCandles(NOW, 30, '50500', '52000');
  });

  it('buys on valid data: the control case for every rejection below', async () => {
    const result = await scanMarket(deps, { slot: SLOT, dryRun: false });
    expect(result.intents).toEqual([expect.objectContaining({ symbol: 'BTC/USDT', side: 'buy', strategy: 'price-drop', quoteAmount: '100' })]);
    expect(f.control.reports.get('scan')).toMatchObject({ failed: false, source: 'synthetic', fresh: 1, symbols: 1, intents: 1 });
  });

  describe('DATA-1, DATA-2: tickers', () => {
    const good = { symbol: 'BTC/USDT', bid: '49990', ask: '50000', last: '49995', volume: '100', timestamp: NOW.getTime() };
    it.each([
      ['stale', { timestamp: NOW.getTime() - 10 * MINUTE }, /^stale: 600 s old$/],
      ['in the future', { timestamp: NOW.getTime() + MINUTE }, /timestamp in the future/],
      ['crossed', { bid: '50010', ask: '50000' }, /crossed book: bid 50010 > ask 50000/],
      ['zero bid', { bid: '0' }, /invalid ticker: bid must be > 0/],
      ['NaN ask', { ask: 'NaN' }, /invalid ticker: ask must be a decimal string/],
      ['empty book', { bid: '', ask: '' }, /invalid ticker: bid .*ask/],
      ['missing ask', { ask: undefined }, /invalid ticker: ask/],
      ['numbers instead of strings', { bid: 49990 }, /invalid ticker: bid/],
      ['exponent', { ask: '5e4' }, /invalid ticker: ask/],
      ['negative', { bid: '-1' }, /invalid ticker: bid/],
      ['NaN timestamp', { timestamp: Number.NaN }, /invalid ticker: timestamp/],
      ['spread too wide', { bid: '40000' }, /spread wider than 0.05/],
      ['last far from the book', { last: '80000' }, /last 80000 far outside the book/],
      ['no volume', { volume: '0' }, /no volume in 24 h/],
    ])('drops a %s ticker with its reason and produces no signal', async (_name, change, reason) => {
      // Prepare
      f.exchange.fetchTickers = async () => [{ ...good, ...change } as never];

      // Act
      const result = await scanMarket(deps, { slot: SLOT, dryRun: false });

      // Assess
      expect(result.signals).toEqual([]);
      expect(f.queue.sent).toEqual([]);
      expect(result.rejectedData).toEqual([{ symbol: 'BTC/USDT', reason: expect.stringMatching(reason) }]);
      expect(f.control.reports.get('scan')).toMatchObject({ fresh: 0, rejectedData: result.rejectedData });
    });

    it('reports a watchlist symbol the exchange returned nothing for', async () => {
      f.exchange.fetchTickers = async () => [];
      const result = await scanMarket(deps, { slot: SLOT, dryRun: false });
      expect(result.rejectedData).toEqual([{ symbol: 'BTC/USDT', reason: 'no ticker returned' }]);
    });
  });

  describe('DATA-3: candles', () => {
    const candles = () => flatCandles(NOW, 30, '50500', '52000');
    const mutate = (fn: (c: Candle[]) => Candle[]) => () => fn(candles());
    it.each([
      ['a gap', mutate((c) => [...c.slice(0, 10), ...c.slice(11)]), /candle gap before 2026-05-01T11:41:00.000Z/, 29],
      ['a duplicate', mutate((c) => [...c.slice(0, 10), c[9] as Candle, ...c.slice(11)]), /out of order or duplicated/, 30],
      ['stale candles', () => flatCandles(new Date(NOW.getTime() - 10 * MINUTE), 30, '50500', '52000'), /stale candles/, 30],
      ['too few candles', () => flatCandles(NOW, 10, '50500', '52000'), /not enough candles: 10 of 30/, 10],
      ['an inconsistent candle', mutate((c) => c.map((k, i) => (i === 5 ? { ...k, high: '1' } : k))), /inconsistent candle/, 30],
      ['a NaN close', mutate((c) => c.map((k, i) => (i === 5 ? { ...k, close: 'NaN' } : k))), /invalid candle: close/, 30],
      ['a candle still forming', () => flatCandles(new Date(NOW.getTime() + MINUTE), 30, '50500', '52000'), /not closed yet/, 30],
    ])('computes nothing across %s and reports it', async (_name, make, reason) => {
      f.exchange.candles['BTC/USDT'] = make();
      const result = await scanMarket(deps, { slot: SLOT, dryRun: false });
      expect(result.signals).toEqual([]);
      expect(result.rejectedData).toEqual([{ symbol: 'BTC/USDT', reason: expect.stringMatching(reason) }]);
      expect(f.control.reports.get('scan')).toMatchObject({ rejectedData: result.rejectedData });
    });
  });

  describe('DATA-4: source and failures', () => {
    it('records the data source in the result and the report', async () => {
      f.exchange.source = 'exchange';
      const result = await scanMarket(deps, { slot: SLOT, dryRun: false });
      expect(result.source).toBe('exchange');
      expect(f.control.reports.get('scan')).toMatchObject({ source: 'exchange' });
    });

    it('refuses a synthetic source in live mode before fetching anything', async () => {
      const fetch = vi.spyOn(f.exchange, 'fetchTickers');
      const live = { ...deps, settings: { ...deps.settings, mode: 'live' as const } };
      await expect(scanMarket(live, { slot: SLOT, dryRun: false })).rejects.toMatchObject({ code: 'SYNTHETIC_DATA_REFUSED' });
      expect(fetch).not.toHaveBeenCalled();
      expect(f.queue.sent).toEqual([]);
    });

    it('fails loudly when tickers cannot be fetched and records the failure for health', async () => {
      f.exchange.fetchTickers = async () => {
        throw new ExchangeTransientError('binance GET ticker/24hr 503');
      };
      await expect(scanMarket(deps, { slot: SLOT, dryRun: false })).rejects.toMatchObject({ code: 'EXCHANGE_TRANSIENT' });
      expect(f.queue.sent).toEqual([]);
      expect(f.control.reports.get('scan')).toEqual({
        at: NOW.toISOString(),
        slot: SLOT.toISOString(),
        source: 'synthetic',
        failed: true,
        error: { code: 'EXCHANGE_TRANSIENT', message: 'binance GET ticker/24hr 503' },
        symbols: 1,
        fresh: 0,
      });
    });

    it('skips and reports a symbol whose candles cannot be fetched, never falling back to other data', async () => {
      f.exchange.fetchCandles = async () => {
        throw new Error('socket hang up');
      };
      const result = await scanMarket(deps, { slot: SLOT, dryRun: false });
      expect(result.signals).toEqual([]);
      expect(f.queue.sent).toEqual([]);
      expect(f.control.reports.get('scan')).toMatchObject({
        failed: false,
        evaluated: 0,
        failedSymbols: [{ symbol: 'BTC/USDT', code: 'INTERNAL', reason: 'socket hang up', attempts: 3 }],
      });
    });

    it('keeps the market data error when the failure report cannot be written either', async () => {
      f.exchange.fetchTickers = async () => {
        throw new ExchangeTransientError('timeout');
      };
      f.control.putReport = async () => {
        throw new Error('DynamoDB throttled');
      };
      await expect(scanMarket(deps, { slot: SLOT, dryRun: false })).rejects.toMatchObject({ code: 'EXCHANGE_TRANSIENT', details: { reportWriteFailed: 'DynamoDB throttled' } });
    });
  });

  describe('DATA-5: requests per scan', () => {
    it('fetches tickers once per scan and candles only when a new candle has closed', async () => {
      // Prepare
      const fx = await scanFixture(NOW, { watchlist: ['BTC/USDT', 'ETH/USDT'] });
      fx.exchange.prices['ETH/USDT'] = { bid: '2999', ask: '3000' };
      fx.exchange.candles['BTC/USDT'] = flatCandles(NOW, 30, '50500', '52000');
      fx.exchange.candles['ETH/USDT'] = flatCandles(NOW, 30, '3000', '3001');
      const tickers = vi.spyOn(fx.exchange, 'fetchTickers');
      const candles = vi.spyOn(fx.exchange, 'fetchCandles');
      let now = NOW;
      const scan = { ...fx.deps, clock: { now: () => now } };

      // Act: two scans in the same minute, one in the next.
      await scanMarket(scan, { slot: SLOT, dryRun: true });
      now = new Date(NOW.getTime() + 20_000);
      const second = await scanMarket(scan, { slot: SLOT, dryRun: true });
      const candleCallsInMinute = candles.mock.calls.length;
      now = new Date(NOW.getTime() + MINUTE);
      fx.exchange.candles['BTC/USDT'] = flatCandles(now, 30, '50500', '52000');
      fx.exchange.candles['ETH/USDT'] = flatCandles(now, 30, '3000', '3001');
      const third = await scanMarket(scan, { slot: new Date(SLOT.getTime() + MINUTE), dryRun: true });

      // Assess
      expect(tickers.mock.calls).toEqual([[['BTC/USDT', 'ETH/USDT']], [['BTC/USDT', 'ETH/USDT']], [['BTC/USDT', 'ETH/USDT']]]);
      expect(candleCallsInMinute).toBe(2);
      expect(second.candleFetches).toBe(0);
      expect(second.signals).toHaveLength(1);
      expect(third.candleFetches).toBe(2);
      expect(candles).toHaveBeenCalledTimes(4);
    });

    it('keeps the candle cache bounded, dropping the least recently used symbol', () => {
      const cache = new CandleCache(2);
      const series = flatCandles(NOW, 3, '1');
      cache.put('A/USDT', series);
      cache.put('B/USDT', series);
      expect(cache.get('A/USDT', 3, NOW)).toBe(series);
      cache.put('C/USDT', series);
      expect(cache.size).toBe(2);
      expect(cache.get('B/USDT', 3, NOW)).toBeUndefined();
      expect(cache.get('A/USDT', 3, NOW)).toBe(series);
      expect(cache.get('A/USDT', 4, NOW)).toBeUndefined();
      expect(cache.get('A/USDT', 3, new Date(NOW.getTime() + MINUTE))).toBeUndefined();
    });

    it('keeps the candle cache bounded in candles too', () => {
      const cache = new CandleCache(100, 10);
      cache.put('A/USDT', flatCandles(NOW, 6, '1'));
      cache.put('B/USDT', flatCandles(NOW, 6, '1'));
      expect(cache.size).toBe(1);
      expect(cache.candles).toBe(6);
      expect(cache.get('A/USDT', 6, NOW)).toBeUndefined();
      cache.put('B/USDT', flatCandles(NOW, 4, '1'));
      expect(cache.candles).toBe(4);
    });
  });

  describe('RISK-1: kill switch', () => {
    it('says it is paused, with the reason, and sends nothing', async () => {
      f.control.pause = { paused: true, reason: 'drill', author: 'ops', since: NOW.toISOString(), until: new Date(NOW.getTime() + MINUTE).toISOString() };
      const fetch = vi.spyOn(f.exchange, 'fetchTickers');
      const result = await scanMarket(deps, { slot: SLOT, dryRun: false });
      expect(result).toMatchObject({ status: 'paused', pauseReason: 'drill', intents: [] });
      expect(fetch).not.toHaveBeenCalled();
      expect(f.queue.sent).toEqual([]);
    });

    it('scans again once the pause has expired', async () => {
      f.control.pause = { paused: true, reason: 'drill', until: new Date(NOW.getTime() - 1).toISOString() };
      expect((await scanMarket(deps, { slot: SLOT, dryRun: false })).status).toBe('scanned');
    });

    it('fails closed when the pause record cannot be read: the scan throws and nothing is sent', async () => {
      f.control.failPauseRead = true;
      const fetch = vi.spyOn(f.exchange, 'fetchTickers');
      await expect(scanMarket(deps, { slot: SLOT, dryRun: false })).rejects.toThrow(/unreadable/);
      expect(fetch).not.toHaveBeenCalled();
      expect(f.queue.sent).toEqual([]);
    });
  });

  describe('OPS-5: tunables', () => {
    it('reads the tunables record once per scan', async () => {
      await scanMarket(deps, { slot: SLOT, dryRun: false });
      expect(f.tunables.reads).toBe(1);
    });

    it('turns a strategy off for one symbol without a redeploy', async () => {
      f.tunables.tunables = { tunables: { strategies: { 'price-drop': { symbols: { 'BTC/USDT': false } } } }, version: 1 };
      const result = await scanMarket(deps, { slot: SLOT, dryRun: false });
      expect(result.signals).toEqual([]);
    });

    it('overrides parameters, order size and limits', async () => {
      f.tunables.tunables = { tunables: { strategies: { 'price-drop': { params: { dropPercent: '5' } } } }, version: 1 };
      expect((await scanMarket(deps, { slot: SLOT, dryRun: true })).signals).toEqual([]);
      f.tunables.tunables = { tunables: { orderQuoteAmount: '250' }, version: 2 };
      expect((await scanMarket(deps, { slot: SLOT, dryRun: true })).intents[0]?.quoteAmount).toBe('250');
      f.tunables.tunables = { tunables: { orderQuoteAmount: '250', maxExposurePerSymbol: '200' }, version: 3 };
      expect((await scanMarket(deps, { slot: SLOT, dryRun: true })).blocked).toEqual([{ symbol: 'BTC/USDT', strategy: 'price-drop', side: 'buy', reason: 'exposure 250 would exceed 200 per symbol' }]);
    });

    it('switches another strategy on for one symbol, with its own parameters and candle needs', async () => {
      f.tunables.tunables = {
        tunables: { strategies: { 'price-drop': { enabled: false }, 'rsi-mean-reversion': { symbols: { 'BTC/USDT': true }, params: { period: 5, lookback: 12 } } } },
        version: 1,
      };
      const falling = flatCandles(NOW, 12, '50000').map((c, i) => ({ ...c, open: String(51200 - i * 100), high: String(51200 - i * 100), low: String(51100 - i * 100), close: String(51100 - i * 100) }));
      f.exchange.candles['BTC/USDT'] = falling;
      const candles = vi.spyOn(f.exchange, 'fetchCandles');
      const result = await scanMarket(deps, { slot: SLOT, dryRun: false });
      expect(candles).toHaveBeenCalledWith('BTC/USDT', 12);
      expect(result.intents).toEqual([expect.objectContaining({ strategy: 'rsi-mean-reversion', side: 'buy', reason: expect.stringMatching(/^RSI5 0 <= 30/) })]);
    });

    it('fails the scan on a tunables record naming an unknown strategy, sending nothing', async () => {
      f.tunables.tunables = { tunables: { strategies: { 'moon-shot': { enabled: true } } }, version: 1 };
      await expect(scanMarket(deps, { slot: SLOT, dryRun: false })).rejects.toBeInstanceOf(ValidationError);
      expect(f.queue.sent).toEqual([]);
    });

    it('fails the scan on invalid strategy parameters', async () => {
      f.tunables.tunables = { tunables: { strategies: { 'ma-crossover': { params: { fastPeriod: 50, slowPeriod: 20 } } } }, version: 1 };
      await expect(scanMarket(deps, { slot: SLOT, dryRun: false })).rejects.toThrow(/fastPeriod must be below slowPeriod/);
    });

    it('fails closed when the tunables cannot be read', async () => {
      f.tunables.failRead = true;
      await expect(scanMarket(deps, { slot: SLOT, dryRun: false })).rejects.toThrow(/tunables unreadable/);
      expect(f.queue.sent).toEqual([]);
    });
  });

  describe('Schedule slots', () => {
    it('scans a slot once: a repeated event for it does nothing, even after the market moved', async () => {
      const first = await scanMarket(deps, { slot: SLOT, dryRun: false });
      f.exchange.prices['BTC/USDT'] = { bid: '40000', ask: '40001' };
      const again = await scanMarket(deps, { slot: SLOT, dryRun: false });
      expect(first.intents).toHaveLength(1);
      expect(again).toMatchObject({ status: 'duplicate', intents: [] });
      expect(f.queue.sent).toHaveLength(1);
      expect(f.tunables.risk.state.lastSlot).toBe(SLOT.toISOString());
    });

    it('does not scan an older slot after a newer one', async () => {
      await scanMarket(deps, { slot: SLOT, dryRun: false });
      expect((await scanMarket(deps, { slot: new Date(SLOT.getTime() - MINUTE), dryRun: false })).status).toBe('duplicate');
      expect((await scanMarket(deps, { slot: new Date(SLOT.getTime() + MINUTE), dryRun: false })).status).toBe('scanned');
    });

    it('runs a slot again whose scan died after claiming it but before its report', async () => {
      f.control.putReport = async () => {
        throw new Error('DynamoDB throttled');
      };
      await expect(scanMarket(deps, { slot: SLOT, dryRun: false })).rejects.toThrow(/throttled/);
      f.control.putReport = async (kind, report) => {
        f.control.reports.set(kind, report);
      };
      const retry = await scanMarket(deps, { slot: SLOT, dryRun: false });
      expect(retry.status).toBe('scanned');
      // The same decision: the same intent id, which the FIFO queue and the executor deduplicate.
      expect(f.queue.sent.map((i) => i.id)).toEqual([retry.intents[0]?.id, retry.intents[0]?.id]);
    });

    it('lets only one of two concurrent scans of a slot send', async () => {
      const results = await Promise.allSettled([scanMarket(deps, { slot: SLOT, dryRun: false }), scanMarket(deps, { slot: SLOT, dryRun: false })]);
      expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
      expect(results.find((r) => r.status === 'rejected')).toMatchObject({ reason: { code: 'CONCURRENT_MODIFICATION' } });
      expect(f.queue.sent).toHaveLength(1);
    });

    it('still answers a dry run for a slot already scanned', async () => {
      await scanMarket(deps, { slot: SLOT, dryRun: false });
      expect((await scanMarket(deps, { slot: SLOT, dryRun: true })).signals).toHaveLength(1);
    });
  });

  describe('Dry run', () => {
    it('returns the signals and intents and writes nothing', async () => {
      const result = await scanMarket(deps, { slot: SLOT, dryRun: true });
      expect(result.signals).toHaveLength(1);
      expect(result.intents).toHaveLength(1);
      expect(f.queue.sent).toEqual([]);
      expect(f.control.reports.get('scan')).toBeUndefined();
      expect(f.tunables.risk.version).toBe(0);
    });
  });
});
