/**
 * Candles for a chart, in bounded memory: bars are merged pairwise (their bucket doubles) when a
 * series grows past the limit, so a year of one-minute candles becomes a few thousand bars.
 */
import type { Candle } from '../../shared/domain/market.js';

export const MAX_CHART_BARS = 3_000;

export interface ChartBar {
  /** Epoch seconds of the bucket's first candle. */
  readonly time: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
}

/** A bar while it is still being built. */
type MutableBar = { -readonly [K in keyof ChartBar]: ChartBar[K] };

export class CandleThinner {
  #bars: MutableBar[] = [];
  #bucketMs = 0;
  /** The open bar (the last one) and the moments (epoch ms) its bucket covers: a candle inside it costs no division. */
  #open: MutableBar | undefined;
  #openFrom = 0;
  #openUntil = 0;

  constructor(
    readonly timeframeMs: number,
    readonly maxBars: number = MAX_CHART_BARS,
  ) {
    this.#bucketMs = timeframeMs;
  }

  add(candle: Candle): void {
    this.addValues(candle.openTime, Number(candle.open), Number(candle.high), Number(candle.low), Number(candle.close));
  }

  /** `add` of a candle whose prices are already numbers (`Number()` of its decimal texts). */
  addValues(openTime: number, open: number, high: number, low: number, close: number): void {
    const bar = this.#open;
    // The open bar is updated in place: one object per bar, not per candle.
    if (bar && openTime >= this.#openFrom && openTime < this.#openUntil) {
      extend(bar, high, low, close);
      return;
    }
    const start = Math.floor(openTime / this.#bucketMs) * this.#bucketMs;
    const time = Math.floor(start / 1000);
    const last = this.#bars[this.#bars.length - 1];
    if (last && last.time === time) extend(last, high, low, close);
    else this.#bars.push({ time, open, high, low, close });
    if (this.#bars.length > this.maxBars) this.#coarsen();
    this.#openBar();
  }

  /** The bar time (epoch seconds) that a moment (epoch ms) falls in, for trade markers. */
  barTime(ms: number): number {
    return Math.floor(Math.floor(ms / this.#bucketMs) * this.#bucketMs / 1000);
  }

  get bucketMs(): number {
    return this.#bucketMs;
  }

  bars(): readonly ChartBar[] {
    return this.#bars;
  }

  /**
   * Makes the last bar the open one when a candle's moment maps to it exactly as `addValues`
   * maps it (its bucket's start, in whole seconds, is the bar's time); else none is open and the
   * next candle takes the general way.
   */
  #openBar(): void {
    const last = this.#bars[this.#bars.length - 1];
    this.#open = undefined;
    if (!last || this.#bucketMs % 1000 !== 0) return;
    this.#open = last;
    this.#openFrom = last.time * 1000;
    this.#openUntil = this.#openFrom + this.#bucketMs;
  }

  /** Merges the bars pairwise into buckets twice as long, in place (the bars are this thinner's own). */
  #coarsen(): void {
    this.#bucketMs *= 2;
    const bars = this.#bars;
    let kept = 0;
    for (let i = 0; i < bars.length; i += 1) {
      const bar = bars[i]!;
      const time = Math.floor(Math.floor((bar.time * 1000) / this.#bucketMs) * this.#bucketMs / 1000);
      const last = kept > 0 ? bars[kept - 1]! : undefined;
      if (last && last.time === time) extend(last, bar.high, bar.low, bar.close);
      else {
        bar.time = time;
        bars[kept] = bar;
        kept += 1;
      }
    }
    bars.length = kept;
  }
}

/** A later candle (or bar) of the same bucket into `bar`: its high, low and close. */
function extend(bar: MutableBar, high: number, low: number, close: number): void {
  bar.high = Math.max(bar.high, high);
  bar.low = Math.min(bar.low, low);
  bar.close = close;
}
