/**
 * Paper trading on the exchange's real public market data (DATA-6), proven with recorded Binance
 * responses fed through ccxt's real parsing (the client's `fetchImplementation` is replaced;
 * nothing leaves the process): the paper exchange's books in the DynamoDB emulator, its market
 * from the live adapter without keys, and the scanner on it through the local runtime.
 */
import ccxt, { type Exchange as CcxtClient } from 'ccxt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CcxtExchange, ccxtClientSettings } from '../../shared/adapters/exchange/ccxt-exchange.js';
import { classifyExchangeError } from '../../shared/adapters/exchange/classify-exchange-error.js';
import { ExchangePaperMarket } from '../../shared/adapters/paper/exchange-paper-market.js';
import { PaperExchange } from '../../shared/adapters/paper/paper-exchange.js';
import { ErrorCode, TradewardenError } from '../../shared/domain/errors.js';
import type { Clock } from '../../shared/ports/clock.js';
import { createTables } from '../../local-runtime/provision.js';
import { RecordedFetch, recorded, type RecordedResponse } from '../fixtures/binance/recorded-fetch.js';
import { startTestDynamo, type TestDynamo } from '../support/emulators.js';
import { ManualClock, startTestStack, type TestStack } from '../support/local-runtime.js';

/** 2026-03-02T10:00:30Z: the fixtures' "now" (the 10:00 candle is still forming). */
const T0 = 1772445630000;
const MINUTE = 60_000;
/** 10:01:00, the first whole minute after an order placed at T0. */
const NEXT_MINUTE = 1772445660000;
const SYMBOL = 'BTC/USDT';

function publicRoutes(): RecordedFetch {
  return new RecordedFetch()
    .on('GET', '/api/v3/exchangeInfo', recorded('exchange-info'))
    .on('GET', '/api/v3/time', recorded('time'))
    .on('GET', '/api/v3/ticker/24hr', recorded('ticker-24hr'))
    .on('GET', '/api/v3/klines', recorded('klines-btcusdt'));
}

/** The production client settings without keys, ccxt's limiter refilling fast so replies are not spaced out. */
function publicClient(http: RecordedFetch): CcxtClient {
  const client = new ccxt.binance({ ...ccxtClientSettings({ exchangeId: 'binance', timeoutMs: 5000 }), rateLimit: 1 } as never);
  client.fetchImplementation = http.fetch;
  return client;
}

/** A Binance klines response (the documented row layout) of one-minute candles opening at `openTime`. */
function klines(rows: ReadonlyArray<{ openTime: number; low: string; high: string; volume: string }>): RecordedResponse {
  const shape = recorded('klines-btcusdt');
  return {
    ...shape,
    body: rows.map((r) => [r.openTime, '65100.00000000', r.high, r.low, '65100.00000000', r.volume, r.openTime + MINUTE - 1, '0', 10, '0', '0', '0']),
  };
}

const unreachable = { fail: new TypeError('fetch failed: getaddrinfo ENOTFOUND api.binance.com') };

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return error instanceof TradewardenError ? error.code : `not coded: ${String(error)}`;
  }
  return 'resolved';
}

