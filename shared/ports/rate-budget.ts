import { ExchangeTransientError } from '../domain/errors.js';

/** Which of the exchange's limits a budget counter stands for. */
export type RateLimitKind = 'weight' | 'orders-10s' | 'orders-1d';

/** Binance's order counts as its response headers report them (`X-MBX-ORDER-COUNT-10S` / `-1D`). */
export interface OrderCounts {
  readonly tenSeconds?: number;
  readonly day?: number;
}

/**
 * The exchange's limits, shared by every instance (RISK-6): request weight per minute (per IP on
 * Binance), and for order endpoints the order counts per 10 s and per day (Binance ORDERS, per
 * account). Each container also runs ccxt's own limiter; this budget is what keeps all of them
 * together below the exchange's limits, backing off before they are reached instead of being
 * banned after.
 */
export interface RateBudget {
  /**
   * Takes `weight` from the current weight window and, for a request that places an order,
   * `orders` from the 10 s and the day windows.
   * @throws RateBudgetExhaustedError when that would pass a budget (nothing is sent).
   */
  consume(weight: number, orders?: number): Promise<void>;
  /**
   * The exchange reported `usedWeight` for the current window (Binance's
   * `X-MBX-USED-WEIGHT-1M`), and its order counts: the shared counters are raised to them,
   * never lowered.
   */
  observe(usedWeight: number, orders?: OrderCounts): Promise<void>;
  /** The exchange said "too many requests": the rest of the window is spent. */
  exhaust(): Promise<void>;
}

/**
 * The shared budget would be passed by this request: back off until the next window. Nothing
 * reached the exchange, so it is transient and does not count against the circuit.
 */
export class RateBudgetExhaustedError extends ExchangeTransientError {
  constructor(exchangeId: string, used: number, budget: number, retryAt: Date, limit: RateLimitKind = 'weight') {
    const what = limit === 'weight' ? 'request weight budget' : limit === 'orders-10s' ? 'order budget per 10 s' : 'order budget per day';
    super(`${what} of ${exchangeId} spent (${used} of ${budget}) until ${retryAt.toISOString()}`, {
      details: { reason: 'rate-budget', limit, exchange: exchangeId, used, budget, retryAt: retryAt.toISOString() },
    });
    this.name = 'RateBudgetExhaustedError';
  }
}
