import { ExchangeTransientError } from '../domain/errors.js';

/**
 * The exchange's request-weight budget, shared by every instance (RISK-6). Each container also
 * runs ccxt's own limiter; this budget is what keeps all of them together below the exchange's
 * limit, backing off before it is reached instead of being banned after.
 */
export interface RateBudget {
  /**
   * Takes `weight` from the current window.
   * @throws RateBudgetExhaustedError when that would pass the budget (nothing is sent).
   */
  consume(weight: number): Promise<void>;
  /**
   * The exchange reported `usedWeight` for the current window (Binance's
   * `X-MBX-USED-WEIGHT-1M`): the shared counter is raised to it, never lowered.
   */
  observe(usedWeight: number): Promise<void>;
  /** The exchange said "too many requests": the rest of the window is spent. */
  exhaust(): Promise<void>;
}

/**
 * The shared budget would be passed by this request: back off until the next window. Nothing
 * reached the exchange, so it is transient and does not count against the circuit.
 */
export class RateBudgetExhaustedError extends ExchangeTransientError {
  constructor(exchangeId: string, used: number, budget: number, retryAt: Date) {
    super(`request weight budget of ${exchangeId} spent (${used} of ${budget}) until ${retryAt.toISOString()}`, {
      details: { reason: 'rate-budget', exchange: exchangeId, used, budget, retryAt: retryAt.toISOString() },
    });
    this.name = 'RateBudgetExhaustedError';
  }
}
