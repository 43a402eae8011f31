/**
 * An orphaned position (RISK-9): a position whose symbol was removed from the watchlist keeps its
 * stop-loss. The handlers run against the emulators: a buy of XRP/USDT while it is on the
 * watchlist, then the deployment's watchlist changes (new containers, as after a redeploy or a
 * restart) and a scan with the new list prices XRP in its one ticker request, signals the
 * stop-loss, and the executor sells it on the paper exchange.
 */
import ccxt, { type Exchange as CcxtClient } from 'ccxt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalRuntime } from '../../local-runtime/runtime.js';
import { LOCAL_CREDENTIALS } from '../../local-runtime/stack.js';
import { ccxtClientSettings } from '../../shared/adapters/exchange/ccxt-exchange.js';
import { createContainer } from '../../shared/runtime/container.js';
import { RecordedFetch, recorded } from '../fixtures/binance/recorded-fetch.js';
import { isOpen } from '../../shared/domain/protections.js';
import { loadConfig } from '../../shared/runtime/config.js';
import { ManualClock, startTestStack, type TestStack } from '../support/local-runtime.js';
import { T0, buyIntent, paperOrders, sendIntents } from './exec-support.js';

const ORPHAN = 'XRP/USDT';

describe('Orphaned positions keep their stop-loss (RISK-9)', () => {
  let t: TestStack;
  const clock = new ManualClock(T0);

  beforeAll(async () => {
    t = await startTestStack({
      TW_PAPER_SEED: 'orphaned-position',
      TW_WATCHLIST: `BTC/USDT,ETH/USDT,${ORPHAN}`,
      // Any dip below the price paid (fees included) sells; no take-profit comes first.
      TW_STRATEGY_STOP_LOSS_PERCENT: '0.001',
      TW_STRATEGY_TAKE_PROFIT_PERCENT: '50',
      // No strategy entries get in the way: the drop it waits for never comes.
      TW_STRATEGY_DROP_PERCENT: '90',
    });
  }, 60_000);

  afterAll(async () => {
    await t?.stop();
  });

  it('sells a position at its stop-loss after its symbol left the watchlist, priced by the one ticker request', async () => {
    // Prepare: a position in XRP/USDT bought while XRP is on the watchlist.
    const before = t.runtime({ clock });
    await before.containers.executor.ensureAccount();
    await sendIntents(t, [buyIntent('orphan-buy', clock.now(), { symbol: ORPHAN, quoteAmount: '100' })]);
    await before.drain();
    const bought = await before.containers.executor.accounts.get('USDT');
    expect(isOpen(bought?.positions[ORPHAN])).toBe(true);

    // The watchlist changes: new containers on the same tables and queues, without XRP.
    const config = loadConfig({ ...t.stack.env, TW_WATCHLIST: 'BTC/USDT,ETH/USDT', POWERTOOLS_LOG_LEVEL: 'SILENT' });
    const after = new LocalRuntime(config, t.sqs, { clock });
    try {
      // Act: scans minute by minute until the market dips under the stop (the synthetic walk does within minutes).
      let scan = await after.scan(clock.advance(60_000));
      for (let minute = 0; minute < 120 && scan.signals.length === 0; minute += 1) {
        expect(scan.pairs).toContain(ORPHAN);
        expect(scan.rejectedData.filter((r) => r.symbol === ORPHAN)).toEqual([]);
        scan = await after.scan(clock.advance(60_000));
      }
      const delivered = await after.drain();
      const book = await after.containers.executor.accounts.get('USDT');
      const orders = await paperOrders(after.containers.executor);

      // Assess: XRP was in the scan's list and got a fresh ticker from the same request...
      expect(scan.pairs).toContain(ORPHAN);
      expect(scan.rejectedData.filter((r) => r.symbol === ORPHAN)).toEqual([]);
      // ...its stop-loss fired, and the sell filled on the paper exchange.
      expect(scan.signals).toEqual([expect.objectContaining({ symbol: ORPHAN, side: 'sell', strategy: 'stop-loss' })]);
      expect(delivered).toMatchObject({ received: 1, succeeded: 1, failed: 0 });
      expect(orders.filter((o) => o.symbol === ORPHAN).map((o) => o.status).sort()).toEqual(['closed', 'closed']);
      expect(isOpen(book?.positions[ORPHAN])).toBe(false);
    } finally {
      after.close();
    }
  });

  it('live: the ccxt adapter knows the rules and prices of a market off the watchlist, in the one ticker request (recorded Binance responses)', async () => {
    const http = new RecordedFetch()
      .on('GET', '/api/v3/exchangeInfo', recorded('exchange-info'))
      .on('GET', '/api/v3/time', recorded('time'))
      .on('GET', '/api/v3/ticker/24hr', recorded('ticker-24hr'));
    const client: CcxtClient = new ccxt.binance({ ...ccxtClientSettings({ exchangeId: 'binance', apiKey: 'k', secret: 's', timeoutMs: 5000 }), rateLimit: 1 } as never);
    client.fetchImplementation = http.fetch;
    const live = loadConfig({
      ...t.stack.env,
      TW_MODE: 'live',
      TW_LIVE_TRADING_CONFIRMED: 'true',
      TW_EXCHANGE_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:keys',
      TW_WATCHLIST: 'BTC/USDT',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    });
    const c = createContainer('executor', live, { clock: { now: () => new Date(1772445630000) }, credentials: LOCAL_CREDENTIALS, liveClient: client, circuitBreaker: false });
    try {
      const rules = await c.marketRules('SOL/USDT');
      const tickers = await c.exchange.fetchTickers(['BTC/USDT', 'SOL/USDT']);

      expect(rules).toMatchObject({ symbol: 'SOL/USDT', base: 'SOL', quote: 'USDT' });
      expect(tickers.map((x) => x.symbol)).toEqual(['BTC/USDT', 'SOL/USDT']);
      expect(http.count('GET', '/api/v3/ticker/24hr')).toBe(1);
    } finally {
      c.ddb.destroy();
      c.sqs.destroy();
    }
  });
});
