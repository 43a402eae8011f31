/**
 * A market replayed for the paper exchange in a backtest (BT-1): the candles are the data set's,
 * added step by step as they close, and the quotes of each moment (bid, ask, last: what market
 * orders fill at and what the scanner reads) come from a quote source, such as the synthetic
 * market the candles were recorded from. Candles carry no bid/ask spread and no price at the
 * instant of a decision, so a replay that must match a run on the live market takes its quotes
 * from that market; the candle venue (candle-venue.ts) is the venue of files alone.
 */
import { ExchangeRejectedError } from '../shared/domain/errors.js';
import type { Candle, MarketRules, Ticker } from '../shared/domain/market.js';
import type { PaperMarket } from '../shared/adapters/paper/paper-exchange.js';

/** The quotes of any moment, e.g. the SyntheticMarket. */
export interface QuoteSource {
  ticker(symbol: string, at: Date): Ticker;
}

export class ReplayMarket implements PaperMarket {
  readonly #history = new Map<string, Candle[]>();

  constructor(
    private readonly markets: Readonly<Record<string, MarketRules>>,
    private readonly quotes: QuoteSource,
    private readonly timeframeMs: number,
    /** Candles kept per symbol: the strategies' longest lookback. */
    private readonly lookback: number,
  ) {}

  /** The candles of one step have closed. */
  add(candles: ReadonlyMap<string, Candle>): void {
    for (const [symbol, candle] of candles) {
      const series = this.#history.get(symbol) ?? [];
      series.push(candle);
      if (series.length > this.lookback) series.splice(0, series.length - this.lookback);
      this.#history.set(symbol, series);
    }
  }

  rules(symbol: string): MarketRules {
    const rules = this.markets[symbol];
    if (!rules) throw new ExchangeRejectedError(`unknown symbol ${JSON.stringify(symbol)}: not in the data set`, 'bad-symbol', { details: { symbol } });
    return rules;
  }

  ticker(symbol: string, at: Date): Ticker {
    return this.quotes.ticker(symbol, at);
  }

  /** The most recent candles closed by `until`, never one that closes later (no look-ahead). */
  candles(symbol: string, until: Date, limit: number): Candle[] {
    const closed = (this.#history.get(symbol) ?? []).filter((c) => c.openTime + this.timeframeMs <= until.getTime());
    return closed.slice(-limit);
  }
}
