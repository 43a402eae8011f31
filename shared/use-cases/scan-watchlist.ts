/**
 * Steps 4 and 5 of a scan: the symbols it works on and their tickers (DATA-1, DATA-2, DATA-5,
 * DATA-8). Open positions are always in the list; the tickers come in one request and each is
 * validated, a bad or stale one dropped with its reason.
 */
import type { AccountBook } from '../domain/account.js';
import type { Ticker } from '../domain/market.js';
import { checkTicker, type Rejection } from '../domain/market-validation.js';
import { rotationOrder, selectPairs } from '../domain/pair-list.js';
import { isOpen } from '../domain/protections.js';
import type { ScanDeps, ScanInput } from './scan-market.js';
import { fetchOrReport } from './scan-tickers.js';

/** The symbols of the book's open positions. */
export function heldSymbols(book: AccountBook | null): string[] {
  const held: string[] = [];
  const positions = book?.positions;
  // In the book's order, as Object.entries gives it, without an entry pair per position.
  if (positions) for (const symbol in positions) if (isOpen(positions[symbol])) held.push(symbol);
  return held;
}

export interface ScanTickers {
  /** The list this scan works on: the watchlist or what the pair list rule chose, with open positions. */
  readonly pairs: readonly string[];
  /** Symbols that may get an entry: the list the scan was given (not the positions added to it). */
  readonly entryList: ReadonlySet<string>;
  /** Valid, fresh tickers, in rotation order (symbols not reached last time first). */
  readonly tickers: readonly Ticker[];
  /** Symbols without a usable ticker, with the reason. */
  readonly rejected: Rejection[];
}

/**
 * One ticker request (DATA-5): the fixed watchlist with the held symbols, or every market when the
 * watchlist is a rule (top N by quote volume with filters, DATA-8). Each ticker is validated
 * against `now` (DATA-1, DATA-2).
 */
export async function scanTickers(deps: ScanDeps, input: ScanInput, now: Date, held: readonly string[], unreached: readonly string[]): Promise<ScanTickers> {
  const { settings } = deps;
  const maxAgeMs = settings.staleDataSeconds * 1000;
  const rule = settings.pairList;
  const fixed = rule ? [] : [...settings.watchlist, ...held.filter((s) => !settings.watchlist.includes(s))];
  const raw = await fetchOrReport(deps, input, now, () => (rule ? deps.exchange.fetchTickers() : deps.exchange.fetchTickers(fixed)));
  const selection = rule ? selectPairs(raw, rule, held) : undefined;
  const pairs = selection ? selection.symbols : fixed;
  // Entries only in the list the scan was given: a position outside it (a symbol since removed
  // from the watchlist) is still protected, but never added to.
  const entryList = selection ? new Set(selection.symbols.filter((s) => !selection.heldAdded.includes(s))) : watchlistSet(settings.watchlist);
  const bySymbol = new Map<string, unknown>();
  for (const t of raw) bySymbol.set(t.symbol, t);
  const rejected: Rejection[] = [];
  const tickers: Ticker[] = [];
  // Nothing left unreached (the usual case): the rotation is the list itself.
  for (const symbol of unreached.length === 0 ? pairs : rotationOrder(pairs, unreached)) {
    const found = bySymbol.get(symbol);
    if (!found) {
      rejected.push({ symbol, reason: 'no ticker returned' });
      continue;
    }
    const checked = checkTicker(found, now, maxAgeMs);
    if (checked.ok) tickers.push(checked.ticker);
    else rejected.push(checked.rejection);
  }
  return { pairs, entryList, tickers, rejected };
}

/** The fixed watchlist as a set, made once per watchlist (settings are read-only; the set is only read). */
const watchlistSets = new WeakMap<readonly string[], ReadonlySet<string>>();

function watchlistSet(watchlist: readonly string[]): ReadonlySet<string> {
  let set = watchlistSets.get(watchlist);
  if (!set) watchlistSets.set(watchlist, (set = new Set(watchlist)));
  return set;
}
