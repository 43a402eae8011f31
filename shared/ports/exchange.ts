import type { Candle, DataSource, MarketRules, Ticker } from '../domain/market.js';
import type { FeeAmount } from '../domain/fees.js';
import type { DecimalString } from '../domain/money.js';
import type { ExchangeOrderStatus, OrderTrade, OrderType, Side } from '../domain/order.js';

/** An order as the exchange reports it. Amounts are cumulative, fees too: one amount per currency charged. */
export interface ExchangeOrder {
  readonly id: string;
  readonly clientOrderId: string;
  readonly symbol: string;
  readonly side: Side;
  readonly type: OrderType;
  readonly status: ExchangeOrderStatus;
  readonly amount: DecimalString;
  readonly price?: DecimalString;
  readonly filled: DecimalString;
  readonly cost: DecimalString;
  readonly fees: readonly FeeAmount[];
  readonly timestamp: number;
  /**
   * The order's trades by exchange trade id, where the exchange lists them (ccxt `trades`):
   * the fill is then counted over distinct trade ids, so a trade reported twice is booked once
   * (EXE-11). Absent: the cumulative amounts above are used.
   */
  readonly trades?: readonly OrderTrade[];
}

export interface PlaceOrderRequest {
  readonly clientOrderId: string;
  readonly symbol: string;
  readonly side: Side;
  readonly type: OrderType;
  /** Base amount, rounded to the market's step. */
  readonly amount: DecimalString;
  readonly limitPrice?: DecimalString;
}

export interface Balance {
  readonly free: DecimalString;
  readonly used: DecimalString;
  readonly total: DecimalString;
}

/**
 * The exchange, live (ccxt) or paper. Errors come out classified:
 * ExchangeTransientError (nothing was created, retry), ExchangeUnknownOutcomeError (the request
 * may have been accepted: look it up, EXE-3), ExchangeRejectedError (permanent).
 */
export interface Exchange {
  readonly id: string;
  /** Where this exchange's market data comes from (DATA-4). */
  readonly source: DataSource;
  loadMarkets(): Promise<Readonly<Record<string, MarketRules>>>;
  /**
   * Tickers for many symbols in one request where the exchange supports it (DATA-5). Without
   * `symbols`: every market the exchange lists, in one request (the pair list rule, DATA-8).
   */
  fetchTickers(symbols?: readonly string[]): Promise<Ticker[]>;
  /** Closed one-minute candles, oldest first. */
  fetchCandles(symbol: string, limit: number): Promise<Candle[]>;
  createOrder(request: PlaceOrderRequest): Promise<ExchangeOrder>;
  /**
   * Starts what the next `createOrder` reads before sending (the circuit breaker's shared state),
   * so that read overlaps the caller's last write before the send (PERF-2). Optional: an exchange
   * without such a read has nothing to prepare.
   */
  prepareOrder?(): void;
  /** Looks an order up by client order id. `null` means the exchange answered "not found". */
  fetchOrderByClientId(symbol: string, clientOrderId: string): Promise<ExchangeOrder | null>;
  fetchOpenOrders(symbol?: string): Promise<ExchangeOrder[]>;
  cancelOrder(symbol: string, clientOrderId: string): Promise<ExchangeOrder | null>;
  fetchBalances(): Promise<Readonly<Record<string, Balance>>>;
}

/**
 * The exchange calls a cancel needs (EXE-15), on a path the circuit breaker does not block: the
 * breaker protects entries, and an emergency stop must reach the exchange even while it is open.
 * Outcomes still count towards the breaker where they are recorded (CircuitBreakerExchange).
 * `fetchTickers` prices a third-asset fee of a fill the cancel reveals (EXE-12).
 */
export type CancelExchange = Pick<Exchange, 'cancelOrder' | 'fetchOrderByClientId' | 'fetchOpenOrders' | 'fetchTickers'>;
