/**
 * CcxtExchange against recorded Binance responses fed through ccxt's real request signing,
 * parsing and error mapping (the instance's `fetchImplementation` is replaced; nothing leaves
 * the process). Every case runs twice: on ccxt's Binance class as published, and on the class as
 * a live bundle carries it, with the API families and methods a spot client never calls left out
 * (PERF-3, infra/bundling/ccxt-prune.ts): what the adapter calls must work the same in both.
 */
import ccxt, { type Exchange as CcxtClient } from 'ccxt';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { binanceSpotOrders, binanceSpotWeight } from '../../shared/adapters/exchange/binance-limits.js';
import { CcxtExchange, ccxtClientSettings, type ExchangeOperation } from '../../shared/adapters/exchange/ccxt-exchange.js';
import { ErrorCode, TradewardenError } from '../../shared/domain/errors.js';
import { RateBudgetExhaustedError, type OrderCounts, type RateBudget } from '../../shared/ports/rate-budget.js';
import { scanMarket } from '../../shared/use-cases/scan-market.js';
import { RecordedFetch, recorded } from '../fixtures/binance/recorded-fetch.js';
import { scanFixture } from '../fixtures/scanner-fakes.js';
import { restOnlyExchangeClass, type CcxtExchangeClass } from '../support/rest-only-ccxt.js';

/**
 * The project's classifier (shared/adapters/exchange/classify-exchange-error.ts, written separately).
 * Loaded by a computed path so this suite compiles and runs before it exists; its end-to-end
 * cases below show as skipped until then.
 */
const CLASSIFIER_MODULE = '../../shared/adapters/exchange/classify-exchange-error.js';
const realClassifier = ((await import(CLASSIFIER_MODULE).catch(() => undefined)) as { classifyExchangeError?: (e: unknown, op: ExchangeOperation) => TradewardenError } | undefined)?.classifyExchangeError;

/** 2026-03-02T10:00:30Z: the fixtures' "now" (the 10:00 candle is still forming). */
const T0 = 1772445630000;
const WATCHLIST = ['BTC/USDT', 'ETH/USDT', 'SOL/USDT'];
const CLIENT_ORDER_ID = 'tw-4b1f0e1c2d3a4b5c6d7e8f9a0b1c2d3e';

/** Hands ccxt's error back inside a coded error, so tests see what the classifier was given. */
class CapturingClassifier {
  readonly seen: { error: unknown; operation: ExchangeOperation }[] = [];
  readonly classify = (error: unknown, operation: ExchangeOperation): TradewardenError => {
    this.seen.push({ error, operation });
    return new TradewardenError(ErrorCode.Internal, error instanceof Error ? error.message : String(error), true, { cause: error });
  };
  last(): { name: string; operation: ExchangeOperation } {
    const entry = this.seen.at(-1);
    return { name: entry?.error instanceof Error ? entry.error.name : 'none', operation: entry?.operation ?? 'read' };
  }
}

class RecordingBudget implements RateBudget {
  readonly consumed: number[] = [];
  readonly orders: number[] = [];
  readonly observed: number[] = [];
  readonly observedOrders: OrderCounts[] = [];
  exhausted = 0;
  refuse = false;
  async consume(weight: number, orders = 0): Promise<void> {
    if (this.refuse) throw new RateBudgetExhaustedError('binance', 4800, 4800, new Date(T0 + 30_000));
    this.consumed.push(weight);
    this.orders.push(orders);
  }
  async observe(usedWeight: number, orders: OrderCounts = {}): Promise<void> {
    if (Number.isInteger(usedWeight)) this.observed.push(usedWeight);
    if (orders.tenSeconds !== undefined || orders.day !== undefined) this.observedOrders.push(orders);
  }
  async exhaust(): Promise<void> {
    this.exhausted += 1;
  }
}

