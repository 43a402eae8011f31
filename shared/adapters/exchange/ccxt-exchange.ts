/**
 * The live Exchange on ccxt (source 'exchange').
 *
 * Built around an already constructed ccxt exchange instance, so a bundle contains exactly one
 * exchange class (the bundler aliases `ccxt` to a single-exchange module) and tests can feed
 * recorded responses through ccxt's real parsing and error mapping by replacing the instance's
 * `fetchImplementation`.
 *
 * - Markets are loaded once per instance and cached (a failed load is retried by the next call).
 * - Every HTTP request ccxt makes goes through `fetch`, which this adapter wraps: it takes the
 *   request's weight from the shared rate budget first (RISK-6), counts it, and feeds the
 *   exchange's reported used weight (Binance `X-MBX-USED-WEIGHT-1M`) back into the budget.
 *   ccxt's own per-container limiter is on only without a shared budget: with one, the budget
 *   paces every container together (per minute, as the exchange counts), and ccxt's even spacing
 *   (about 20 ms a candle request on Binance) would stretch a 1000-symbol scan past its schedule;
 *   the scanner bounds its concurrency instead. ccxt's retries stay off (createOrder is
 *   never retried blindly, EXE-3).
 * - Signed requests use the exchange's clock (`adjustForTimeDifference`), so a drifting Lambda
 *   clock does not produce Binance -1021 timestamp errors.
 * - Tickers of the whole watchlist come from one request where the exchange supports it (DATA-5).
 * - Numbers leave as decimal strings (ccxt's `numberToString`, exact for the up to 15
 *   significant digits exchanges send); amounts and prices go out through `amountToPrecision`
 *   and `priceToPrecision` and are refused if they would not survive the trip.
 * - Errors leave classified (`classify`); "order not found" on a lookup is `null`, and on a
 *   cancel it is followed by a lookup, because Binance answers -2011 for a cancel of an order
 *   that already filled.
 * Request weights: binance-limits.ts; ccxt's structures as the domain's: ccxt-mapping.ts.
 * Fees: one amount per currency as charged (quote, base or a third asset such as BNB, EXE-12).
 */
import type { Exchange as CcxtClient, Order as CcxtOrder } from 'ccxt';
import { TradewardenError, ValidationError } from '../../domain/errors.js';
import type { Candle, MarketRules, Ticker } from '../../domain/market.js';
import { dec, str } from '../../domain/money.js';
import type { Clock } from '../../ports/clock.js';
import type { Balance, Exchange, ExchangeOrder, PlaceOrderRequest } from '../../ports/exchange.js';
import type { RateBudget } from '../../ports/rate-budget.js';
import { binanceSpotOrders, binanceSpotWeight, type RequestOrders, type RequestWeight } from './binance-limits.js';
import { CcxtMapping } from './ccxt-mapping.js';

export type ExchangeOperation = 'create' | 'read' | 'cancel';
/** Maps anything ccxt throws onto the error catalogue (see classify-exchange-error.ts). */
export type ExchangeErrorClassifier = (error: unknown, operation: ExchangeOperation) => TradewardenError;

/** One-minute candles (CANDLE_MS in market-validation). */
const TIMEFRAME = '1m';
const TIMEFRAME_MS = 60_000;
/** Closed orders scanned by the generic client-order-id lookup. */
const CLOSED_ORDERS_SCANNED = 100;
/** Request timeout bounds: above a round trip, below every function timeout. */
export const MIN_TIMEOUT_MS = 1000;
export const MAX_TIMEOUT_MS = 25_000;

export interface CcxtExchangeOptions {
  /** A constructed ccxt exchange (one class per bundle), credentials set for private calls. */
  readonly client: CcxtClient;
  readonly classify: ExchangeErrorClassifier;
  readonly clock: Clock;
  /** Per-request timeout in ms; keep it well below the function timeout. */
  readonly timeoutMs: number;
  /** Shared request-weight budget (RISK-6); none: ccxt's per-container limiter only. */
  readonly rateBudget?: RateBudget;
  /** @default binanceSpotWeight for Binance, else 1 per request */
  readonly requestWeight?: RequestWeight;
  /** @default binanceSpotOrders for Binance, else 1 per POST */
  readonly requestOrders?: RequestOrders;
  /** Restrict the markets `loadMarkets` returns (the watchlist); all spot markets when absent. */
  readonly symbols?: readonly string[];
  /**
   * A rate-budget write (or a clock resync) that failed after the exchange answered: log it. The
   * exchange's answer is returned regardless (an accepted order must never turn into an error).
   */
  readonly onHousekeepingError: (error: unknown) => void;
}

