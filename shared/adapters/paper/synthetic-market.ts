/**
 * A deterministic synthetic market for paper mode (DATA-4: its data is tagged `synthetic`).
 *
 * Every price is a pure function of (seed, symbol, second): no state is stored, so every Lambda
 * container, the local stack and the tests see the same market for the same seed.
 *
 * The log price of a symbol is built top-down, each level a discrete Brownian bridge pinned to
 * the level above, so the path is continuous at every boundary and the cost of one price is
 * bounded (about 24 + 60 + 60 increments plus a few lattice values), whatever the date:
 * 1. day level: a sum of smooth value-noise octaves (1 to 64 days) evaluated at each UTC day.
 *    It is stationary, which is the mean reversion: prices wander but stay in a band of about
 *    +-40 % around the symbol's base price, over months or years;
 * 2. hours: 24 increments bridged from the day's level to the next day's;
 * 3. minutes: 60 increments bridged from one hour node to the next;
 * 4. seconds: 60 increments bridged from one minute node to the next.
 * Increments come from an integer hash of (seed, symbol, level, index), scaled so that a
 * one-minute move is typically 0.1-0.2 %.
 *
 * Floating point stays inside this module: prices leave it as decimal strings rounded to the
 * market's tick. V8's Math.exp is a deterministic software implementation, so processes on the
 * same Node major agree to the tick.
 */
import { createHash } from 'node:crypto';
import { ExchangeRejectedError } from '../../domain/errors.js';
import type { Candle, MarketRules, Ticker } from '../../domain/market.js';
import type { DecimalString } from '../../domain/money.js';

/** Symbols this market accepts: `BASE/QUOTE`, upper-case letters and digits. */
export const SYNTHETIC_SYMBOL_PATTERN = /^[A-Z0-9]{2,15}\/[A-Z0-9]{2,15}$/;
/** Most candles one `candles` call returns (Binance's kline limit). */
export const MAX_CANDLES = 1000;

const SECONDS_PER_MINUTE = 60;
const MINUTES_PER_HOUR = 60;
const HOURS_PER_DAY = 24;
const MS_PER_SECOND = 1000;
const MS_PER_MINUTE = 60_000;

/** Reference prices in USD; quote assets not listed count as one USD per unit. */
const ANCHOR_USD: Readonly<Record<string, number>> = { BTC: 60_000, ETH: 3_000 };
const STABLECOINS: ReadonlySet<string> = new Set(['USDT', 'USDC', 'FDUSD', 'BUSD', 'TUSD', 'DAI', 'USD']);
/** Range of the base price (USD) of assets that are neither anchors nor stablecoins. */
const OTHER_MIN_USD = 0.1;
const OTHER_MAX_USD = 500;
/** Minimum order value in USD; converted to the quote currency for non-USD quotes. */
const MIN_NOTIONAL_USD = 5;

/** Standard deviation of a one-minute log return, before the per-symbol factor (0.8-1.4). */
const MINUTE_SIGMA = 0.0015;
/** Stablecoin-to-stablecoin pairs barely move. */
const STABLE_PAIR_SIGMA_FACTOR = 0.02;
/** Day-level value-noise octaves: period in days and amplitude in log price. */
const DAY_OCTAVES: ReadonlyArray<{ readonly periodDays: number; readonly amplitude: number }> = [
  { periodDays: 1, amplitude: 0.04 },
  { periodDays: 4, amplitude: 0.07 },
  { periodDays: 16, amplitude: 0.11 },
  { periodDays: 64, amplitude: 0.16 },
];
/** Half of the bid/ask spread, as a fraction of the price: 1 to 3 basis points per symbol. */
const HALF_SPREAD_MIN = 0.0001;
const HALF_SPREAD_RANGE = 0.0002;
/** Significant digits of the price tick relative to the base price. */
const PRICE_DIGITS = 7;
/** Bounded memo sizes (per symbol); the memo only saves work, it never changes a result. */
const MEMO_LIMIT = 256;

/** Hash level tags: keep every stream of increments independent. */
const LEVEL_HOUR = 1;
const LEVEL_MINUTE = 2;
const LEVEL_SECOND = 3;
const LEVEL_VOLUME = 4;
const LEVEL_OCTAVE = 16;

/** Unit-variance scale of a uniform draw on [-0.5, 0.5). */
const UNIFORM_TO_UNIT = Math.sqrt(12);

export interface SyntheticMarketOptions {
  /** Any string; the same seed gives the same market everywhere. */
  readonly seed: string;
}

