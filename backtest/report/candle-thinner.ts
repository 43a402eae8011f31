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
    const start = Math.floor(openTime / this.#bucketMs) * this.#bucketMs;
    const time = Math.floor(start / 1000);
    const last = this.#bars[this.#bars.length - 1];
    // The open bar is updated in place: one object per bar, not per candle.
    if (last && last.time === time) {
      last.high = Math.max(last.high, high);
      last.low = Math.min(last.low, low);
      last.close = close;
    } else this.#bars.push({ time, open, high, low, close });
    if (this.#bars.length > this.maxBars) this.#coarsen();
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

  #coarsen(): void {
    this.#bucketMs *= 2;
    const merged: MutableBar[] = [];
    for (const bar of this.#bars) {
      const time = Math.floor(Math.floor((bar.time * 1000) / this.#bucketMs) * this.#bucketMs / 1000);
      const last = merged[merged.length - 1];
      if (last && last.time === time) merged[merged.length - 1] = { time, open: last.open, high: Math.max(last.high, bar.high), low: Math.min(last.low, bar.low), close: bar.close };
      else merged.push({ ...bar, time });
    }
    this.#bars = merged;
  }
}
