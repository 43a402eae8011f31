/**
 * Balance drift between the exchange and the local book (REC-4). Pure.
 *
 * What is compared, per asset:
 * - the quote currency: local `available + reserved` (cash not turned into positions) against
 *   the exchange's quote total (`free + used`): an open buy holds its funds in `used` on the
 *   exchange and in `reserved` locally, so resting orders cause no drift;
 * - each base asset: the sum of local position quantities of `<BASE>/<QUOTE>` symbols, plus the
 *   book's holding of that asset when fees are paid with it (BNB), against the exchange's total.
 * The difference of each asset is valued in the quote currency (base assets at a ticker price)
 * and the drift is the sum of the absolute values: a fill booked on one side only shows up as
 * both a cash and a position difference, so it is never netted away.
 *
 * Assets the exchange holds that Tradewarden neither trades (watchlist) nor holds a position in
 * are not compared: a live account may hold other coins that are none of our business.
 *
 * The external baseline (REC-7, domain/ledger.ts): of a tracked asset the exchange is expected to
 * hold the book plus the recorded baseline (what was there beyond the budget when the book opened
 * or was last rebased), so the owner's other holdings of a tracked asset are no drift either.
 * Drift modes (TW_DRIFT_MODE):
 * - `exclusive` (default): Tradewarden is the only one trading these assets on the account; any
 *   difference from book + baseline, either way, is drift (a fill booked on one side only shows).
 * - `shared`: several deployments (or a person) trade the same assets on one account, each with
 *   its own budget, so the others' trades move the balances and cannot be told apart from a
 *   missed fill. Only what no other party can explain counts: the exchange holding less than the
 *   book itself. A surplus, or a shortfall the others' holdings cover, is not seen in this mode.
 */
import type { AccountBook } from './account.js';
import { ConfigError } from './errors.js';
import { DECIMAL_PATTERN, Decimal, UNSIGNED_DECIMAL_PATTERN, add, canonical, dec, isPositive, str, type DecimalString } from './money.js';

/** How far the books may disagree before an alarm, and before new entries pause. */
export interface DriftThresholds {
  /** Drift above this (quote currency) raises the alarm: a metric and an audit record. */
  readonly alarmQuote: DecimalString;
  /** Drift above this (quote currency) pauses new entries. */
  readonly pauseQuote: DecimalString;
}

export type DriftLevel = 'ok' | 'alarm' | 'pause';

export interface AssetDrift {
  readonly asset: string;
  /** What the local book says we hold. */
  readonly local: DecimalString;
  /** What the exchange says we hold (`free + used`). */
  readonly exchange: DecimalString;
  /** The recorded external baseline: what the exchange holds beyond the book that is not ours. */
  readonly baseline: DecimalString;
  /** exchange - (local + baseline) in `exclusive` mode; min(0, exchange - local) in `shared` mode. In units of the asset. */
  readonly difference: DecimalString;
  /** Quote per unit used to value the difference; absent when no price is known. */
  readonly price?: DecimalString;
  /** |difference| x price, in the quote currency; absent when unpriced. */
  readonly quote?: DecimalString;
}

export interface Drift {
  /** The quote currency every value is expressed in. */
  readonly currency: string;
  /** Sum of the valued absolute differences, in the quote currency. */
  readonly quote: DecimalString;
  /** Every compared asset, the quote currency first. */
  readonly assets: readonly AssetDrift[];
  /** Assets that differ but could not be valued (no ticker, no position price). */
  readonly unpriced: readonly string[];
  readonly level: DriftLevel;
}

/** `BTC` of `BTC/USDT`. */
export function baseOf(symbol: string): string {
  return symbol.slice(0, symbol.indexOf('/'));
}

/** `USDT` of `BTC/USDT`. */
export function quoteOf(symbol: string): string {
  return symbol.slice(symbol.indexOf('/') + 1);
}

/**
 * The assets to compare: the quote currency, the base of every watched symbol, and the base of
 * every position the book holds (a symbol dropped from the watchlist may still be held), and every
 * fee asset the book holds.
 */
export function trackedAssets(book: AccountBook, watchlist: readonly string[]): string[] {
  const bases = new Set<string>();
  for (const symbol of watchlist) if (quoteOf(symbol) === book.currency) bases.add(baseOf(symbol));
  for (const symbol of Object.keys(book.positions)) if (quoteOf(symbol) === book.currency) bases.add(baseOf(symbol));
  if (book.holdings) for (const asset of Object.keys(book.holdings)) bases.add(asset);
  bases.delete(book.currency);
  return [book.currency, ...[...bases].sort()];
}

/** What the local book holds of `asset`. */
export function localHolding(book: AccountBook, asset: string): DecimalString {
  return localHoldings(book)(asset);
}

/**
 * `localHolding` of every asset from one pass over the book's positions (the same sums, added
 * in the same order), for comparing all tracked assets at once. Kept as text: a sum of one term
 * (a base with one position, the quote with nothing reserved) is that term's text (`add`).
 */