describe('PaperExchange on the exchange\'s public market data (DATA-6, recorded Binance responses)', () => {
  let dynamo: TestDynamo;
  let tables = 0;

  beforeAll(async () => {
    dynamo = await startTestDynamo();
  }, 30_000);

  afterAll(async () => {
    await dynamo?.stop();
  });

  async function paperOn(http: RecordedFetch, clock: Clock): Promise<PaperExchange> {
    tables += 1;
    const table = (await createTables(dynamo.client, `real${tables}`)).PaperExchangeTable ?? '';
    const live = new CcxtExchange({ client: publicClient(http), classify: classifyExchangeError, clock, timeoutMs: 5000, onHousekeepingError: () => undefined });
    return new PaperExchange({ doc: dynamo.doc, table, market: new ExchangePaperMarket(live), clock, feeRate: '0.001', initialBalances: { USDT: '10000' }, symbols: [SYMBOL] });
  }

  it('prices from the exchange: its markets, tickers and candles, and says its source is the exchange', async () => {
    const http = publicRoutes();
    const paper = await paperOn(http, new ManualClock(new Date(T0)));

    const markets = await paper.loadMarkets();
    const [ticker] = await paper.fetchTickers([SYMBOL]);
    const candles = await paper.fetchCandles(SYMBOL, 5);

    expect(paper.source).toBe('exchange');
    expect(Object.keys(markets)).toEqual(['BTC/USDT', 'ETH/USDT', 'SOL/USDT']);
    expect(ticker).toMatchObject({ symbol: SYMBOL, bid: '65234.49', ask: '65234.5', last: '65234.5' });
    // The last five closed candles: 09:55 .. 09:59 (the 10:00 one is still forming at 10:00:30).
    expect(candles.map((c) => c.openTime)).toEqual([4, 3, 2, 1, 0].map((back) => 1772445540000 - back * MINUTE));
    expect(http.count('GET', '/api/v3/ticker/24hr')).toBe(1);
  });

  it('fills a market buy at the real ask and a market sell at the real bid, with the fee in quote', async () => {
    const paper = await paperOn(publicRoutes(), new ManualClock(new Date(T0)));

    const buy = await paper.createOrder({ clientOrderId: 'real-buy-1', symbol: SYMBOL, side: 'buy', type: 'market', amount: '0.01' });
    const sell = await paper.createOrder({ clientOrderId: 'real-sell-1', symbol: SYMBOL, side: 'sell', type: 'market', amount: '0.004' });
    const balances = await paper.fetchBalances();

    expect(buy).toMatchObject({ status: 'closed', price: '65234.5', filled: '0.01', cost: '652.345', fees: [{ currency: 'USDT', amount: '0.652345' }] });
    expect(sell).toMatchObject({ status: 'closed', price: '65234.49', filled: '0.004', cost: '260.93796', fees: [{ currency: 'USDT', amount: '0.26093796' }] });
    // 10000 - 652.345 - 0.652345 + 260.93796 - 0.26093796
    expect(balances['USDT']).toEqual({ free: '9607.67967704', used: '0', total: '9607.67967704' });
    expect(balances['BTC']).toEqual({ free: '0.006', used: '0', total: '0.006' });
  });

  it('fills a resting limit buy only where the market traded through it, in parts capped by the traded volume', async () => {
    const http = publicRoutes();
    const clock = new ManualClock(new Date(T0));
    const paper = await paperOn(http, clock);
    const placed = await paper.createOrder({ clientOrderId: 'real-limit-1', symbol: SYMBOL, side: 'buy', type: 'limit', amount: '0.05', limitPrice: '65000' });
    const held = await paper.fetchBalances();

    // 10:03:30: the 10:01 candle went below the limit (0.02 traded), the 10:02 one only touched it.
    clock.set(new Date(NEXT_MINUTE + 2 * MINUTE + 30_000));
    http.set('GET', '/api/v3/klines', klines([
      { openTime: NEXT_MINUTE - MINUTE, low: '64000', high: '65300', volume: '7' },
      { openTime: NEXT_MINUTE, low: '64990', high: '65300', volume: '0.02' },
      { openTime: NEXT_MINUTE + MINUTE, low: '65000', high: '65300', volume: '5' },
      { openTime: NEXT_MINUTE + 2 * MINUTE, low: '60000', high: '65300', volume: '9' },
    ]));
    const partial = await paper.fetchOrderByClientId(SYMBOL, 'real-limit-1');
    const partialBalances = await paper.fetchBalances();

    // 10:05:30: the 10:03 candle traded through it with more than the rest.
    clock.set(new Date(NEXT_MINUTE + 4 * MINUTE + 30_000));
    http.set('GET', '/api/v3/klines', klines([
      { openTime: NEXT_MINUTE + 2 * MINUTE, low: '64900', high: '65300', volume: '0.1' },
      { openTime: NEXT_MINUTE + 3 * MINUTE, low: '64900', high: '65300', volume: '3' },
    ]));
    const filled = await paper.fetchOrderByClientId(SYMBOL, 'real-limit-1');
    const finalBalances = await paper.fetchBalances();

    // Placed away from the real ask (65234.5): it rests, holding cost and fee.
    expect(placed).toMatchObject({ status: 'open', filled: '0' });
    expect(held['USDT']).toEqual({ free: '6746.75', used: '3253.25', total: '10000' });
    // Only the 10:01 candle's 0.02 counts: the 09:59 one is before the order, 10:02 only touched,
    // and 10:03 had not closed.
    expect(partial).toMatchObject({ status: 'open', filled: '0.02', cost: '1300', fees: [{ currency: 'USDT', amount: '1.3' }] });
    expect(partialBalances['USDT']).toEqual({ free: '6746.75', used: '1951.95', total: '8698.7' });
    expect(partialBalances['BTC']).toEqual({ free: '0.02', used: '0', total: '0.02' });
    expect(filled).toMatchObject({ status: 'closed', filled: '0.05', cost: '3250', fees: [{ currency: 'USDT', amount: '3.25' }] });
    expect(finalBalances['USDT']).toEqual({ free: '6746.75', used: '0', total: '6746.75' });
    expect(finalBalances['BTC']).toEqual({ free: '0.05', used: '0', total: '0.05' });
  });

  it('cancels the rest of a partly filled limit order and keeps what filled', async () => {
    const http = publicRoutes();
    const clock = new ManualClock(new Date(T0));
    const paper = await paperOn(http, clock);
    await paper.createOrder({ clientOrderId: 'real-limit-2', symbol: SYMBOL, side: 'buy', type: 'limit', amount: '0.05', limitPrice: '65000' });
    clock.set(new Date(NEXT_MINUTE + MINUTE + 30_000));
    http.set('GET', '/api/v3/klines', klines([{ openTime: NEXT_MINUTE, low: '64990', high: '65300', volume: '0.02' }]));

    const canceled = await paper.cancelOrder(SYMBOL, 'real-limit-2');
    const balances = await paper.fetchBalances();

    expect(canceled).toMatchObject({ status: 'canceled', filled: '0.02', cost: '1300' });
    expect(balances['USDT']).toEqual({ free: '8698.7', used: '0', total: '8698.7' });
    expect(balances['BTC']).toEqual({ free: '0.02', used: '0', total: '0.02' });
  });

  it('says MARKET_DATA_UNREACHABLE and places nothing when the exchange cannot be reached, never falling back to synthetic data', async () => {
    const http = new RecordedFetch().on('GET', '/api/v3/exchangeInfo', unreachable).on('GET', '/api/v3/time', unreachable).on('GET', '/api/v3/ticker/24hr', unreachable);
    const paper = await paperOn(http, new ManualClock(new Date(T0)));

    const codes = [
      await codeOf(paper.loadMarkets()),
      await codeOf(paper.fetchTickers([SYMBOL])),
      await codeOf(paper.createOrder({ clientOrderId: 'real-none-1', symbol: SYMBOL, side: 'buy', type: 'market', amount: '0.01' })),
    ];
    const balances = await paper.fetchBalances();

    expect(codes).toEqual([ErrorCode.MarketDataUnreachable, ErrorCode.MarketDataUnreachable, ErrorCode.MarketDataUnreachable]);
    expect(paper.source).toBe('exchange');
    expect(await paper.fetchOrderByClientId(SYMBOL, 'real-none-1')).toBeNull();
    expect(balances).toEqual({ USDT: { free: '10000', used: '0', total: '10000' } });
  });
});

