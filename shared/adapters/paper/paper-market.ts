/**
 * Where the paper exchange gets its market from: prices, rules and how much of a resting limit
 * order the market has traded through. Two sources:
 * - the synthetic market (SyntheticPaperMarket, the default; works offline);
 * - the exchange's public market data through ccxt (ExchangePaperMarket, DATA-6).
 * Async, because the exchange's answers come over the network. The paper exchange never mixes
 * the two: its `source` is its market's, and a market that cannot be reached fails the call
 * (MARKET_DATA_UNREACHABLE), it never answers with made-up data (DATA-4).
 */
import { ExchangeRejectedError } from '../../domain/errors.js';
import type { Candle, DataSource, MarketRules, Ticker } from '../../domain/market.js';
import { cmp, type DecimalString } from '../../domain/money.js';
import type { Side } from '../../domain/order.js';
import type { PaperMarket } from './paper-exchange.js';
import { SYNTHETIC_SYMBOL_PATTERN } from './synthetic-market.js';

/** What matching needs to know of a resting limit order. */
export interface RestingOrder {
  readonly symbol: string;
  readonly side: Side;
  /** The limit price. */
  readonly price: DecimalString;
  readonly amount: DecimalString;
  /** Base amount filled so far. */
  readonly filled: DecimalString;
  /** When the order was placed (epoch ms). */
  readonly timestamp: number;
  /** The market has been matched against the order up to this time (epoch ms); absent: since it was placed. */
  readonly matchedUntil?: number;
}

/** How far the market has filled a resting order: its new cumulative fill, and up to when it was matched. */
export interface MarketMatch {
  /** Cumulative base amount filled, never above the order's amount nor below what it had. */
  readonly filled: DecimalString;
  /** The new watermark, where the source keeps one (the exchange's candles); a computed market has none. */
  readonly matchedUntil?: number;
}

export interface MarketSource {
  /** Where the data comes from (DATA-4): shown in every scan and in health. */
  readonly source: DataSource;
  /** Rules of the markets `loadMarkets` lists. */
  markets(): Promise<Readonly<Record<string, MarketRules>>>;
  /** @throws ExchangeRejectedError `bad-symbol` when the market does not list the symbol. */
  rules(symbol: string): Promise<MarketRules>;
  /** Tickers of `symbols` at `at` in one request; without `symbols`, of every market it lists. A symbol the market does not list is left out. */
  tickers(symbols: readonly string[] | undefined, at: Date): Promise<Ticker[]>;
  /** The `limit` most recent closed one-minute candles at `until`, oldest first. */
  candles(symbol: string, until: Date, limit: number): Promise<Candle[]>;
  /** How much of a resting limit order the market has traded through by `at` (partial fills capped by traded volume). */
  match(order: RestingOrder, at: Date): Promise<MarketMatch>;
}

/**
 * A market computed on the spot (the synthetic market, or a backtest's replay of it) as a market
 * source. A resting limit fills whole on the first call that sees its ticker cross it (buy: ask
 * <= limit; sell: bid >= limit): a computed market has no order book, so there is no volume to
 * cap it by.
 */
export class SyntheticPaperMarket implements MarketSource {
  constructor(
    private readonly market: PaperMarket,
    /** The markets `markets()` and `tickers()` list (the watchlist); any well-formed symbol has rules and prices. */
    private readonly symbols: readonly string[],
    /** What the scanner is told the data is (DATA-4). */
    readonly source: DataSource = 'synthetic',
  ) {}

  async markets(): Promise<Readonly<Record<string, MarketRules>>> {
    return Object.fromEntries(this.symbols.map((symbol) => [symbol, this.market.rules(symbol)]));
  }

  async rules(symbol: string): Promise<MarketRules> {
    return this.market.rules(symbol);
  }

  async tickers(symbols: readonly string[] | undefined, at: Date): Promise<Ticker[]> {
    return (symbols ?? this.symbols).map((symbol) => this.market.ticker(symbol, at));
  }

  async candles(symbol: string, until: Date, limit: number): Promise<Candle[]> {
    return this.market.candles(symbol, until, limit);
  }

  async match(order: RestingOrder, at: Date): Promise<MarketMatch> {
    const ticker = this.market.ticker(order.symbol, at);
    const crossed = order.side === 'buy' ? cmp(ticker.ask, order.price) <= 0 : cmp(ticker.bid, order.price) >= 0;
    return { filled: crossed ? order.amount : order.filled };
  }
}

/** Whether `symbol` has the BASE/QUOTE shape every market source accepts, with two different assets. */
export function isWellFormedSymbol(symbol: string): boolean {
  if (!SYNTHETIC_SYMBOL_PATTERN.test(symbol)) return false;
  const [base, quote] = symbol.split('/');
  return base !== quote;
}

export function unknownSymbol(symbol: string): ExchangeRejectedError {
  return new ExchangeRejectedError(`unknown symbol ${JSON.stringify(symbol)}: the market does not list it`, 'bad-symbol', { details: { symbol } });
}