/** The two builds of the Binance class every case runs on. */
const BINANCE_BUILDS: [string, CcxtExchangeClass][] = [
  ['as published', ccxt.binance as unknown as CcxtExchangeClass],
  ['as the live bundle carries it', await restOnlyExchangeClass('binance')],
];
/** The build the cases of the running block use. */
let Binance: CcxtExchangeClass = ccxt.binance as unknown as CcxtExchangeClass;

/** The production settings, with ccxt's limiter refilling 50x faster so recorded replies are not spaced out in time. */
function binanceClient(recordedFetch: RecordedFetch): CcxtClient {
  const settings = ccxtClientSettings({ exchangeId: 'binance', apiKey: 'test-key', secret: 'test-secret', timeoutMs: 5000 });
  const client = new Binance({ ...settings, rateLimit: 1 });
  client.fetchImplementation = recordedFetch.fetch;
  return client;
}

function publicRoutes(): RecordedFetch {
  return new RecordedFetch()
    .on('GET', '/api/v3/exchangeInfo', recorded('exchange-info'))
    .on('GET', '/api/v3/time', recorded('time'))
    .on('GET', '/api/v3/ticker/24hr', recorded('ticker-24hr'))
    .on('GET', '/api/v3/klines', recorded('klines-btcusdt'));
}

