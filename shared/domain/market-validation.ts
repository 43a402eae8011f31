/**
 * Market data checks at the boundary (DATA-1..3). Bad or stale data is never passed to a
 * strategy: it is dropped with a reason that the scan reports.
 *
 * Tickers: schema (positive finite decimal strings, no exponent, NaN or empty), bid <= ask, a
 * spread no wider than MAX_SPREAD_FRACTION, a last price inside the book's neighbourhood, a 24 h
 * volume above zero (a market without trades is halted or delisted), and a timestamp neither
 * older than the configured age nor in the future.
 * Candles: schema, OHLC consistency, strictly one minute apart (a gap or a duplicate rejects the
 * whole series, so no indicator is computed across it), enough of them, and fresh.
 */
import * as z from './zod-mini.js';
import type { Candle, Ticker } from './market.js';
import { dec, decimalBelow } from './money.js';

/** Clock skew tolerated for exchange timestamps that lie slightly in the future. */
export const MAX_FUTURE_SKEW_MS = 5_000;
/** Widest bid/ask spread accepted, as a fraction of the ask (a wider book is treated as broken). */
export const MAX_SPREAD_FRACTION = '0.05';
/** One-minute candles. */
export const CANDLE_MS = 60_000;
/**
 * Farthest the last trade may lie outside the bid/ask, as a fraction of the mid price. Further out,
 * the ticker mixes data of different moments (or a broken feed) and is not used.
 */
export const MAX_LAST_DEVIATION_FRACTION = '0.1';

const DECIMAL = /^\d{1,20}(\.\d{1,18})?$/;
// zod runs refinements even after the pattern failed: only a well-formed string reaches decimal.js.
const positive = z.string().check(
  z.regex(DECIMAL, 'must be a decimal string'),
  z.refine((s) => !DECIMAL.test(s) || dec(s).gt(0), 'must be > 0'),
);
const nonNegative = z.string().check(z.regex(DECIMAL, 'must be a decimal string'));

/**
 * The same checks as the schemas below, as plain predicates: a well-formed value (what every
 * exchange adapter returns) is accepted without the schema's per-field overhead, and anything
 * else goes through the schema for its error message. A decimal string matching the pattern is
 * > 0 exactly when it has a non-zero digit. test/unit/market-validation-fast.test.ts holds them to
 * the schemas.
 */
const NON_ZERO_DIGIT = /[1-9]/;
const isPositive = (v: unknown): v is string => typeof v === 'string' && decimalSign(v) === 1;
const isNonNegative = (v: unknown): v is string => typeof v === 'string' && decimalSign(v) >= 0;

const ZERO = 48;
const NINE = 57;
const POINT = 46;

/**
 * What `DECIMAL` and `NON_ZERO_DIGIT` say of `text` in one pass over its characters: -1 when it is
 * no decimal string of the pattern (1 to 20 digits, optionally a point and 1 to 18 digits), else
 * 0 when all its digits are zeros and 1 when one is not. Every candle of every scan goes through
 * it five times, where the two patterns took two regular expression runs each.
 */
export function decimalSign(text: string): -1 | 0 | 1 {
  const length = text.length;
  let i = 0;
  let digits = 0;
  while (i < length) {
    const c = text.charCodeAt(i);
    if (c < ZERO || c > NINE) break;
    digits |= c - ZERO;
    i += 1;
  }
  if (i === 0 || i > 20) return -1;
  if (i < length) {
    if (text.charCodeAt(i) !== POINT) return -1;
    i += 1;
    const start = i;
    while (i < length) {
      const c = text.charCodeAt(i);
      if (c < ZERO || c > NINE) return -1;
      digits |= c - ZERO;
      i += 1;
    }
    if (i === start || i - start > 18) return -1;
  }
  return digits === 0 ? 0 : 1;
}
// z.number().int() accepts safe integers only.
const isPositiveInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;

