/**
 * Market data and market rules as the domain sees them: decimal strings, validated at the edge.
 */
import type { DecimalString } from './money.js';

/** Where market data came from (DATA-4). Live mode refuses `synthetic`. */
export type DataSource = 'exchange' | 'synthetic';

export interface Ticker {
  readonly symbol: string;
  readonly bid: DecimalString;
  readonly ask: DecimalString;
  readonly last: DecimalString;
  /** Base volume over 24 h. */
  readonly volume: DecimalString;
  /** Quote volume over 24 h, when the exchange reports it (else base volume x last). */
  readonly quoteVolume?: DecimalString;
  /** Exchange timestamp, epoch milliseconds. */
  readonly timestamp: number;
}

export interface Candle {
  /** Open time, epoch milliseconds. */
  readonly openTime: number;
  readonly open: DecimalString;
  readonly high: DecimalString;
  readonly low: DecimalString;
  readonly close: DecimalString;
  readonly volume: DecimalString;
}

/** Precision and limits of one market (EXE-6). Missing limits are absent, not zero. */
export interface MarketRules {
  readonly symbol: string;
  readonly base: string;
  readonly quote: string;
  /** Smallest amount increment (step size), as a decimal string such as 0.0001. */
  readonly amountStep: DecimalString;
  /** Smallest price increment (tick size). */
  readonly priceTick: DecimalString;
  readonly minAmount?: DecimalString;
  readonly maxAmount?: DecimalString;
  readonly minPrice?: DecimalString;
  readonly maxPrice?: DecimalString;
  readonly minNotional?: DecimalString;
  readonly maxNotional?: DecimalString;
}

export interface MarketSnapshot {
  readonly source: DataSource;
  readonly fetchedAt: number;
  readonly tickers: readonly Ticker[];
  readonly candles: Readonly<Record<string, readonly Candle[]>>;
}
