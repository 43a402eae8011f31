/**
 * Risk limits on the send path (EXE-13) and dust (RISK-9), pure.
 *
 * The executor checks every entry (a buy) against the limits inside the account book's
 * conditional write that reserves its budget (execute-intent.ts): the book holds the positions
 * and the reservations of every order in flight, and the write is conditional on the version the
 * check read, so two executors cannot both pass a limit, and an intent that waited in a queue is
 * checked against what the book holds when it is sent, not when it was made.
 *
 * What counts, from the book alone (no prices: the write must not depend on a market read):
 * - a position counts at its cost basis (what was paid for it, fees included);
 * - an order in flight counts with the quote still reserved for it (`remaining`: its value plus
 *   the reservation buffer, less what its fills already moved into the position);
 * - the new entry counts with its reservation.
 * So the limit holds even if every reservation is spent in full.
 * - Open positions: symbols with an open position that is not dust, or a buy in flight.
 * - Dust (RISK-9): a position whose amount rounds to nothing at the market's step, is below its
 *   minimum amount, or whose value is below its minimum order value. It cannot be sold, so it
 *   counts neither as a position nor toward exposure, and it does not block a new entry.
 * Exits are never checked here: reducing a position must always be possible.
 */
import type { AccountBook } from './account.js';
import type { MarketRules } from './market.js';
import { Decimal, dec, isPositive, str, type DecimalString } from './money.js';
import { basisOf, type Position } from './position.js';
import { roundAmount } from './precision.js';

/** The limits an entry is checked against, by the names rejections carry. */
export const ENTRY_LIMIT_NAMES = ['max-open-positions', 'max-exposure-per-symbol', 'max-total-exposure'] as const;
export type EntryLimitName = (typeof ENTRY_LIMIT_NAMES)[number];

export interface EntryLimits {
  readonly maxOpenPositions: number;
  /** Quote per symbol: cost of the position plus quote reserved for buys in flight. */
  readonly maxExposurePerSymbol: DecimalString;
  /** Quote for all symbols together; '0' = no limit. */
  readonly maxTotalExposure: DecimalString;
}

export interface EntryRequest {
  readonly symbol: string;
  /** Quote the entry reserves. */
  readonly reserve: DecimalString;
}

export interface EntryLimitBreach {
  readonly limit: EntryLimitName;
  readonly reason: string;
  readonly details: Readonly<Record<string, string | number>>;
}

/** Whether a position is dust: it cannot be sold under the market's limits (RISK-9). */
export function isDust(position: Position, rules: MarketRules | undefined, price: DecimalString): boolean {
  let prepared = preparedDust.get(position);
  if (!prepared || prepared.rules !== rules) preparedDust.set(position, (prepared = { rules, test: dustTest(position, rules) }));
  return prepared.test(price);
}

/** The dust test of each position record for the market rules last asked with (both immutable): a position scanned again is not prepared again. */
const preparedDust = new WeakMap<Position, { readonly rules: MarketRules | undefined; readonly test: (price: DecimalString) => boolean }>();

/** Relative margin between a notional and the minimum, as numbers, beyond which no decimal check is needed. */
const NUMERIC_MARGIN = 1e-9;

/**
 * `isDust` of one position at any price, prepared once (a backtest asks it at every candle):
 * what does not depend on the price is decided here, and a notional clearly above the minimum is
 * accepted on numbers; every other case is the exact decimal comparison.
 */
export function dustTest(position: Position, rules: MarketRules | undefined): (price: DecimalString) => boolean {
  const qty = dec(position.qty);
  if (qty.lte(0) || !rules) return () => false;
  const amount = dec(roundAmount(position.qty, rules.amountStep));
  if (amount.lte(0)) return () => true;
  if (rules.minAmount && amount.lt(rules.minAmount)) return () => true;
  const minNotional = rules.minNotional;
  if (minNotional === undefined) return () => false;
  const amountNum = amount.toNumber();
  const minNum = Number(minNotional);
  return (price) => {
    if (amountNum * Number(price) > minNum * (1 + NUMERIC_MARGIN)) return false;
    return amount.times(price).lt(minNotional);
  };
}

/** What the book commits, at cost, with dust left out. */
export interface CostExposure {
  /** Symbols that count as open positions: an open position that is not dust, or a buy in flight. */
  readonly open: ReadonlySet<string>;
  readonly bySymbol: ReadonlyMap<string, Decimal>;
  readonly total: Decimal;
}

/**
 * The book's exposure at cost. `dust` says whether a position is dust; the executor values it at
 * its average entry price (it has no other price inside the write).
 */
export function costExposure(book: AccountBook, dust: (position: Position) => boolean): CostExposure {
  const open = new Set<string>();
  const bySymbol = new Map<string, Decimal>();
  const add = (symbol: string, value: Decimal) => bySymbol.set(symbol, (bySymbol.get(symbol) ?? new Decimal(0)).plus(value));
  for (const position of Object.values(book.positions)) {
    if (!isPositive(position.qty) || dust(position)) continue;
    open.add(position.symbol);
    add(position.symbol, basisOf(position));
  }
  for (const order of Object.values(book.orders)) {
    if (order.side !== 'buy') continue;
    open.add(order.symbol);
    add(order.symbol, dec(order.remaining));
  }
  const total = [...bySymbol.values()].reduce((sum, v) => sum.plus(v), new Decimal(0));
  return { open, bySymbol, total };
}

/** The first limit the entry would break, or null. Checked in the order of EntryLimitName. */
export function entryLimitBreach(book: AccountBook, entry: EntryRequest, limits: EntryLimits, dust: (position: Position) => boolean): EntryLimitBreach | null {
  const exposure = costExposure(book, dust);
  if (!exposure.open.has(entry.symbol) && exposure.open.size >= limits.maxOpenPositions) {
    return {
      limit: 'max-open-positions',
      reason: `${exposure.open.size} open position(s) of at most ${limits.maxOpenPositions}: ${[...exposure.open].sort().join(', ')}`,
      details: { open: exposure.open.size, limit: limits.maxOpenPositions },
    };
  }
  const symbolExposure = (exposure.bySymbol.get(entry.symbol) ?? new Decimal(0)).plus(entry.reserve);
  if (symbolExposure.gt(limits.maxExposurePerSymbol)) {
    return {
      limit: 'max-exposure-per-symbol',
      reason: `${entry.symbol} exposure ${str(symbolExposure)} would exceed ${limits.maxExposurePerSymbol}`,
      details: { symbol: entry.symbol, exposure: str(symbolExposure), limit: limits.maxExposurePerSymbol },
    };
  }
  const total = exposure.total.plus(entry.reserve);
  if (dec(limits.maxTotalExposure).gt(0) && total.gt(limits.maxTotalExposure)) {
    return {
      limit: 'max-total-exposure',
      reason: `total exposure ${str(total)} would exceed ${limits.maxTotalExposure}`,
      details: { exposure: str(total), limit: limits.maxTotalExposure },
    };
  }
  return null;
}