/** The ccxt settings every live client needs; pass to the exchange class's constructor. */
export function ccxtClientSettings(options: {
  readonly exchangeId: string;
  readonly apiKey?: string;
  readonly secret?: string;
  readonly timeoutMs: number;
}): Record<string, unknown> {
  const binance = options.exchangeId.startsWith('binance');
  return {
    ...(options.apiKey ? { apiKey: options.apiKey } : {}),
    ...(options.secret ? { secret: options.secret } : {}),
    enableRateLimit: true,
    timeout: options.timeoutMs,
    options: {
      adjustForTimeDifference: true,
      maxRetriesOnFailure: 0,
      defaultType: 'spot',
      ...(binance
        ? {
            // Spot only: one exchangeInfo request instead of three, no margin pairs, no private
            // currencies call.
            fetchMarkets: { types: ['spot'] },
            fetchMargins: false,
            fetchCurrencies: false,
            warnOnFetchOpenOrdersWithoutSymbol: false,
            newOrderRespType: { market: 'FULL', limit: 'FULL' },
          }
        : {}),
    },
  };
}

export class CcxtExchange implements Exchange {
  readonly id: string;
  readonly source = 'exchange' as const;
  readonly #client: CcxtClient;
  readonly #classify: ExchangeErrorClassifier;
  readonly #clock: Clock;
  readonly #budget: RateBudget | undefined;
  readonly #weight: RequestWeight;
  readonly #orders: RequestOrders;
  readonly #symbols: ReadonlySet<string> | undefined;
  readonly #onHousekeepingError: (error: unknown) => void;
  readonly #binance: boolean;
  readonly #map: CcxtMapping;
  #markets: Promise<Readonly<Record<string, MarketRules>>> | undefined;
  #requests = 0;
  #resyncing = false;

  /** @throws ValidationError when the timeout is out of bounds. */
  constructor(options: CcxtExchangeOptions) {
    if (!Number.isInteger(options.timeoutMs) || options.timeoutMs < MIN_TIMEOUT_MS || options.timeoutMs > MAX_TIMEOUT_MS) {
      throw new ValidationError(`ccxt timeout must be ${MIN_TIMEOUT_MS}..${MAX_TIMEOUT_MS} ms, got ${options.timeoutMs}`);
    }
    const client = options.client;
    this.#client = client;
    this.#classify = options.classify;
    this.#clock = options.clock;
    this.#budget = options.rateBudget;
    this.#binance = client.id.startsWith('binance');
    this.#weight = options.requestWeight ?? (this.#binance ? binanceSpotWeight : () => 1);
    this.#orders = options.requestOrders ?? (this.#binance ? binanceSpotOrders : (method) => (method.toUpperCase() === 'POST' ? 1 : 0));
    this.#symbols = options.symbols ? new Set(options.symbols) : undefined;
    this.#onHousekeepingError = options.onHousekeepingError;
    this.id = client.id;
    this.#map = new CcxtMapping(client, options.clock);

    client.timeout = options.timeoutMs;
    client.enableRateLimit = options.rateBudget === undefined;
    client.options['adjustForTimeDifference'] = true;
    client.options['maxRetriesOnFailure'] = 0;
    if (this.#binance) client.options['warnOnFetchOpenOrdersWithoutSymbol'] = false;
    const send = client.fetch.bind(client);
    client.fetch = (url: string, method = 'GET', headers?: unknown, body?: unknown) => this.instrumented(send, url, method, headers, body);
  }

  /** HTTP requests sent so far by this instance (every one, markets and clock sync included). */
  get requests(): number {
    return this.#requests;
  }

  loadMarkets(): Promise<Readonly<Record<string, MarketRules>>> {
    this.#markets ??= this.call('read', () => this.#client.loadMarkets()).then(
      (markets) => this.#map.toRules(markets, this.#symbols),
      (error: unknown) => {
        this.#markets = undefined;
        throw error;
      },
    );
    return this.#markets;
  }