interface SymbolModel {
  readonly symbol: string;
  /** 32-bit key of (seed, symbol) for the increment hash. */
  readonly key: number;
  readonly basePrice: number;
  /** Price tick = 10^tickExp. */
  readonly tickExp: number;
  /** Amount step = 10^stepExp. */
  readonly stepExp: number;
  readonly halfSpread: number;
  /** Scales every level of the walk (0.8-1.4; tiny for stablecoin pairs). */
  readonly volatility: number;
  readonly minuteSigma: number;
  /** USD value of one unit of base, for plausible volumes. */
  readonly baseUsd: number;
  /** Daily traded value in USD. */
  readonly dailyUsdVolume: number;
  readonly rules: MarketRules;
  readonly dayPaths: Map<number, Float64Array>;
  readonly hourPaths: Map<number, Float64Array>;
}

/**
 * Deterministic seeded random-walk market. Stateless apart from a bounded memo, so any number
 * of instances with the same seed return identical tickers and candles.
 */
export class SyntheticMarket {
  readonly seed: string;
  private readonly models = new Map<string, SymbolModel>();

  constructor(options: SyntheticMarketOptions) {
    this.seed = options.seed;
  }

  /** Precision and limits of `symbol`; independent of the seed. */
  rules(symbol: string): MarketRules {
    return this.model(symbol).rules;
  }

  /** Last traded price at `at` (constant within each second), rounded to the tick. */
  price(symbol: string, at: Date): DecimalString {
    const m = this.model(symbol);
    return formatScaled(Math.max(1, Math.round(this.priceAt(m, secondOf(at)) * 10 ** -m.tickExp)), m.tickExp);
  }

  /** Ticker at `at`: bid < ask around the last price, 24 h base volume, timestamp = `at`. */
  ticker(symbol: string, at: Date): Ticker {
    const m = this.model(symbol);
    const second = secondOf(at);
    const p = this.priceAt(m, second);
    const scale = 10 ** -m.tickExp;
    const lastTicks = Math.max(1, Math.round(p * scale));
    const bidTicks = Math.max(1, Math.min(lastTicks, Math.floor(p * (1 - m.halfSpread) * scale)));
    const askTicks = Math.max(bidTicks + 1, lastTicks, Math.ceil(p * (1 + m.halfSpread) * scale));
    const hour = Math.floor(second / (SECONDS_PER_MINUTE * MINUTES_PER_HOUR));
    const volume = (m.dailyUsdVolume * (0.7 + 0.6 * uniform(m.key, LEVEL_VOLUME, hour, 0))) / m.baseUsd;
    return {
      symbol,
      bid: formatScaled(bidTicks, m.tickExp),
      ask: formatScaled(askTicks, m.tickExp),
      last: formatScaled(lastTicks, m.tickExp),
      volume: formatScaled(Math.max(1, Math.round(volume * 10 ** -m.stepExp)), m.stepExp),
      timestamp: at.getTime(),
    };
  }

