/**
 * The candle venue's market data (candle-venue.ts): per symbol, the candles closed so far (the last
 * `lookback` of them are what `fetchCandles` shows) and the last day's volumes in a ring with their
 * sum (the ticker's 24 h volume). A decision at a close sees only candles closed by then (BT-2).
 */
import type { Candle, Ticker } from '../shared/domain/market.js';
import type { DecimalString } from '../shared/domain/money.js';

/** One symbol's market data: its candles and the ring of the last day's volumes with their sum. */
interface MarketSeries {
  readonly series: Candle[];
  sum: number;
  readonly window: Float64Array;
  next: number;
  size: number;
}

const DAY_MS = 86_400_000;

export class CandleMarket {
  readonly #markets = new Map<string, MarketSeries>();
  /** The last ticker made per symbol: this step's when its timestamp is now (the gate and the scan both ask). */
  readonly #tickers = new Map<string, Ticker>();

  constructor(
    /** The candles' period, ms. */
    readonly timeframeMs: number,
    /** Candles kept per symbol: the strategies' longest lookback. */
    readonly lookback: number,
  ) {}

  /** A candle of `symbol` has closed; `volume` is its volume as a number. */
  close(symbol: string, candle: Candle, volume: number): void {
    const { lookback } = this;
    let market = this.#markets.get(symbol);
    if (!market) this.#markets.set(symbol, (market = { series: [], sum: 0, window: new Float64Array(Math.max(1, Math.round(DAY_MS / this.timeframeMs))), next: 0, size: 0 }));
    const { series } = market;
    series.push(candle);
    // Only the last `lookback` candles are market data; the older ones are cut in one go once
    // they are as many, so trimming costs O(1) per candle rather than a copy of the window.
    if (series.length >= 2 * lookback) series.splice(0, series.length - lookback);
    // The last day's candles in a ring: the oldest leaves as the newest comes.
    market.sum += volume;
    if (market.size === market.window.length) market.sum -= market.window[market.next]!;
    else market.size += 1;
    market.window[market.next] = volume;
    market.next = (market.next + 1) % market.window.length;
  }

  /** The last candle of `symbol` closed so far. */
  last(symbol: string): Candle | undefined {
    return this.#markets.get(symbol)?.series.at(-1);
  }

  /**
   * The ticker of `symbol` at the close `now` (its volume is a getter, made when first read);
   * undefined when its candle is missing at this step (a gap).
   */
  tickerAt(symbol: string, now: number): Ticker | undefined {
    const made = this.#tickers.get(symbol);
    // A ticker made at an earlier step is stale (its timestamp is that step's close).
    if (made?.timestamp === now) return made;
    const market = this.#markets.get(symbol);
    const last = market?.series.at(-1);
    if (!market || !last || last.openTime + this.timeframeMs !== now) return undefined;
    const ticker = new CandleTicker(symbol, last.close, market.sum, now);
    this.#tickers.set(symbol, ticker);
    return ticker;
  }

  /** The last `limit` candles of the window (the exchange port's `fetchCandles`). */
  window(symbol: string, limit: number): Candle[] {
    const series = this.#markets.get(symbol)?.series ?? [];
    // The window is the last `lookback` candles (older ones wait in the array to be cut), read as
    // `window.slice(-limit)`.
    const base = Math.max(0, series.length - this.lookback);
    const length = series.length - base;
    const start = limit > 0 ? Math.max(length - limit, 0) : limit === 0 ? 0 : Math.min(-limit, length);
    return series.slice(base + start);
  }
}

/**
 * The ticker of a candle close for the scan gate: bid, ask and last are the close, the volume the
 * day's sum. The volume's text is made when first read (the gate asks for a ticker every step and
 * reads its volume rarely); one class, so every step's ticker has the same shape and no closure
 * of its own. The volume is a getter of the class, not an own property: `fetchTickers` hands out
 * plain copies.
 */
class CandleTicker implements Ticker {
  readonly bid: DecimalString;
  readonly ask: DecimalString;
  readonly #sum: number;
  #volume: DecimalString | undefined;

  constructor(
    readonly symbol: string,
    readonly last: DecimalString,
    sum: number,
    readonly timestamp: number,
  ) {
    this.bid = last;
    this.ask = last;
    this.#sum = sum;
  }

  get volume(): DecimalString {
    return (this.#volume ??= volumeText(this.#sum));
  }
}

/**
 * A ticker's volume text: `String(Number(value.toFixed(8)))`, or the fixed text itself where that
 * has an exponent (below 1e-6). From 0 up to 1e7 the fixed text has at most 15 significant digits, and such a decimal is
 * the only one of at most 15 digits that gives its double, so the shortest text of that double is
 * the fixed text without its trailing zeros: cut here instead of parsed and formatted again.
 */
export function volumeText(value: number): DecimalString {
  const fixed = value.toFixed(8);
  if (!(value >= 0 && value < PLAIN_BELOW)) {
    const text = String(Number(fixed));
    return text.includes('e') ? fixed : text;
  }
  let end = fixed.length;
  while (fixed.charCodeAt(end - 1) === ZERO_DIGIT) end -= 1;
  // A whole number (zero included) loses its point too.
  if (fixed.charCodeAt(end - 1) === DOT) return fixed.slice(0, end - 1);
  // 0 < value < 1e-6: its number's text would have an exponent.
  if (fixed.startsWith(BELOW_MILLIONTH)) return fixed;
  return fixed.slice(0, end);
}

const PLAIN_BELOW = 1e7;
const BELOW_MILLIONTH = '0.000000';
const ZERO_DIGIT = 48;
const DOT = 46;
