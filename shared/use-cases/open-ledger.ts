/**
 * Opens the account book on the first start (REC-6), once; every later call reads the book and
 * returns.
 *
 * Primary course:
 * 1. A book exists: nothing to do (one read).
 * 2. Paper trading without a budget: the configured opening balance (TW_PAPER_INITIAL_QUOTE), as
 *    the paper account was funded with it; the paper account is Tradewarden's alone.
 * 3. Otherwise (live, or paper with TW_BUDGET): the exchange's balances. Each budget asset at its
 *    budget, capped at the free balance; without a budget, the whole free quote balance. A budget
 *    for an asset the exchange does not list is a coded error and opens nothing.
 * 4. The external baseline of every tracked asset is recorded: what the exchange holds beyond the
 *    book (REC-7), so the owner's other holdings are no drift.
 * 5. The opening is audited on the account stream, then the book is written with a conditional
 *    create: of two first starts, one opens it and the other reads it.
 */
import type { AccountBook } from '../domain/account.js';
import { trackedAssets } from '../domain/drift.js';
import { openFromBalances, withBaselines, type Budget } from '../domain/ledger.js';
import { dec, UNSIGNED_DECIMAL_PATTERN, type DecimalString } from '../domain/money.js';
import type { AccountStore } from '../ports/account-store.js';
import type { AuditLog } from '../ports/audit-log.js';
import type { Clock } from '../ports/clock.js';
import type { Exchange } from '../ports/exchange.js';
import { accountStream } from './reconcile-balances.js';

export interface OpenLedgerDeps {
  readonly accounts: AccountStore;
  readonly exchange: Exchange;
  readonly audit: AuditLog;
  readonly clock: Clock;
  readonly settings: {
    readonly mode: 'paper' | 'live';
    readonly quoteCurrency: string;
    readonly watchlist: readonly string[];
    readonly budget?: Budget;
    /** Paper without a budget: opens (or reads) the book with the configured opening balance. */
    readonly paperOpening: () => Promise<AccountBook>;
  };
}

/** @returns the book as stored. @throws ValidationError for a budget the exchange cannot fund (nothing written). */
export async function openLedger(deps: OpenLedgerDeps): Promise<AccountBook> {
  const { settings } = deps;
  // 2. (first: it is its own conditional create, and repairs an opening fee holding a crash left out)
  if (settings.mode === 'paper' && !settings.budget) return settings.paperOpening();
  // 1.
  const existing = await deps.accounts.get(settings.quoteCurrency);
  if (existing) return existing;
  // 3.
  const at = deps.clock.now();
  const balances = await deps.exchange.fetchBalances();
  const markets = await deps.exchange.loadMarkets();
  const listed = new Set<string>(Object.keys(balances));
  for (const symbol of Object.keys(markets)) for (const asset of symbol.split('/')) listed.add(asset);
  listed.add(settings.quoteCurrency);
  const others = Object.keys(settings.budget ?? {}).filter((a) => a !== settings.quoteCurrency && listed.has(a));
  const prices: Record<string, DecimalString> = {};
  if (others.length > 0) {
    for (const t of await deps.exchange.fetchTickers(others.map((a) => `${a}/${settings.quoteCurrency}`))) {
      if (UNSIGNED_DECIMAL_PATTERN.test(t.last) && dec(t.last).gt(0)) prices[t.symbol.slice(0, t.symbol.indexOf('/'))] = t.last;
    }
  }
  const free = Object.fromEntries(Object.entries(balances).map(([asset, b]) => [asset, b.free]));
  const { book, opening } = openFromBalances({ quoteCurrency: settings.quoteCurrency, ...(settings.budget ? { budget: settings.budget } : {}), free, listed, prices, at });
  // 4.
  const totals = Object.fromEntries(Object.entries(balances).map(([asset, b]) => [asset, b.total]));
  const opened = withBaselines(book, totals, trackedAssets(book, settings.watchlist), at);
  // 5.
  await deps.audit.append(
    accountStream(settings.quoteCurrency),
    { type: 'ledger.opened', data: { ...opening, total: opened.total, baselines: opened.baselines ?? {}, mode: settings.mode } },
    at,
  );
  const stored = await deps.accounts.open(settings.quoteCurrency, opened.total, at, opened);
  return stored;
}