  /**
   * The `limit` most recent closed one-minute candles at `until`, oldest first. A candle opening
   * at T covers the seconds T .. T+59 s and is closed from T+60 s on; open is the price at T,
   * close the price at T+59 s.
   */
  candles(symbol: string, until: Date, limit: number): Candle[] {
    const m = this.model(symbol);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_CANDLES) {
      throw new ExchangeRejectedError(`candle limit must be an integer in 1..${MAX_CANDLES}, got ${limit}`, 'bad-request');
    }
    const untilMs = timeOf(until);
    const lastMinute = Math.floor(untilMs / MS_PER_MINUTE) - 1;
    const scale = 10 ** -m.tickExp;
    const stepScale = 10 ** -m.stepExp;
    const minuteUsd = m.dailyUsdVolume / (HOURS_PER_DAY * MINUTES_PER_HOUR);
    const nodes = new Float64Array(SECONDS_PER_MINUTE + 1);
    const candles: Candle[] = [];
    for (let minute = lastMinute - limit + 1; minute <= lastMinute; minute += 1) {
      this.minutePath(m, minute, nodes);
      let high = -Infinity;
      let low = Infinity;
      for (let s = 0; s < SECONDS_PER_MINUTE; s += 1) {
        const v = nodes[s] as number;
        if (v > high) high = v;
        if (v < low) low = v;
      }
      const toTicks = (x: number): number => Math.max(1, Math.round(m.basePrice * Math.exp(x) * scale));
      const volume = (minuteUsd * (0.2 + 1.6 * uniform(m.key, LEVEL_VOLUME, minute, 1))) / m.baseUsd;
      candles.push({
        openTime: minute * MS_PER_MINUTE,
        open: formatScaled(toTicks(nodes[0] as number), m.tickExp),
        high: formatScaled(toTicks(high), m.tickExp),
        low: formatScaled(toTicks(low), m.tickExp),
        close: formatScaled(toTicks(nodes[SECONDS_PER_MINUTE - 1] as number), m.tickExp),
        volume: formatScaled(Math.max(1, Math.round(volume * stepScale)), m.stepExp),
      });
    }
    return candles;
  }

  private model(symbol: string): SymbolModel {
    const cached = this.models.get(symbol);
    if (cached) return cached;
    if (!SYNTHETIC_SYMBOL_PATTERN.test(symbol)) {
      throw new ExchangeRejectedError(`unknown symbol ${JSON.stringify(symbol)}: expected BASE/QUOTE`, 'bad-symbol', {
        details: { symbol },
      });
    }
    const [base = '', quote = ''] = symbol.split('/');
    if (base === quote) {
      throw new ExchangeRejectedError(`symbol ${symbol} trades an asset against itself`, 'bad-symbol', { details: { symbol } });
    }
    const baseUsd = assetUsd(base);
    const quoteUsd = ANCHOR_USD[quote] ?? 1;
    const basePrice = baseUsd / quoteUsd;
    const tickExp = Math.floor(Math.log10(basePrice)) - (PRICE_DIGITS - 1);
    // One amount step is worth 0.1 to 1 USD (capped to 1e-8 .. 1 unit).
    const stepExp = Math.max(-8, Math.min(0, -(Math.floor(Math.log10(baseUsd)) + 1)));
    const symbolKey = hashString(`symbol|${symbol}`);
    const stable = STABLECOINS.has(base) && STABLECOINS.has(quote);
    const volatility = (0.8 + 0.6 * uniform(symbolKey, 0, 0, 1)) * (stable ? STABLE_PAIR_SIGMA_FACTOR : 1);
    const rules: MarketRules = {
      symbol,
      base,
      quote,
      amountStep: formatScaled(1, stepExp),
      priceTick: formatScaled(1, tickExp),
      minAmount: formatScaled(1, stepExp),
      maxAmount: formatScaled(1, stepExp + 9),
      minPrice: formatScaled(1, tickExp),
      minNotional: quoteUsd === 1 ? String(MIN_NOTIONAL_USD) : oneSignificantDigit(MIN_NOTIONAL_USD / quoteUsd),
    };
    const model: SymbolModel = {
      symbol,
      key: hashString(`${this.seed}|${symbol}`),
      basePrice,
      tickExp,
      stepExp,
      halfSpread: HALF_SPREAD_MIN + HALF_SPREAD_RANGE * uniform(symbolKey, 0, 0, 2),
      volatility,
      minuteSigma: MINUTE_SIGMA * volatility,
      baseUsd,
      dailyUsdVolume: 10 ** (7 + 2 * uniform(symbolKey, 0, 0, 3)),
      rules,
      dayPaths: new Map(),
      hourPaths: new Map(),
    };
    this.models.set(symbol, model);
    return model;
  }

  private priceAt(m: SymbolModel, second: number): number {
    const minute = Math.floor(second / SECONDS_PER_MINUTE);
    const nodes = this.minutePath(m, minute, new Float64Array(SECONDS_PER_MINUTE + 1));
    return m.basePrice * Math.exp(nodes[second - minute * SECONDS_PER_MINUTE] as number);
  }

  /** Log offsets at the 25 hour boundaries of `day`, from its level to the next day's. */
  private dayPath(m: SymbolModel, day: number): Float64Array {
    const cached = m.dayPaths.get(day);
    if (cached) return cached;
    const nodes = new Float64Array(HOURS_PER_DAY + 1);
    const hourSigma = m.minuteSigma * Math.sqrt(MINUTES_PER_HOUR);
    bridge(nodes, m.volatility * dayLevel(m.key, day), m.volatility * dayLevel(m.key, day + 1), hourSigma, m.key, LEVEL_HOUR, day);
    remember(m.dayPaths, day, nodes);
    return nodes;
  }

  /** Log offsets at the 61 minute boundaries of `hour` (hours since the Unix epoch). */
  private hourPath(m: SymbolModel, hour: number): Float64Array {
    const cached = m.hourPaths.get(hour);
    if (cached) return cached;
    const day = Math.floor(hour / HOURS_PER_DAY);
    const dayNodes = this.dayPath(m, day);
    const i = hour - day * HOURS_PER_DAY;
    const nodes = new Float64Array(MINUTES_PER_HOUR + 1);
    bridge(nodes, dayNodes[i] as number, dayNodes[i + 1] as number, m.minuteSigma, m.key, LEVEL_MINUTE, hour);
    remember(m.hourPaths, hour, nodes);
    return nodes;
  }

  /** Log offsets at the 61 second boundaries of `minute` (minutes since the Unix epoch), into `out`. */
  private minutePath(m: SymbolModel, minute: number, out: Float64Array): Float64Array {
    const hour = Math.floor(minute / MINUTES_PER_HOUR);
    const hourNodes = this.hourPath(m, hour);
    const i = minute - hour * MINUTES_PER_HOUR;
    const secondSigma = m.minuteSigma / Math.sqrt(SECONDS_PER_MINUTE);
    bridge(out, hourNodes[i] as number, hourNodes[i + 1] as number, secondSigma, m.key, LEVEL_SECOND, minute);
    return out;
  }
}