/** `TickerSchema.parse(raw)` for a well-formed ticker (the same fields, unknown ones dropped); undefined otherwise. */
export function wellFormedTicker(raw: unknown): Ticker | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const { symbol, bid, ask, last, volume, timestamp } = raw as Record<string, unknown>;
  if (typeof symbol !== 'string' || symbol.length < 3 || !isPositive(bid) || !isPositive(ask) || !isPositive(last) || !isNonNegative(volume) || !isPositiveInt(timestamp)) return undefined;
  return { symbol, bid, ask, last, volume, timestamp };
}

/** `CandleSchema.parse(raw)` for a well-formed candle (the same fields, unknown ones dropped); undefined otherwise. */
export function wellFormedCandle(raw: unknown): Candle | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const { openTime, open, high, low, close, volume } = raw as Record<string, unknown>;
  if (!isPositiveInt(openTime) || !isPositive(open) || !isPositive(high) || !isPositive(low) || !isPositive(close) || !isNonNegative(volume)) return undefined;
  return { openTime, open, high, low, close, volume };
}

export const TickerSchema = z.object({
  symbol: z.string().check(z.minLength(3)),
  bid: positive,
  ask: positive,
  last: positive,
  volume: nonNegative,
  timestamp: z.number().check(z.int(), z.positive()),
});

export type Rejection = { readonly symbol: string; readonly reason: string };
export type TickerCheck = { ok: true; ticker: Ticker } | { ok: false; rejection: Rejection };

export function checkTicker(raw: unknown, now: Date, maxAgeMs: number): TickerCheck {
  const symbol = typeof raw === 'object' && raw !== null && 'symbol' in raw ? String((raw as { symbol: unknown }).symbol) : '?';
  let t = wellFormedTicker(raw);
  if (!t) {
    const parsed = TickerSchema.safeParse(raw);
    if (!parsed.success) {
      return { ok: false, rejection: { symbol, reason: `invalid ticker: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join(', ')}` } };
    }
    t = parsed.data;
  }
  // One price for bid, ask and last (equal strings): no spread, last at the mid, nothing to compute.
  if (t.bid !== t.ask || t.ask !== t.last) {
    // Each number parsed once: this runs for every symbol of every scan.
    const bid = dec(t.bid);
    const ask = dec(t.ask);
    const last = dec(t.last);
    if (bid.gt(ask)) return { ok: false, rejection: { symbol, reason: `crossed book: bid ${t.bid} > ask ${t.ask}` } };
    if (ask.minus(bid).div(ask).gt(MAX_SPREAD_FRACTION)) {
      return { ok: false, rejection: { symbol, reason: `spread wider than ${MAX_SPREAD_FRACTION} of the ask` } };
    }
    const mid = bid.plus(ask).div(2);
    const band = mid.times(MAX_LAST_DEVIATION_FRACTION);
    if (last.lt(bid.minus(band)) || last.gt(ask.plus(band))) {
      return { ok: false, rejection: { symbol, reason: `last ${t.last} far outside the book ${t.bid}/${t.ask}` } };
    }
  }
  if (!NON_ZERO_DIGIT.test(t.volume)) return { ok: false, rejection: { symbol, reason: 'no volume in 24 h (market halted?)' } };
  const age = now.getTime() - t.timestamp;
  if (age > maxAgeMs) return { ok: false, rejection: { symbol, reason: `stale: ${Math.round(age / 1000)} s old` } };
  if (age < -MAX_FUTURE_SKEW_MS) return { ok: false, rejection: { symbol, reason: 'timestamp in the future' } };
  return { ok: true, ticker: t };
}

export const CandleSchema = z.object({
  openTime: z.number().check(z.int(), z.positive()),
  open: positive,
  high: positive,
  low: positive,
  close: positive,
  volume: nonNegative,
});

