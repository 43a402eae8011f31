/**
 * DATA-8: the watchlist as a rule. Top N by quote volume from the one ticker request, with a
 * minimum volume, a minimum price, a maximum spread, allow and deny lists; open positions always
 * included; the chosen list recorded with the scan.
 */
import { describe, expect, it } from 'vitest';
import type { Ticker } from '../../shared/domain/market.js';
import { rotationOrder, selectPairs, type PairListRule } from '../../shared/domain/pair-list.js';
import { scanMarket } from '../../shared/use-cases/scan-market.js';
import { scanFixture } from '../fixtures/scanner-fakes.js';
import { flatCandles } from '../support/fakes.js';

const NOW = new Date('2026-05-01T12:00:30.000Z');
const SLOT = new Date('2026-05-01T12:00:00.000Z');

const RULE: PairListRule = { top: 3, quoteCurrency: 'USDT', minQuoteVolume: '0', minPrice: '0', maxSpreadPercent: '0', allow: [], deny: [] };

function ticker(symbol: string, quoteVolume: string, last = '10', bid = '9.99', ask = '10'): Ticker {
  return { symbol, bid, ask, last, volume: '1', quoteVolume, timestamp: NOW.getTime() };
}

const TICKERS = [
  ticker('AAA/USDT', '500'),
  ticker('BBB/USDT', '900'),
  ticker('CCC/USDT', '700'),
  ticker('DDD/USDT', '100'),
  ticker('EEE/BTC', '99999'),
  ticker('FFF/USDT', '800', '0.001', '0.00099', '0.001'),
  ticker('GGG/USDT', '600', '10', '9', '10'),
];

describe('Domain: selectPairs', () => {
  it('takes the top N in the quote currency by quote volume', () => {
    expect(selectPairs(TICKERS, RULE, []).symbols).toEqual(['BBB/USDT', 'FFF/USDT', 'CCC/USDT']);
  });

  it('drops markets below the minimum volume or price, or with a spread wider than the maximum', () => {
    const rule = { ...RULE, top: 10, minQuoteVolume: '200', minPrice: '0.01', maxSpreadPercent: '1' };
    expect(selectPairs(TICKERS, rule, []).symbols).toEqual(['BBB/USDT', 'CCC/USDT', 'AAA/USDT']);
  });

  it('keeps to the allow list and never chooses a denied market', () => {
    expect(selectPairs(TICKERS, { ...RULE, allow: ['AAA/USDT', 'DDD/USDT', 'BBB/USDT'], deny: ['BBB/USDT'] }, []).symbols).toEqual(['AAA/USDT', 'DDD/USDT']);
  });

  it('always includes open positions, even denied or outside the top N', () => {
    const chosen = selectPairs(TICKERS, { ...RULE, top: 1, deny: ['DDD/USDT'] }, ['DDD/USDT', 'BBB/USDT']);
    expect(chosen.symbols).toEqual(['BBB/USDT', 'DDD/USDT']);
    expect(chosen.heldAdded).toEqual(['DDD/USDT']);
  });

  it('computes quote volume from base volume and last price when the exchange gives none', () => {
    const a = { ...ticker('AAA/USDT', ''), volume: '100', last: '2' };
    const b = { ...ticker('BBB/USDT', ''), volume: '10', last: '30' };
    expect(selectPairs([a, b], { ...RULE, top: 1 }, []).symbols).toEqual(['BBB/USDT']);
  });

  it('does not depend on the order of the exchange response for equal volumes', () => {
    const x = [ticker('BBB/USDT', '5'), ticker('AAA/USDT', '5')];
    expect(selectPairs(x, { ...RULE, top: 1 }, []).symbols).toEqual(selectPairs([...x].reverse(), { ...RULE, top: 1 }, []).symbols);
  });
});

describe('Domain: rotationOrder', () => {
  it('visits the symbols not reached last time first, and forgets ones no longer listed', () => {
    expect(rotationOrder(['A', 'B', 'C', 'D'], ['C', 'X', 'D'])).toEqual(['C', 'D', 'A', 'B']);
  });
});

describe('Use case: scanMarket with a pair list rule', () => {
  it('asks for every ticker in one request, scans the chosen pairs plus open positions, and records them', async () => {
    const f = await scanFixture(NOW, { watchlist: [], pairList: { ...RULE, top: 2 } });
    f.exchange.prices = { 'AAA/USDT': { bid: '49990', ask: '50000' }, 'BBB/USDT': { bid: '49990', ask: '50000' }, 'CCC/USDT': { bid: '49990', ask: '50000' }, 'DDD/USDT': { bid: '49990', ask: '50000' } };
    const volumes: Record<string, string> = { 'AAA/USDT': '300', 'BBB/USDT': '100', 'CCC/USDT': '200', 'DDD/USDT': '50' };
    const inner = f.exchange.fetchTickers.bind(f.exchange);
    const requests: (readonly string[] | undefined)[] = [];
    f.exchange.fetchTickers = async (symbols) => {
      requests.push(symbols);
      return (await inner(symbols)).map((t) => ({ ...t, quoteVolume: volumes[t.symbol] ?? '0' }));
    };
    for (const s of Object.keys(volumes)) f.exchange.candles[s] = flatCandles(NOW, 30, '50500', '52000');
    await f.accounts.update('USDT', (b) => ({ ...b, positions: { ...b.positions, 'DDD/USDT': { symbol: 'DDD/USDT', qty: '0.01', avgPrice: '50000', realizedPnl: '0' } } }));

    const result = await scanMarket(f.deps, { slot: SLOT, dryRun: false });

    expect(requests).toEqual([undefined]);
    expect(result.pairs).toEqual(['AAA/USDT', 'CCC/USDT', 'DDD/USDT']);
    expect(result.signals.map((s) => s.symbol).sort()).toEqual(['AAA/USDT', 'CCC/USDT']);
    expect(f.control.reports.get('scan')).toMatchObject({ pairList: 'rule', pairs: ['AAA/USDT', 'CCC/USDT', 'DDD/USDT'], symbols: 3 });
  });

  it('adds open positions to a fixed watchlist too', async () => {
    const f = await scanFixture(NOW, { watchlist: ['BTC/USDT'] });
    f.exchange.prices['ETH/USDT'] = { bid: '2999', ask: '3000' };
    await f.accounts.update('USDT', (b) => ({ ...b, positions: { ...b.positions, 'ETH/USDT': { symbol: 'ETH/USDT', qty: '0.1', avgPrice: '4000', realizedPnl: '0' } } }));
    f.exchange.candles['BTC/USDT'] = flatCandles(NOW, 30, '50000');
    f.exchange.candles['ETH/USDT'] = flatCandles(NOW, 30, '3000');
    const result = await scanMarket(f.deps, { slot: SLOT, dryRun: true });
    expect(result.pairs).toEqual(['BTC/USDT', 'ETH/USDT']);
    expect(result.signals).toMatchObject([{ symbol: 'ETH/USDT', side: 'sell', strategy: 'stop-loss' }]);
  });
});
