/**
 * A strategy is a pure function: market snapshot + positions + parameters -> signals.
 */
import type { Candle, Ticker } from '../market.js';
import type { Position } from '../position.js';
import type { DecimalString } from '../money.js';

export interface Signal {
  readonly strategy: string;
  readonly symbol: string;
  readonly side: 'buy' | 'sell';
  /** For buys: quote to spend. */
  readonly quoteAmount?: DecimalString;
  /** For sells: base to sell. */
  readonly amount?: DecimalString;
  readonly reason: string;
}

export interface StrategyInput {
  readonly ticker: Ticker;
  readonly candles: readonly Candle[];
  readonly position: Position | undefined;
}

export interface Strategy<P> {
  readonly name: string;
  /** Closed candles it needs (0 = tickers only). */
  candlesNeeded(params: P): number;
  evaluate(input: StrategyInput, params: P): Signal[];
}
