/**
 * RISK-9 in `ops status`: a position worth less than its market's minimum order is listed as
 * dust, priced in the same ticker request as the watchlist even when its symbol left the
 * watchlist, and the text status marks it.
 */
import { describe, expect, it } from 'vitest';
import { renderStatus } from '../../operator/status-text.js';
import { collectStatus } from '../../shared/operations/status.js';
import type { Config } from '../../shared/runtime/config.js';
import type { Ticker } from '../../shared/domain/market.js';
import { InMemoryTunablesStore } from '../fixtures/scanner-fakes.js';
import { FakeExchange, InMemoryAccountStore, InMemoryControlStore, InMemoryHeartbeatStore, InMemoryOrderStore } from '../support/fakes.js';

const NOW = new Date('2026-05-01T12:00:30.000Z');

describe('Operation: collectStatus (dust, RISK-9)', () => {
  it('lists dust positions, including one off the watchlist, priced by the one ticker request', async () => {
    // Prepare: BTC on the watchlist holds 0.0001 (4.999 USDT at the bid, under the 10 minimum);
    // SOL left the watchlist and holds 2 (180 USDT); ETH holds 0.01 (29.99 USDT).
    // Only the fields status reads.
    const config = { mode: 'paper', quoteCurrency: 'USDT', watchlist: ['BTC/USDT', 'ETH/USDT'] } as unknown as Config;
    const exchange = new FakeExchange();
    exchange.prices['ETH/USDT'] = { bid: '2999', ask: '3000' };
    exchange.prices['SOL/USDT'] = { bid: '90', ask: '90.1' };
    const requests: (readonly string[] | undefined)[] = [];
    const fetchTickers = exchange.fetchTickers.bind(exchange);
    exchange.fetchTickers = async (symbols?: readonly string[]): Promise<Ticker[]> => {
      requests.push(symbols);
      return fetchTickers(symbols);
    };
    const accounts = new InMemoryAccountStore();
    await accounts.open('USDT', '1000', NOW);
    const position = (symbol: string, qty: string, avgPrice: string) => ({ symbol, qty, avgPrice, realizedPnl: '0' });
    await accounts.update('USDT', (b) => ({
      ...b,
      positions: { 'BTC/USDT': position('BTC/USDT', '0.0001', '60000'), 'SOL/USDT': position('SOL/USDT', '2', '100'), 'ETH/USDT': position('ETH/USDT', '0.01', '3000') },
    }));

    // Act
    const status = await collectStatus({
      config,
      clock: { now: () => NOW },
      accounts,
      exchange,
      orders: new InMemoryOrderStore(),
      heartbeats: new InMemoryHeartbeatStore(),
      control: new InMemoryControlStore(),
      tunables: new InMemoryTunablesStore(),
    });

    // Assess
    expect(requests).toEqual([['BTC/USDT', 'ETH/USDT', 'SOL/USDT']]);
    expect(status.dust).toEqual(['BTC/USDT']);
    expect(status.prices['SOL/USDT']).toBe('90');
    const text = renderStatus(status).join('\n');
    expect(text).toMatch(/BTC\/USDT \(dust\)/);
    expect(text).not.toMatch(/ETH\/USDT \(dust\)|SOL\/USDT \(dust\)/);
  });
});
