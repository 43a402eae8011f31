/**
 * Candles of each symbol between scans of one container (DATA-5). A series is stored only after
 * it passed validation, so a later scan re-checks just its freshness; when newer candles closed,
 * only those are fetched and appended (`missing`), so one new candle per symbol costs one short
 * request and validating one candle. Bounded by symbols and by candles in total: the least
 * recently used symbols are dropped first (HLT-6).
 */
import { ValidationError } from '../domain/errors.js';
import type { Candle } from '../domain/market.js';
import { CANDLE_MS } from '../domain/market-validation.js';
import { KeptEvaluators } from './scan-evaluators.js';

/** Default bounds of the candle cache: the largest watchlist the configuration accepts, and about 60 MB of candles. */
export const CANDLE_CACHE_MAX_SYMBOLS = 1000;
export const CANDLE_CACHE_MAX_CANDLES = 200_000;

/** Open time of the last candle of `timeframeMs` closed at `now`. */
export function lastClosedOpen(now: Date, timeframeMs = CANDLE_MS): number {
  return Math.floor(now.getTime() / timeframeMs) * timeframeMs - timeframeMs;
}

export class CandleCache {
  readonly #entries = new Map<string, readonly Candle[]>();
  #candles = 0;
  /** The strategies' evaluators over each cached series, kept as long as the series (scan-evaluators.ts). */
  readonly evaluators = new KeptEvaluators();

  constructor(
    readonly maxSymbols: number = CANDLE_CACHE_MAX_SYMBOLS,
    readonly maxCandles: number = CANDLE_CACHE_MAX_CANDLES,
    /** The candles' period: one minute live (the exchange adapters fetch 1m); a backtest may replay another. */
    readonly timeframeMs: number = CANDLE_MS,
  ) {
    if (!Number.isInteger(maxSymbols) || maxSymbols < 1 || !Number.isInteger(maxCandles) || maxCandles < 1) {
      throw new ValidationError('candle cache bounds must be positive integers');
    }
    if (!Number.isInteger(timeframeMs) || timeframeMs < 1000) throw new ValidationError('candle timeframe must be a whole number of seconds');
  }

  /** The cached series if it holds `needed` candles and ends with the last candle closed at `now`. */
  get(symbol: string, needed: number, now: Date): readonly Candle[] | undefined {
    const series = this.#entries.get(symbol);
    if (!series || series.length < needed) return undefined;
    if ((series[series.length - 1]?.openTime ?? -Infinity) < lastClosedOpen(now, this.timeframeMs)) return undefined;
    this.#entries.delete(symbol);
    this.#entries.set(symbol, series);
    return series;
  }

  /**
   * How many candles to fetch for `symbol` so that, appended to what is cached, it holds `needed`
   * up to the last closed candle: all `needed` when nothing usable is cached, else the candles that
   * closed since the cached series ended plus one that overlaps it (to check the join).
   */
  missing(symbol: string, needed: number, now: Date): number {
    const series = this.#entries.get(symbol);
    const end = series?.[series.length - 1]?.openTime;
    if (!series || end === undefined || series.length < needed) return needed;
    const newer = Math.round((lastClosedOpen(now, this.timeframeMs) - end) / this.timeframeMs);
    if (newer <= 0) return 0;
    return newer + 1 >= needed ? needed : newer + 1;
  }

  /** The cached series followed by `fetched` (fetched candles win where they overlap), or `fetched` alone. */
  merged(symbol: string, fetched: readonly Candle[], keep: number): readonly Candle[] {
    const series = this.#entries.get(symbol);
    const first = fetched[0]?.openTime;
    if (!series || first === undefined) return fetched.slice(-keep);
    if (!Number.isInteger(keep) || keep < 1) return [...series.filter((c) => c.openTime < first), ...fetched].slice(-keep);
    if (fetched.length >= keep) return fetched.slice(-keep);
    // The last of the cached candles older than the first fetched one, as many as `keep` leaves
    // room for (the tail of `series.filter(older)`, found from the end without copying the rest).
    const room = keep - fetched.length;
    const older: Candle[] = [];
    for (let i = series.length - 1; i >= 0 && older.length < room; i -= 1) {
      const candle = series[i]!;
      if (candle.openTime < first) older.push(candle);
    }
    older.reverse();
    for (const candle of fetched) older.push(candle);
    return older;
  }

  put(symbol: string, series: readonly Candle[]): void {
    // Replaced, not forgotten: its evaluators carry on if the new series continues the old one.
    this.#drop(symbol);
    this.#entries.set(symbol, series);
    this.#candles += series.length;
    while (this.#entries.size > this.maxSymbols || (this.#candles > this.maxCandles && this.#entries.size > 1)) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.remove(oldest);
    }
  }

  /** Forgets a symbol (its series failed validation: fetch it whole next time). */
  remove(symbol: string): void {
    this.#drop(symbol);
    this.evaluators.forget(symbol);
  }

  #drop(symbol: string): void {
    const series = this.#entries.get(symbol);
    if (!series) return;
    this.#candles -= series.length;
    this.#entries.delete(symbol);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Candles held in total. */
  get candles(): number {
    return this.#candles;
  }
}
