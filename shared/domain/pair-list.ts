/**
 * The watchlist as a rule (DATA-8): the top N markets by 24 h quote volume, from the one ticker
 * request of the scan, filtered by a minimum quote volume, a minimum price, a maximum spread and
 * allow / deny lists. Open positions are always in the list, whatever the rule says, so a held
 * position keeps its stop-loss and exits even after its market fell out of the top N.
 *
 * Pure: the scan passes the raw tickers and the held symbols and records what was chosen.
 */
import type { Ticker } from './market.js';
import { dec, type Decimal, type DecimalString } from './money.js';

export interface PairListRule {
  /** How many markets to keep, ranked by 24 h quote volume (highest first). */
  readonly top: number;
  /** Quote currency every chosen market must be quoted in. */
  readonly quoteCurrency: string;
  /** Minimum 24 h quote volume; '0' turns the filter off. */
  readonly minQuoteVolume: DecimalString;
  /** Minimum last price; '0' turns the filter off. */
  readonly minPrice: DecimalString;
  /** Maximum bid/ask spread in percent of the ask; '0' turns the filter off. */
  readonly maxSpreadPercent: DecimalString;
  /** When not empty, only these markets may be chosen. */
  readonly allow: readonly string[];
  /** Never chosen by the rule (an open position is still kept). */
  readonly deny: readonly string[];
}

export interface PairSelection {
  /** The chosen symbols: the top N that passed the filters, by quote volume, then open positions not among them. */
  readonly symbols: readonly string[];
  /** Open positions added although the rule did not choose them. */
  readonly heldAdded: readonly string[];
  /** Markets considered (quoted in the quote currency, allowed, not denied). */
  readonly considered: number;
}

/** 24 h volume in the quote currency: the exchange's figure, or base volume times last price. */
export function quoteVolumeOf(t: Ticker): Decimal | null {
  try {
    if (t.quoteVolume !== undefined && t.quoteVolume !== '') return dec(t.quoteVolume);
    return dec(t.volume).times(t.last);
  } catch {
    // Unparseable numbers: the ticker cannot be ranked; ticker validation reports it if it is chosen.
    return null;
  }
}

/** Applies the rule to the tickers of one request; `held` symbols are always included. */
export function selectPairs(tickers: readonly Ticker[], rule: PairListRule, held: readonly string[]): PairSelection {
  const allow = new Set(rule.allow);
  const deny = new Set(rule.deny);
  const suffix = `/${rule.quoteCurrency}`;
  const minVolume = dec(rule.minQuoteVolume);
  const minPrice = dec(rule.minPrice);
  const maxSpread = dec(rule.maxSpreadPercent).div(100);
  let considered = 0;
  const ranked: { symbol: string; volume: Decimal }[] = [];
  for (const t of tickers) {
    if (!t.symbol.endsWith(suffix) || deny.has(t.symbol) || (allow.size > 0 && !allow.has(t.symbol))) continue;
    considered += 1;
    const volume = quoteVolumeOf(t);
    if (volume === null || volume.lt(minVolume) || volume.lte(0)) continue;
    try {
      const last = dec(t.last);
      if (minPrice.gt(0) && last.lt(minPrice)) continue;
      if (maxSpread.gt(0)) {
        const ask = dec(t.ask);
        if (ask.lte(0) || ask.minus(t.bid).div(ask).gt(maxSpread)) continue;
      }
    } catch {
      continue;
    }
    ranked.push({ symbol: t.symbol, volume });
  }
  // Highest volume first; equal volumes by symbol, so the choice does not depend on response order.
  ranked.sort((a, b) => b.volume.comparedTo(a.volume) || (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));
  const symbols = ranked.slice(0, rule.top).map((r) => r.symbol);
  const chosen = new Set(symbols);
  const heldAdded = held.filter((s) => !chosen.has(s));
  return { symbols: [...symbols, ...heldAdded], heldAdded, considered };
}

/**
 * The order in which a scan visits its symbols (rotation): the symbols the previous scan did not
 * reach come first, in their order, then the others in list order. A scan that cannot cover every
 * symbol therefore never leaves the same ones out twice in a row.
 */
export function rotationOrder(symbols: readonly string[], unreachedBefore: readonly string[]): string[] {
  const listed = new Set(symbols);
  const first = unreachedBefore.filter((s) => listed.has(s));
  const firstSet = new Set(first);
  return [...first, ...symbols.filter((s) => !firstSet.has(s))];
}