describe.each(BINANCE_BUILDS)('Class: CcxtExchange (Binance %s, recorded responses)', (_build, build) => {
  let http: RecordedFetch;
  let classifier: CapturingClassifier;
  let budget: RecordingBudget;
  let exchange: CcxtExchange;

  beforeAll(() => {
    Binance = build;
  });

  beforeEach(() => {
    http = publicRoutes();
    classifier = new CapturingClassifier();
    budget = new RecordingBudget();
    exchange = new CcxtExchange({
      client: binanceClient(http),
      classify: classifier.classify,
      clock: { now: () => new Date(T0) },
      timeoutMs: 5000,
      rateBudget: budget,
      onHousekeepingError: (error) => {
        throw error;
      },
    });
  });

  describe('Method: loadMarkets', () => {
    it('maps exchangeInfo filters to market rules once, leaves out markets not trading, and syncs the clock', async () => {
      // Act
      const markets = await exchange.loadMarkets();
      await exchange.loadMarkets();

      // Assess
      expect(Object.keys(markets)).toEqual(['BTC/USDT', 'ETH/USDT', 'SOL/USDT']);
      expect(markets['BTC/USDT']).toEqual({
        symbol: 'BTC/USDT',
        base: 'BTC',
        quote: 'USDT',
        amountStep: '0.00001',
        priceTick: '0.01',
        minAmount: '0.00001',
        maxAmount: '9000',
        minPrice: '0.01',
        maxPrice: '1000000',
        minNotional: '5',
        maxNotional: '9000000',
      });
      expect(http.count('GET', '/api/v3/exchangeInfo')).toBe(1);
      expect(http.count('GET', '/api/v3/time')).toBe(1);
      expect(exchange.requests).toBe(2);
    });

    it('configures the client: timeout, ccxt limiter on only without a shared budget, ccxt retries off, exchange clock for signing', () => {
      const shared = binanceClient(http);
      new CcxtExchange({ client: shared, classify: classifier.classify, clock: { now: () => new Date(T0) }, timeoutMs: 4000, rateBudget: budget, onHousekeepingError: () => undefined });
      expect(shared.enableRateLimit).toBe(false);
      const client = binanceClient(http);
      new CcxtExchange({ client, classify: classifier.classify, clock: { now: () => new Date(T0) }, timeoutMs: 4000, onHousekeepingError: () => undefined });
      expect(client.timeout).toBe(4000);
      expect(client.enableRateLimit).toBe(true);
      expect(client.options['adjustForTimeDifference']).toBe(true);
      expect(client.options['maxRetriesOnFailure']).toBe(0);
    });

    it('refuses a timeout outside the bounds', () => {
      expect(() => new CcxtExchange({ client: binanceClient(http), classify: classifier.classify, clock: { now: () => new Date(T0) }, timeoutMs: 60_000, onHousekeepingError: () => undefined })).toThrow(/timeout/);
    });
  });

  describe('Method: fetchTickers', () => {
    it('fetches the whole watchlist in one request and returns decimal strings', async () => {
      // Act
      const tickers = await exchange.fetchTickers(['BTC/USDT', 'ETH/USDT', 'DOGE/USDT']);

      // Assess
      expect(tickers).toEqual([
        { symbol: 'BTC/USDT', bid: '65234.49', ask: '65234.5', last: '65234.5', volume: '18234.12345', quoteVolume: '1190000000.1234567', timestamp: T0 - 400 },
        { symbol: 'ETH/USDT', bid: '3421.16', ask: '3421.17', last: '3421.17', volume: '312345.6789', quoteVolume: '1068000000', timestamp: T0 - 400 },
      ]);
      const tickerRequests = http.requests.filter((r) => r.url.pathname === '/api/v3/ticker/24hr');
      expect(tickerRequests).toHaveLength(1);
      // The unlisted symbol is left out instead of failing the request for everyone.
      expect(tickerRequests[0]?.url.searchParams.get('symbols')).toBe('["BTCUSDT","ETHUSDT"]');
    });
  });

  describe('Method: fetchCandles', () => {
    it('returns the closed one-minute candles, oldest first, without the one still forming', async () => {
      // Act
      const candles = await exchange.fetchCandles('BTC/USDT', 30);

      // Assess
      expect(candles).toHaveLength(30);
      expect(new Date(candles[0]?.openTime ?? 0).toISOString()).toBe('2026-03-02T09:30:00.000Z');
      expect(new Date(candles.at(-1)?.openTime ?? 0).toISOString()).toBe('2026-03-02T09:59:00.000Z');
      expect(candles[0]).toEqual({ openTime: T0 - 30_000 - 30 * 60_000, open: '65000', high: '65019.75', low: '64996.5', close: '65007.5', volume: '12.34567' });
      const klines = http.requests.find((r) => r.url.pathname === '/api/v3/klines');
      expect(klines?.url.searchParams.get('interval')).toBe('1m');
      expect(klines?.url.searchParams.get('limit')).toBe('31');
    });
  });

  describe('Method: createOrder', () => {
    it('sends the client order id and the amount at the step, and reports the fee in the currency it was charged in', async () => {
      // Prepare
      http.on('POST', '/api/v3/order', recorded('order-market-buy-full'));

      // Act
      const order = await exchange.createOrder({ clientOrderId: CLIENT_ORDER_ID, symbol: 'BTC/USDT', side: 'buy', type: 'market', amount: '0.0020009' });

      // Assess
      const sent = new URLSearchParams(http.requests.find((r) => r.method === 'POST')?.body ?? '');
      expect(sent.get('newClientOrderId')).toBe(CLIENT_ORDER_ID);
      expect(sent.get('quantity')).toBe('0.002');
      expect(sent.get('type')).toBe('MARKET');
      expect(sent.get('signature')).toMatch(/^[0-9a-f]{64}$/);
      expect(order).toEqual({
        id: '28457',
        clientOrderId: CLIENT_ORDER_ID,
        symbol: 'BTC/USDT',
        side: 'buy',
        type: 'market',
        status: 'closed',
        amount: '0.002',
        price: '65234.5',
        filled: '0.002',
        cost: '130.469',
        // The commission as charged: in the coin bought, not converted to quote.
        fees: [{ currency: 'BTC', amount: '0.000002' }],
        timestamp: T0 + 123,
        // The response's fills, by trade id (EXE-11).
        trades: [
          { id: '4801234568', amount: '0.0015', cost: '97.85175', fees: [{ currency: 'BTC', amount: '0.0000015' }] },
          { id: '4801234569', amount: '0.0005', cost: '32.61725', fees: [{ currency: 'BTC', amount: '0.0000005' }] },
        ],
      });
    });

    it('reports fees in BNB and in the quote per currency, summed over the trades', async () => {
      // Prepare: the recorded fill, its first trade paid in BNB and its second in USDT (BNB ran out).
      const response = recorded('order-market-buy-full');
      const body = response.body as { fills: Array<Record<string, string>> };
      const fills = [
        { ...body.fills[0], commission: '0.00012000', commissionAsset: 'BNB' },
        { ...body.fills[1], commission: '0.03261725', commissionAsset: 'USDT' },
      ];
      http.on('POST', '/api/v3/order', { ...response, body: { ...body, fills } });

      // Act
      const order = await exchange.createOrder({ clientOrderId: CLIENT_ORDER_ID, symbol: 'BTC/USDT', side: 'buy', type: 'market', amount: '0.002' });

      // Assess
      expect(order.fees).toEqual([
        { currency: 'BNB', amount: '0.00012' },
        { currency: 'USDT', amount: '0.03261725' },
      ]);
      expect(order.filled).toBe('0.002');
    });

    it('sends a limit price at the tick', async () => {
      http.on('POST', '/api/v3/order', recorded('order-limit-partially-filled'));
      await exchange.createOrder({ clientOrderId: 'tw-limit-1', symbol: 'BTC/USDT', side: 'buy', type: 'limit', amount: '0.003', limitPrice: '64000.004' });
      const sent = new URLSearchParams(http.requests.find((r) => r.method === 'POST')?.body ?? '');
      expect(sent.get('price')).toBe('64000');
      expect(sent.get('timeInForce')).toBe('GTC');
    });

    it.each([
      ['errors-timestamp-1021', 'InvalidNonce'],
      ['errors-insufficient-balance-2010', 'InsufficientFunds'],
      ['errors-filter-failure-1013', 'BadRequest'],
      ['errors-duplicate-order-2010', 'InvalidOrder'],
      ['errors-backend-timeout-1007', 'RequestTimeout'],
      ['errors-banned-418', 'DDoSProtection'],
      ['errors-too-many-requests-429', 'DDoSProtection'],
      ['errors-too-many-requests-429-html', 'DDoSProtection'],
      ['errors-forbidden-403-html', 'ExchangeNotAvailable'],
      ['errors-gateway-timeout-504', 'RequestTimeout'],
      ['errors-service-unavailable-503', 'OperationFailed'],
    ])('hands %s to the classifier as ccxt %s for a create', async (fixture, ccxtError) => {
      // Prepare
      http.on('POST', '/api/v3/order', recorded(fixture));

      // Act
      const failure = exchange.createOrder({ clientOrderId: CLIENT_ORDER_ID, symbol: 'BTC/USDT', side: 'buy', type: 'market', amount: '0.002' });

      // Assess
      await expect(failure).rejects.toBeInstanceOf(TradewardenError);
      expect(classifier.last()).toEqual({ name: ccxtError, operation: 'create' });
    });

    it.skipIf(!realClassifier).each([
      ['errors-insufficient-balance-2010', { code: 'EXCHANGE_REJECTED', retryable: false }],
      ['errors-filter-failure-1013', { code: 'EXCHANGE_REJECTED', retryable: false }],
      ['errors-duplicate-order-2010', { code: 'EXCHANGE_REJECTED', retryable: false }],
      ['errors-backend-timeout-1007', { code: 'EXCHANGE_UNKNOWN_OUTCOME', retryable: true }],
      ['errors-gateway-timeout-504', { code: 'EXCHANGE_UNKNOWN_OUTCOME', retryable: true }],
      ['errors-timestamp-1021', { retryable: true }],
      ['errors-banned-418', { retryable: true }],
      ['errors-too-many-requests-429', { retryable: true }],
      ['errors-too-many-requests-429-html', { retryable: true }],
      ['errors-forbidden-403-html', { retryable: true }],
      ['errors-service-unavailable-503', { retryable: true }],
    ])('classifies %s on a create end to end', async (fixture, expected) => {
      const classified = new CcxtExchange({ client: binanceClient(http.set('POST', '/api/v3/order', recorded(fixture))), classify: realClassifier ?? classifier.classify, clock: { now: () => new Date(T0) }, timeoutMs: 5000, onHousekeepingError: () => undefined });
      await expect(classified.createOrder({ clientOrderId: CLIENT_ORDER_ID, symbol: 'BTC/USDT', side: 'buy', type: 'market', amount: '0.002' })).rejects.toMatchObject(expected);
    });

    it('reports a timeout and a dropped connection as ccxt RequestTimeout and NetworkError', async () => {
      http.on('POST', '/api/v3/order', { fail: new DOMException('The operation was aborted.', 'AbortError') });
      await expect(exchange.createOrder({ clientOrderId: CLIENT_ORDER_ID, symbol: 'BTC/USDT', side: 'buy', type: 'market', amount: '0.002' })).rejects.toThrow();
      expect(classifier.last()).toEqual({ name: 'RequestTimeout', operation: 'create' });

      http.set('POST', '/api/v3/order', { fail: new TypeError('fetch failed', { cause: new Error('read ECONNRESET') }) });
      await expect(exchange.createOrder({ clientOrderId: CLIENT_ORDER_ID, symbol: 'BTC/USDT', side: 'buy', type: 'market', amount: '0.002' })).rejects.toThrow();
      expect(classifier.last()).toEqual({ name: 'NetworkError', operation: 'create' });
    });

    it('measures the clock offset again after a -1021 timestamp rejection', async () => {
      await exchange.loadMarkets();
      http.on('POST', '/api/v3/order', recorded('errors-timestamp-1021'));
      await expect(exchange.createOrder({ clientOrderId: CLIENT_ORDER_ID, symbol: 'BTC/USDT', side: 'buy', type: 'market', amount: '0.002' })).rejects.toThrow();
      expect(http.count('GET', '/api/v3/time')).toBe(2);
      expect(http.count('POST', '/api/v3/order')).toBe(1);
    });

    it('never retries a create inside ccxt', async () => {
      http.on('POST', '/api/v3/order', recorded('errors-gateway-timeout-504'), recorded('order-market-buy-full'));
      await expect(exchange.createOrder({ clientOrderId: CLIENT_ORDER_ID, symbol: 'BTC/USDT', side: 'buy', type: 'market', amount: '0.002' })).rejects.toThrow();
      expect(http.count('POST', '/api/v3/order')).toBe(1);
    });
  });

  describe('Method: fetchOrderByClientId', () => {
    it('looks the order up by origClientOrderId and parses a partial fill', async () => {
      http.on('GET', '/api/v3/order', recorded('order-limit-partially-filled'));
      const order = await exchange.fetchOrderByClientId('BTC/USDT', 'tw-limit-1');
      expect(http.requests.find((r) => r.url.pathname === '/api/v3/order')?.url.searchParams.get('origClientOrderId')).toBe('tw-limit-1');
      expect(order).toMatchObject({ id: '28460', clientOrderId: 'tw-limit-1', status: 'open', type: 'limit', amount: '0.003', filled: '0.001', cost: '64', price: '64000' });
    });

    it('answers null only when the exchange says the order does not exist', async () => {
      http.on('GET', '/api/v3/order', recorded('errors-order-not-found-2013'));
      expect(await exchange.fetchOrderByClientId('BTC/USDT', 'tw-never-sent')).toBeNull();
    });

    it('never reads a network error as "not found" (REC-2)', async () => {
      http.on('GET', '/api/v3/order', recorded('errors-forbidden-403-html'));
      await expect(exchange.fetchOrderByClientId('BTC/USDT', 'tw-limit-1')).rejects.toBeInstanceOf(TradewardenError);
      expect(classifier.last()).toEqual({ name: 'ExchangeNotAvailable', operation: 'read' });
    });
  });

  describe('Method: cancelOrder and fetchOpenOrders', () => {
    it('lists open orders with their client order ids and cancels one by client order id', async () => {
      http.on('GET', '/api/v3/openOrders', recorded('open-orders')).on('DELETE', '/api/v3/order', recorded('order-canceled'));
      const open = await exchange.fetchOpenOrders();
      expect(open).toEqual([expect.objectContaining({ clientOrderId: 'tw-open-eth', symbol: 'ETH/USDT', status: 'open', amount: '0.05', price: '3300' })]);
      const canceled = await exchange.cancelOrder('ETH/USDT', 'tw-open-eth');
      expect(http.requests.find((r) => r.method === 'DELETE')?.url.searchParams.get('origClientOrderId')).toBe('tw-open-eth');
      // Binance answers with a new clientOrderId for the cancel itself; ours is kept.
      expect(canceled).toMatchObject({ clientOrderId: 'tw-open-eth', status: 'canceled', filled: '0' });
    });

    it('returns the order as it is when the cancel comes too late (-2011), and null when it never existed', async () => {
      http.on('DELETE', '/api/v3/order', recorded('errors-unknown-order-2011')).on('GET', '/api/v3/order', recorded('order-limit-partially-filled'), recorded('errors-order-not-found-2013'));
      expect(await exchange.cancelOrder('BTC/USDT', 'tw-limit-1')).toMatchObject({ clientOrderId: 'tw-limit-1', filled: '0.001' });
      expect(await exchange.cancelOrder('BTC/USDT', 'tw-never-sent')).toBeNull();
    });
  });

  describe('Method: fetchBalances', () => {
    it('returns non-zero balances as decimal strings', async () => {
      http.on('GET', '/api/v3/account', recorded('account'));
      expect(await exchange.fetchBalances()).toEqual({
        BTC: { free: '0.01234', used: '0', total: '0.01234' },
        USDT: { free: '9704.531', used: '165', total: '9869.531' },
      });
    });
  });

  describe('Rate budget (RISK-6)', () => {
    it('takes each request weight from the shared budget and feeds back the used-weight header', async () => {
      await exchange.fetchTickers(WATCHLIST);
      // exchangeInfo 20, time 1, ticker/24hr for three symbols 2.
      expect(budget.consumed).toEqual([20, 1, 2]);
      expect(budget.observed).toEqual([20, 21, 23]);
    });

    it('marks the window spent after a 429 and sends nothing while the budget is spent', async () => {
      await exchange.loadMarkets();
      http.set('GET', '/api/v3/klines', recorded('errors-too-many-requests-429'));
      await expect(exchange.fetchCandles('BTC/USDT', 30)).rejects.toThrow();
      expect(budget.exhausted).toBe(1);

      budget.refuse = true;
      const before = http.requests.length;
      await expect(exchange.fetchTickers(WATCHLIST)).rejects.toBeInstanceOf(RateBudgetExhaustedError);
      expect(http.requests.length).toBe(before);
    });

    it('counts a placed order against the order limits, and feeds back the order-count headers', async () => {
      await exchange.loadMarkets();
      const reply = recorded('order-market-buy-full');
      http.on('POST', '/api/v3/order', { ...reply, headers: { ...reply.headers, 'x-mbx-order-count-10s': '3', 'x-mbx-order-count-1d': '41' } });
      budget.orders.length = 0;
      await exchange.createOrder({ clientOrderId: CLIENT_ORDER_ID, symbol: 'BTC/USDT', side: 'buy', type: 'market', amount: '0.0020009' });
      expect(budget.orders).toEqual([1]);
      expect(budget.observedOrders).toEqual([{ tenSeconds: 3, day: 41 }]);
      await exchange.fetchCandles('BTC/USDT', 30);
      expect(budget.orders).toEqual([1, 0]);
    });

    it('counts Binance orders as documented: one per order, two per order list, none for reads and cancels', () => {
      const url = (path: string) => `https://api.binance.com/api/v3/${path}`;
      expect(binanceSpotOrders('POST', url('order'))).toBe(1);
      expect(binanceSpotOrders('POST', url('order/cancelReplace'))).toBe(1);
      expect(binanceSpotOrders('POST', url('orderList/oco'))).toBe(2);
      expect(binanceSpotOrders('DELETE', url('order'))).toBe(0);
      expect(binanceSpotOrders('GET', url('order?symbol=BTCUSDT'))).toBe(0);
    });

    it('weighs Binance spot endpoints as documented', () => {
      const url = (path: string) => `https://api.binance.com/api/v3/${path}`;
      expect(binanceSpotWeight('GET', url('exchangeInfo'))).toBe(20);
      expect(binanceSpotWeight('GET', url(`ticker/24hr?symbols=${encodeURIComponent(JSON.stringify(Array.from({ length: 20 }, (_, i) => `S${i}USDT`)))}`))).toBe(2);
      expect(binanceSpotWeight('GET', url(`ticker/24hr?symbols=${encodeURIComponent(JSON.stringify(Array.from({ length: 21 }, (_, i) => `S${i}USDT`)))}`))).toBe(40);
      expect(binanceSpotWeight('GET', url('ticker/24hr'))).toBe(80);
      expect(binanceSpotWeight('GET', url('klines?symbol=BTCUSDT'))).toBe(2);
      expect(binanceSpotWeight('POST', url('order'))).toBe(1);
      expect(binanceSpotWeight('GET', url('order?symbol=BTCUSDT'))).toBe(4);
      expect(binanceSpotWeight('GET', url('openOrders'))).toBe(80);
      expect(binanceSpotWeight('GET', url('openOrders?symbol=BTCUSDT'))).toBe(6);
      expect(binanceSpotWeight('GET', url('account'))).toBe(20);
    });
  });

  describe('Requests per scan (DATA-5)', () => {
    it('makes one ticker request per scan and fetches candles only after a new candle closed', async () => {
      // Prepare: three symbols, price-drop needs 30 candles each.
      const { deps } = await scanFixture(new Date(T0), { mode: 'live', watchlist: WATCHLIST });
      let now = T0;
      const live = new CcxtExchange({ client: binanceClient(http), classify: classifier.classify, clock: { now: () => new Date(now) }, timeoutMs: 5000, onHousekeepingError: () => undefined });
      const scan = { ...deps, exchange: live, clock: { now: () => new Date(now) }, markets: () => live.loadMarkets() };

      // Act: two scans in the same minute (the second an ad hoc dry run), then one after the next candle closed.
      const first = await scanMarket(scan, { slot: new Date(T0 - 30_000), dryRun: false });
      const afterFirst = live.requests;
      now = T0 + 20_000;
      const second = await scanMarket(scan, { slot: new Date(T0 - 30_000), dryRun: true });
      const afterSecond = live.requests;
      now = T0 + 45_000;
      http.set('GET', '/api/v3/klines', recorded('klines-btcusdt'));
      const third = await scanMarket(scan, { slot: new Date(T0 + 30_000), dryRun: false });
      const klinesAfterThird = http.count('GET', '/api/v3/klines');

      // Assess
      expect(first.rejectedData).toEqual([]);
      expect(first.candleFetches).toBe(3);
      // exchangeInfo + time (once per container) + 1 ticker + 3 klines.
      expect(afterFirst).toBe(6);
      expect(second.candleFetches).toBe(0);
      expect(afterSecond - afterFirst).toBe(1);
      expect(http.count('GET', '/api/v3/ticker/24hr')).toBeGreaterThanOrEqual(2);
      // 10:01:15: the 10:00 candle closed, so each symbol's candles are fetched again.
      expect(klinesAfterThird).toBe(6);
      expect(live.requests - afterSecond).toBe(4);
      expect(third.status).toBe('scanned');
    });
  });
});