  async fetchTickers(symbols?: readonly string[]): Promise<Ticker[]> {
    const markets = await this.loadMarkets();
    // A symbol the exchange does not list would fail the whole request: leave it out, so the
    // scan reports it as "no ticker returned".
    const known = symbols ? symbols.filter((s) => markets[s] !== undefined) : Object.keys(markets);
    if (known.length === 0) return [];
    if (this.#client.has['fetchTickers']) {
      // Every market: one request without a symbol list (Binance weight 80 instead of 2..80 per list).
      const tickers = await this.call('read', () => this.#client.fetchTickers(symbols ? [...known] : undefined));
      return known.flatMap((s) => (tickers[s] ? [this.#map.toTicker(s, tickers[s])] : []));
    }
    const result: Ticker[] = [];
    for (const s of known) result.push(this.#map.toTicker(s, await this.call('read', () => this.#client.fetchTicker(s))));
    return result;
  }

  /** The last `limit` closed one-minute candles; the candle still forming is dropped. */
  async fetchCandles(symbol: string, limit: number): Promise<Candle[]> {
    await this.loadMarkets();
    const rows = await this.call('read', () => this.#client.fetchOHLCV(symbol, TIMEFRAME, undefined, limit + 1));
    const now = this.#clock.now().getTime();
    return rows
      .filter((row) => typeof row[0] === 'number' && row[0] + TIMEFRAME_MS <= now)
      .slice(-limit)
      .map(([openTime, open, high, low, close, volume]) => ({
        openTime: openTime as number,
        open: this.#map.decimal(open),
        high: this.#map.decimal(high),
        low: this.#map.decimal(low),
        close: this.#map.decimal(close),
        volume: this.#map.decimal(volume),
      }));
  }

  async createOrder(request: PlaceOrderRequest): Promise<ExchangeOrder> {
    await this.loadMarkets();
    const amount = this.#client.amountToPrecision(request.symbol, request.amount);
    if (amount === undefined) throw new ValidationError(`amount ${request.amount} has no precision form for ${request.symbol}`);
    let price: string | undefined;
    if (request.type === 'limit') {
      if (!request.limitPrice) throw new ValidationError('a limit order needs a limit price');
      price = this.#client.priceToPrecision(request.symbol, request.limitPrice);
      if (price === undefined) throw new ValidationError(`price ${request.limitPrice} has no precision form for ${request.symbol}`);
    }
    const params = this.#binance ? { newClientOrderId: request.clientOrderId } : { clientOrderId: request.clientOrderId };
    const order = await this.call('create', () =>
      this.#client.createOrder(request.symbol, request.type, request.side, this.toWire(amount), price === undefined ? undefined : this.toWire(price), params),
    );
    return this.#map.toOrder(order, request.clientOrderId);
  }

  /**
   * Binance: GET order by `origClientOrderId`. Elsewhere: the open orders, then the last
   * CLOSED_ORDERS_SCANNED closed ones, searched for the client order id.
   */
  async fetchOrderByClientId(symbol: string, clientOrderId: string): Promise<ExchangeOrder | null> {
    await this.loadMarkets();
    if (this.#binance) {
      try {
        const order = await this.#client.fetchOrder('', symbol, { origClientOrderId: clientOrderId });
        return this.#map.toOrder(order, clientOrderId);
      } catch (error) {
        if (isOrderNotFound(error)) return null;
        throw this.classified(error, 'read');
      }
    }
    const open = this.#client.has['fetchOpenOrders'] ? await this.call('read', () => this.#client.fetchOpenOrders(symbol)) : [];
    const openMatch = open.find((o) => o.clientOrderId === clientOrderId);
    if (openMatch) return this.#map.toOrder(openMatch, clientOrderId);
    let closed: CcxtOrder[] = [];
    if (this.#client.has['fetchClosedOrders']) closed = await this.call('read', () => this.#client.fetchClosedOrders(symbol, undefined, CLOSED_ORDERS_SCANNED));
    else if (this.#client.has['fetchOrders']) closed = await this.call('read', () => this.#client.fetchOrders(symbol, undefined, CLOSED_ORDERS_SCANNED));
    const closedMatch = closed.find((o) => o.clientOrderId === clientOrderId);
    return closedMatch ? this.#map.toOrder(closedMatch, clientOrderId) : null;
  }

  async fetchOpenOrders(symbol?: string): Promise<ExchangeOrder[]> {
    await this.loadMarkets();
    const orders = await this.call('read', () => this.#client.fetchOpenOrders(symbol));
    return orders.map((o) => this.#map.toOrder(o, undefined));
  }

  /** Cancels by client order id; an order that is no longer open is returned as it is; null when unknown. */
  async cancelOrder(symbol: string, clientOrderId: string): Promise<ExchangeOrder | null> {
    await this.loadMarkets();
    let exchangeOrderId = '';
    if (!this.#binance) {
      const found = await this.fetchOrderByClientId(symbol, clientOrderId);
      if (!found) return null;
      if (found.status !== 'open') return found;
      exchangeOrderId = found.id;
    }
    try {
      const params = this.#binance ? { origClientOrderId: clientOrderId } : {};
      const canceled = await this.#client.cancelOrder(exchangeOrderId, symbol, params);
      return this.#map.toOrder(canceled, clientOrderId);
    } catch (error) {
      if (isOrderNotFound(error)) return this.fetchOrderByClientId(symbol, clientOrderId);
      throw this.classified(error, 'cancel');
    }
  }

  async fetchBalances(): Promise<Readonly<Record<string, Balance>>> {
    const balance = await this.call('read', () => this.#client.fetchBalance());
    const result: Record<string, Balance> = {};
    const totals = (balance.total ?? {}) as unknown as Record<string, number | undefined>;
    const free = (balance.free ?? {}) as unknown as Record<string, number | undefined>;
    const used = (balance.used ?? {}) as unknown as Record<string, number | undefined>;
    for (const [asset, total] of Object.entries(totals)) {
      if (!total) continue;
      result[asset] = { free: this.#map.decimal(free[asset] ?? 0), used: this.#map.decimal(used[asset] ?? 0), total: this.#map.decimal(total) };
    }
    return result;
  }

  // --- plumbing ------------------------------------------------------------------------------

  private async call<T>(operation: ExchangeOperation, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw this.classified(error, operation);
    }
  }

  private classified(error: unknown, operation: ExchangeOperation): TradewardenError {
    // Ours (rate budget, validation) pass through; everything from ccxt gets classified.
    return error instanceof TradewardenError ? error : this.#classify(error, operation);
  }

  private async instrumented(
    send: (url: string, method?: string, headers?: unknown, body?: unknown) => Promise<unknown>,
    url: string,
    method: string,
    headers: unknown,
    body: unknown,
  ): Promise<unknown> {
    if (this.#budget) await this.#budget.consume(this.#weight(method, url), this.#orders(method, url));
    this.#requests += 1;
    this.#client.last_response_headers = undefined;
    try {
      const response = await send(url, method, headers, body);
      await this.observeWeight(false);
      return response;
    } catch (error) {
      await this.observeWeight(isRateLimited(error));
      if (isClockRejected(error)) await this.resyncClock();
      throw error;
    }
  }

  /**
   * After a timestamp rejection (Binance -1021) the clock offset is measured again, so the retry
   * the queue or the next scan makes is signed right. Best effort: the rejection is what the
   * caller gets either way, and a failed resync is measured again on the next rejection.
   */
  private async resyncClock(): Promise<void> {
    if (this.#client.options['adjustForTimeDifference'] !== true || this.#resyncing) return;
    this.#resyncing = true;
    try {
      await this.#client.loadTimeDifference();
    } catch (error) {
      this.#onHousekeepingError(error);
    } finally {
      this.#resyncing = false;
    }
  }

  /** Feeds the exchange's used-weight header (or a 429/418) into the shared budget; never throws. */
  private async observeWeight(rateLimited: boolean): Promise<void> {
    if (!this.#budget) return;
    try {
      if (rateLimited) {
        await this.#budget.exhaust();
        return;
      }
      const headers = this.#client.last_response_headers ?? {};
      const header = (wanted: string): number => {
        const name = Object.keys(headers).find((h) => h.toLowerCase() === wanted);
        return name === undefined ? Number.NaN : Number(headers[name]);
      };
      const used = header('x-mbx-used-weight-1m');
      const tenSeconds = header('x-mbx-order-count-10s');
      const day = header('x-mbx-order-count-1d');
      const orders = { ...(Number.isInteger(tenSeconds) ? { tenSeconds } : {}), ...(Number.isInteger(day) ? { day } : {}) };
      if (Number.isInteger(used)) await this.#budget.observe(used, orders);
      else if (orders.tenSeconds !== undefined || orders.day !== undefined) await this.#budget.observe(Number.NaN, orders);
    } catch (error) {
      this.#onHousekeepingError(error);
    }
  }

  /** A precision-formatted string as the number ccxt's signature wants, refused unless it converts back exactly. */
  private toWire(text: string): number {
    const value = Number(text);
    if (!Number.isFinite(value) || str(dec(this.#client.numberToString(value))) !== str(dec(text))) {
      throw new ValidationError(`amount ${text} cannot be sent without losing precision`);
    }
    return value;
  }
}

function isOrderNotFound(error: unknown): boolean {
  return error instanceof Error && error.name === 'OrderNotFound';
}

function isClockRejected(error: unknown): boolean {
  return error instanceof Error && error.name === 'InvalidNonce';
}

function isRateLimited(error: unknown): boolean {
  return error instanceof Error && (error.name === 'DDoSProtection' || error.name === 'RateLimitExceeded');
}
