/**
 * One symbol's chart for the HTML report: its candles thinned to a bounded number of bars
 * (candle-thinner.ts) and the trade markers on them, at most one per bar and side.
 *
 * Markers are kept in the same bound as the bars: a marker lands on the bar its candle falls in,
 * and when the bars are merged (their bucket doubles) the markers are moved onto the merged bars
 * and a second marker of one bar and side is dropped, the first kept. Moving a marker onto a
 * coarser bar twice gives the bar of moving it once (buckets are nested), so the markers at the
 * end are the ones of marking every fill on the final bars: the same chart, in memory bounded by
 * the bars instead of the number of fills.
 */
import type { Candle } from '../../shared/domain/market.js';
import { CandleThinner, type ChartBar } from './candle-thinner.js';
import type { ChartMarker } from './html-report.js';

export class SymbolChart {
  readonly #thinner: CandleThinner;
  #markers: ChartMarker[] = [];
  /** `time:side` of every marker, on bars of `#markedBucketMs`. */
  #keys = new Set<string>();
  #markedBucketMs: number;

  constructor(timeframeMs: number, maxBars?: number) {
    this.#thinner = new CandleThinner(timeframeMs, maxBars);
    this.#markedBucketMs = this.#thinner.bucketMs;
  }

  add(candle: Candle): void {
    this.#thinner.add(candle);
  }

  /** `add` of a candle whose prices are already numbers. */
  addValues(openTime: number, open: number, high: number, low: number, close: number): void {
    this.#thinner.addValues(openTime, open, high, low, close);
  }

  /** Marks a fill of `side` on the bar of the candle that opened at `openTime` (epoch ms). */
  mark(openTime: number, side: 'buy' | 'sell'): void {
    if (this.#thinner.bucketMs !== this.#markedBucketMs) this.#remark();
    this.#push({ time: this.#thinner.barTime(openTime), side, text: side === 'buy' ? 'B' : 'S' });
  }

  /** Markers held now (at most two per bar). */
  get markerCount(): number {
    return this.#markers.length;
  }

  chart(): { bars: readonly ChartBar[]; markers: ChartMarker[] } {
    if (this.#thinner.bucketMs !== this.#markedBucketMs) this.#remark();
    return { bars: this.#thinner.bars(), markers: [...this.#markers] };
  }

  /** Moves the markers onto the bars as they are now merged, first marker of a bar and side kept. */
  #remark(): void {
    const old = this.#markers;
    this.#markers = [];
    this.#keys = new Set();
    this.#markedBucketMs = this.#thinner.bucketMs;
    for (const m of old) this.#push({ ...m, time: this.#thinner.barTime(m.time * 1000) });
  }

  #push(marker: ChartMarker): void {
    const key = `${marker.time}:${marker.side}`;
    if (this.#keys.has(key)) return;
    this.#keys.add(key);
    this.#markers.push(marker);
  }
}
