/**
 * The paper exchange's market from the exchange's PUBLIC market data (DATA-6): rules, tickers and
 * candles come from the live adapter (CcxtExchange, built without API keys), so prices are parsed,
 * validated and rate-limited exactly as in live mode.
 *
 * Fills against the real market:
 * - a market order fills at the real ask (buy) or bid (sell) of the moment (paper-matching.ts);
 * - a resting limit order fills when the market trades THROUGH its limit, capped by the volume
 *   traded: each closed one-minute candle that opened at or after the order's placement (rounded
 *   up to the minute) and whose low went below a buy limit (whose high went above a sell limit)
 *   adds its volume to the order's fill, until the order is filled. Touching the limit is not
 *   enough: an order waits in the queue at its price. A candle's whole volume counts, an upper
 *   bound of what traded through the limit in that minute. Candles are matched from the order's
 *   watermark (`matchedUntil`) on, so no minute counts twice; at most MAX_CANDLES_PER_MATCH
 *   minutes are looked at per call, older unmatched minutes are skipped (fills less, never more).
 *
 * Failures: anything that did not get an answer from the exchange (network, DNS, timeout,
 * maintenance, 5xx) becomes MARKET_DATA_UNREACHABLE; the call fails and nothing is made up
 * (DATA-4). A permanent refusal (unknown symbol) and a refusal of the shared rate budget (the
 * exchange was not asked) pass through as they came.
 */
import { MarketDataUnreachableError, TradewardenError } from '../../domain/errors.js';
import type { Candle, MarketRules, Ticker } from '../../domain/market.js';
import { add, cmp } from '../../domain/money.js';
import type { Exchange } from '../../ports/exchange.js';
import { RateBudgetExhaustedError } from '../../ports/rate-budget.js';
import { unknownSymbol, type MarketMatch, type MarketSource, type RestingOrder } from './paper-market.js';

/** One-minute candles. */
const CANDLE_MS = 60_000;
/** Most candles one match reads (Binance's kline limit, about 16 hours). */
export const MAX_CANDLES_PER_MATCH = 1000;

/** The public market-data calls of the live adapter. */
export type PublicMarketData = Pick<Exchange, 'id' | 'loadMarkets' | 'fetchTickers' | 'fetchCandles'>;

export class ExchangePaperMarket implements MarketSource {
  readonly source = 'exchange' as const;

  constructor(private readonly exchange: PublicMarketData) {}

  markets(): Promise<Readonly<Record<string, MarketRules>>> {
    return this.reach('markets', () => this.exchange.loadMarkets());
  }

  async rules(symbol: string): Promise<MarketRules> {
    const rules = (await this.markets())[symbol];
    if (!rules) throw unknownSymbol(symbol);
    return rules;
  }

  /** One request; without `symbols`, every market the exchange lists. */
  tickers(symbols: readonly string[] | undefined): Promise<Ticker[]> {
    return this.reach('tickers', () => this.exchange.fetchTickers(symbols));
  }

  /** The exchange's latest closed candles; `until` is the exchange's now (its adapter drops the forming candle). */
  candles(symbol: string, _until: Date, limit: number): Promise<Candle[]> {
    return this.reach(`candles of ${symbol}`, () => this.exchange.fetchCandles(symbol, limit));
  }

  async match(order: RestingOrder, at: Date): Promise<MarketMatch> {
    const from = order.matchedUntil ?? Math.ceil(order.timestamp / CANDLE_MS) * CANDLE_MS;
    const closedMinutes = Math.floor((at.getTime() - from) / CANDLE_MS);
    if (closedMinutes < 1 || cmp(order.filled, order.amount) >= 0) return { filled: order.filled, matchedUntil: from };
    const candles = (await this.candles(order.symbol, at, Math.min(closedMinutes, MAX_CANDLES_PER_MATCH))).filter((c) => c.openTime >= from);
    let filled = order.filled;
    let matchedUntil = from;
    for (const candle of candles) {
      matchedUntil = Math.max(matchedUntil, candle.openTime + CANDLE_MS);
      if (tradedThrough(order, candle)) filled = add(filled, candle.volume);
    }
    return { filled: cmp(filled, order.amount) > 0 ? order.amount : filled, matchedUntil };
  }

  private async reach<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      // A refusal stays what it is, and so does our own rate budget: the exchange was not asked.
      if ((error instanceof TradewardenError && !error.retryable) || error instanceof RateBudgetExhaustedError) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      throw new MarketDataUnreachableError(`market data of ${this.exchange.id} unreachable (${what}): ${reason}; paper trading on real prices places nothing without it`, {
        cause: error,
        details: { exchange: this.exchange.id, what },
      });
    }
  }
}

/** Whether the candle traded beyond the order's limit: below a buy limit, above a sell limit. */
function tradedThrough(order: RestingOrder, candle: Candle): boolean {
  return order.side === 'buy' ? cmp(candle.low, order.price) < 0 : cmp(candle.high, order.price) > 0;
}