describe('Scanner on paper with real prices (DATA-6, DATA-4)', () => {
  let t: TestStack;

  beforeAll(async () => {
    t = await startTestStack({ TW_PAPER_MARKET: 'exchange', TW_WATCHLIST: 'BTC/USDT,ETH/USDT,SOL/USDT' });
  }, 60_000);

  afterAll(async () => {
    await t?.stop();
  });

  it('scans the exchange\'s tickers and records the source as exchange', async () => {
    const http = publicRoutes();
    const clock = new ManualClock(new Date(T0));
    const runtime = t.runtime({ clock, marketDataClient: () => publicClient(http) });
    await runtime.containers.executor.ensureAccount();

    const scan = await runtime.scan(new Date(T0 - 30_000));

    expect(scan.status).toBe('scanned');
    expect(scan.source).toBe('exchange');
    expect(scan.pairs).toEqual(['BTC/USDT', 'ETH/USDT', 'SOL/USDT']);
    expect(scan.evaluated).toBe(3);
    expect(scan.rejectedData).toEqual([]);
    expect(http.count('GET', '/api/v3/ticker/24hr')).toBe(1);
  });

  it('fails the scan with MARKET_DATA_UNREACHABLE and queues nothing when the exchange cannot be reached', async () => {
    const http = new RecordedFetch().on('GET', '/api/v3/exchangeInfo', unreachable).on('GET', '/api/v3/time', unreachable).on('GET', '/api/v3/ticker/24hr', unreachable).on('GET', '/api/v3/klines', unreachable);
    const clock = new ManualClock(new Date(T0 + 10 * MINUTE));
    const runtime = t.runtime({ clock, marketDataClient: () => publicClient(http), circuitBreaker: false });
    const before = await runtime.containers.health.queues.depths();

    const code = await codeOf(runtime.scan(new Date(T0 + 10 * MINUTE)));
    const after = await runtime.containers.health.queues.depths();
    const report = await runtime.containers.health.control.getReport('scan');

    expect(code).toBe(ErrorCode.MarketDataUnreachable);
    expect(after['execution']).toBe(before['execution']);
    expect(report).toMatchObject({ source: 'exchange', failed: true, error: { code: ErrorCode.MarketDataUnreachable } });
  });
});