/**
 * Fills `out` (n + 1 nodes) with a discrete Brownian bridge from `start` to `end`: n increments
 * of standard deviation `sigma`, shifted so that they sum to `end - start` exactly.
 */
function bridge(out: Float64Array, start: number, end: number, sigma: number, key: number, level: number, index: number): void {
  const n = out.length - 1;
  let sum = 0;
  out[0] = 0;
  for (let i = 0; i < n; i += 1) {
    sum += (uniform(key, level, index, i) - 0.5) * UNIFORM_TO_UNIT * sigma;
    out[i + 1] = sum;
  }
  const drift = (end - start - sum) / n;
  for (let i = 0; i <= n; i += 1) out[i] = start + (out[i] as number) + drift * i;
  out[n] = end;
}

/** Stationary day level (before the symbol's volatility): smooth value noise over several periods; mean zero. */
function dayLevel(key: number, day: number): number {
  let level = 0;
  for (let o = 0; o < DAY_OCTAVES.length; o += 1) {
    const { periodDays, amplitude } = DAY_OCTAVES[o] as { periodDays: number; amplitude: number };
    const cell = Math.floor(day / periodDays);
    const f = (day - cell * periodDays) / periodDays;
    const smooth = f * f * (3 - 2 * f);
    const a = uniform(key, LEVEL_OCTAVE + o, cell, 0) * 2 - 1;
    const b = uniform(key, LEVEL_OCTAVE + o, cell + 1, 0) * 2 - 1;
    level += amplitude * (a + (b - a) * smooth);
  }
  return level;
}

/** A uniform draw in [0, 1) from 32-bit integer mixing (lowbias32); fast and portable. */
function uniform(key: number, level: number, index: number, i: number): number {
  let h = mix32(key ^ Math.imul(level + 1, 0x9e3779b9));
  h = mix32(h ^ (index | 0));
  h = mix32(h ^ Math.imul(Math.floor(index / 2 ** 32) + 0x632be5ab, 0x85ebca6b));
  h = mix32((h + Math.imul(i + 1, 0xc2b2ae35)) | 0);
  return h / 2 ** 32;
}

function mix32(value: number): number {
  let x = value | 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

function hashString(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32BE(0);
}

/** Base price of one unit of `asset` in USD: anchors, stablecoins, else log-uniform from its name. */
function assetUsd(asset: string): number {
  const anchor = ANCHOR_USD[asset];
  if (anchor !== undefined) return anchor;
  if (STABLECOINS.has(asset)) return 1;
  const u = uniform(hashString(`asset|${asset}`), 0, 0, 0);
  return OTHER_MIN_USD * (OTHER_MAX_USD / OTHER_MIN_USD) ** u;
}

function remember(memo: Map<number, Float64Array>, index: number, nodes: Float64Array): void {
  if (memo.size >= MEMO_LIMIT) memo.clear();
  memo.set(index, nodes);
}

function timeOf(at: Date): number {
  const ms = at.getTime();
  if (!Number.isFinite(ms)) throw new ExchangeRejectedError('invalid time', 'bad-request');
  return ms;
}

function secondOf(at: Date): number {
  return Math.floor(timeOf(at) / MS_PER_SECOND);
}

/** `units * 10^exp` as a canonical decimal string (no exponent, no trailing zeros). */
function formatScaled(units: number, exp: number): DecimalString {
  if (!Number.isSafeInteger(units) || units < 0) throw new RangeError(`cannot format ${units} units`);
  if (units === 0) return '0';
  const digits = String(units);
  if (exp >= 0) return digits + '0'.repeat(exp);
  const padded = digits.padStart(-exp + 1, '0');
  const cut = padded.length + exp;
  const fraction = padded.slice(cut).replace(/0+$/, '');
  const integer = padded.slice(0, cut);
  return fraction === '' ? integer : `${integer}.${fraction}`;
}

function oneSignificantDigit(value: number): DecimalString {
  const exp = Math.floor(Math.log10(value));
  return formatScaled(Math.max(1, Math.round(value / 10 ** exp)), exp);
}