/**
 * Whether a well-formed candle's high is at or above its open and close, and its low at or below
 * them, compared exactly as decimals.
 *
 * - Prices written alike (the same length, the decimal point at the same place: an exchange's or a
 *   data file's fixed decimals) compare as decimals do when compared as text, digit by digit.
 * - Otherwise each pair compares as numbers, and as decimals only where the numbers are equal
 *   (`decimalBelow`, as the backtest's data files are checked).
 */
export function ohlcConsistent(k: Candle): boolean {
  const { open, high, low, close } = k;
  const length = open.length;
  if (high.length === length && low.length === length && close.length === length) {
    const point = open.indexOf('.');
    if (high.indexOf('.') === point && low.indexOf('.') === point && close.indexOf('.') === point) {
      return high >= open && high >= close && low <= open && low <= close;
    }
  }
  const h = Number(high);
  const l = Number(low);
  const o = Number(open);
  const c = Number(close);
  return !decimalBelow(high, h, open, o) && !decimalBelow(high, h, close, c) && !decimalBelow(open, o, low, l) && !decimalBelow(close, c, low, l);
}

export type CandleCheck = { ok: true; candles: Candle[] } | { ok: false; reason: string };

/**
 * Validates a closed-candle series: schema, OHLC consistency, no gap (DATA-3), at least `needed`
 * candles, and freshness: the newest candle must have closed within `maxAgeMs` (and not after now).
 */
export function checkCandles(raw: readonly unknown[], now: Date, maxAgeMs: number, needed = 1, timeframeMs = CANDLE_MS): CandleCheck {
  const candles: Candle[] = [];
  for (const c of raw) {
    let k = wellFormedCandle(c);
    if (!k) {
      const parsed = CandleSchema.safeParse(c);
      if (!parsed.success) {
        return { ok: false, reason: `invalid candle: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join(', ')}` };
      }
      k = parsed.data;
    }
    if (!ohlcConsistent(k)) return { ok: false, reason: `inconsistent candle at ${new Date(k.openTime).toISOString()}` };
    candles.push(k);
  }
  if (candles.length === 0) return { ok: false, reason: 'no candles' };
  for (let i = 1; i < candles.length; i += 1) {
    const step = (candles[i]?.openTime ?? 0) - (candles[i - 1]?.openTime ?? 0);
    if (step === timeframeMs) continue;
    const at = new Date(candles[i]?.openTime ?? 0).toISOString();
    if (step <= 0) return { ok: false, reason: `candles out of order or duplicated at ${at}` };
    return { ok: false, reason: `candle gap before ${at}` };
  }
  if (candles.length < needed) return { ok: false, reason: `not enough candles: ${candles.length} of ${needed}` };
  const last = candles[candles.length - 1];
  if (last && last.openTime + timeframeMs > now.getTime() + MAX_FUTURE_SKEW_MS) return { ok: false, reason: 'candle not closed yet' };
  if (last && now.getTime() - (last.openTime + timeframeMs) > maxAgeMs) return { ok: false, reason: 'stale candles' };
  return { ok: true, candles };
}

export type JoinedCheck = { ok: true; candles: readonly Candle[] } | { ok: false; reason: string };

/**
 * Checks a series made of already validated candles and newly validated ones (a cached series with
 * fresh candles appended): order, no gap at the join or anywhere else, and at least `needed`.
 * Numbers only: the candles themselves passed `checkCandles` when they arrived. The accepted
 * series is the one given (the caller's own, not copied).
 */
export function checkJoined(series: readonly Candle[], needed: number, timeframeMs = CANDLE_MS): JoinedCheck {
  for (let i = 1; i < series.length; i += 1) {
    const step = (series[i]?.openTime ?? 0) - (series[i - 1]?.openTime ?? 0);
    if (step !== timeframeMs) return { ok: false, reason: `candle gap before ${new Date(series[i]?.openTime ?? 0).toISOString()}` };
  }
  if (series.length < needed) return { ok: false, reason: `not enough candles: ${series.length} of ${needed}` };
  return { ok: true, candles: series };
}