function localHoldings(book: AccountBook): (asset: string) => DecimalString {
  const sums = new Map<string, DecimalString>();
  for (const [symbol, position] of Object.entries(book.positions)) {
    if (quoteOf(symbol) !== book.currency) continue;
    const base = baseOf(symbol);
    sums.set(base, add(sums.get(base) ?? '0', position.qty));
  }
  return (asset) => {
    if (asset === book.currency) return add(book.available, book.reserved);
    const qty = sums.get(asset) ?? '0';
    const held = book.holdings?.[asset];
    return held ? add(qty, held.qty) : qty;
  };
}

/**
 * A price for valuing a base asset: the ticker's when known, else the average entry price of
 * the position or the holding (better than nothing: the difference is at least valued at what it cost).
 */
export function valuationPrice(book: AccountBook, asset: string, tickerPrices: Readonly<Record<string, DecimalString>>): DecimalString | undefined {
  if (asset === book.currency) return '1';
  const symbol = `${asset}/${book.currency}`;
  const ticker = tickerPrices[symbol];
  if (ticker !== undefined && isPositive(ticker)) return ticker;
  const avg = book.positions[symbol]?.avgPrice;
  if (avg !== undefined && isPositive(avg)) return avg;
  const held = book.holdings?.[asset];
  return held && isPositive(held.qty) && isPositive(held.basis) ? str(dec(held.basis).div(dec(held.qty))) : undefined;
}

/** The level of a drift: strictly above a threshold counts; an unvalued difference alarms at least. */
export function driftLevel(quote: DecimalString, unpriced: number, thresholds: DriftThresholds): DriftLevel {
  if (dec(quote).gt(dec(thresholds.pauseQuote))) return 'pause';
  if (dec(quote).gt(dec(thresholds.alarmQuote)) || unpriced > 0) return 'alarm';
  return 'ok';
}

export interface DriftInput {
  readonly book: AccountBook;
  /** Exchange totals per asset; an asset missing here is held at zero. */
  readonly balances: Readonly<Record<string, { readonly total: DecimalString }>>;
  /** Ticker prices per symbol (`BTC/USDT` -> last price). */
  readonly prices: Readonly<Record<string, DecimalString>>;
  readonly watchlist: readonly string[];
  readonly thresholds: DriftThresholds;
  /** @default 'exclusive' */
  readonly mode?: DriftMode;
}

/** Whether Tradewarden alone trades its assets on the account (see the module comment). */
export type DriftMode = 'exclusive' | 'shared';
export const DRIFT_MODES: readonly DriftMode[] = ['exclusive', 'shared'];

/** Compares the book with the exchange balances. */
export function computeDrift(input: DriftInput): Drift {
  const { book } = input;
  const assets: AssetDrift[] = [];
  const unpriced: string[] = [];
  let total = new Decimal(0);
  const localOf = localHoldings(book);
  for (const asset of trackedAssets(book, input.watchlist)) {
    const local = localOf(asset);
    const exchange = canonical(input.balances[asset]?.total ?? '0');
    const baseline = canonical(book.baselines?.[asset] ?? '0');
    const price = valuationPrice(book, asset, input.prices);
    // The usual case: the exchange holds what the book holds, without a baseline. The canonical
    // texts are equal, so the difference is zero in either mode (x - x is +0), and so is its value
    // at any finite price (a plain decimal text is one, known without a parse: prices change every run).
    if (exchange === local && baseline === '0' && (price === undefined || DECIMAL_PATTERN.test(price) || dec(price).isFinite())) {
      assets.push(price === undefined ? { asset, local, exchange, baseline, difference: '0' } : { asset, local, exchange, baseline, difference: '0', price, quote: '0' });
      continue;
    }
    // The text of a sum is exact (40 digits), so it stands for the sum itself.
    const held = dec(local);
    const difference = input.mode === 'shared' ? Decimal.min(0, dec(exchange).minus(held)) : dec(exchange).minus(held).minus(dec(baseline));
    if (price === undefined) {
      if (!difference.isZero()) unpriced.push(asset);
      assets.push({ asset, local, exchange, baseline, difference: str(difference) });
      continue;
    }
    const quote = difference.abs().times(dec(price));
    total = total.plus(quote);
    assets.push({ asset, local, exchange, baseline, difference: str(difference), price, quote: str(quote) });
  }
  const quote = str(total);
  return { currency: book.currency, quote, assets, unpriced, level: driftLevel(quote, unpriced.length, input.thresholds) };
}

/** @throws ConfigError unless both thresholds are non-negative decimals and the alarm is not above the pause. */
export function assertThresholds(thresholds: DriftThresholds): void {
  const issues: string[] = [];
  if (!UNSIGNED_DECIMAL_PATTERN.test(thresholds.alarmQuote)) issues.push(`drift alarm threshold must be a non-negative decimal, got ${JSON.stringify(thresholds.alarmQuote)}`);
  if (!UNSIGNED_DECIMAL_PATTERN.test(thresholds.pauseQuote)) issues.push(`drift pause threshold must be a non-negative decimal, got ${JSON.stringify(thresholds.pauseQuote)}`);
  if (issues.length === 0 && dec(thresholds.alarmQuote).gt(thresholds.pauseQuote)) {
    issues.push(`drift alarm threshold ${thresholds.alarmQuote} is above the pause threshold ${thresholds.pauseQuote}`);
  }
  if (issues.length > 0) throw new ConfigError(issues);
}
