/**
 * Balance reconciliation (REC-4): the exchange's balances against the local book.
 *
 * Primary course:
 * 1. Measure: fetch the exchange balances, read the book, fetch the tickers of the tracked
 *    symbols (one request, DATA-5) and compare (domain/drift).
 * 2. A drift above the alarm threshold while orders are in flight (they still have budget in
 *    the book) may only be a fill the exchange made a moment ago and nobody booked yet. Those
 *    orders are settled first (`settle`, supplied by the reconciler: each under its symbol
 *    lock) and the balances measured again. When an order cannot be settled now (an executor
 *    holds its symbol lock), the measurement stays unconfirmed.
 * 3. A drift above the alarm threshold is audited; the handler emits it as the DriftQuote
 *    metric (always, so the dashboard shows it and the alarm compares it with its threshold).
 * 4. A confirmed drift above the hard limit pauses new entries only (pause scope `entries`,
 *    RISK-8), with its figures in the reason, unless a pause is already in force: an operator's
 *    pause is never overwritten.
 */
import { equity } from '../domain/account.js';
import { computeDrift, quoteOf, type Drift, type DriftMode, type DriftThresholds } from '../domain/drift.js';
import { Decimal, UNSIGNED_DECIMAL_PATTERN, dec, isPositive, str, type DecimalString } from '../domain/money.js';
import type { AccountStore } from '../ports/account-store.js';
import type { AuditLog } from '../ports/audit-log.js';
import type { Clock } from '../ports/clock.js';
import type { ControlStore, PauseState } from '../ports/control-store.js';
import type { Exchange } from '../ports/exchange.js';
import { isPauseActive } from './pause.js';

/** Who a pause written by the reconciler is attributed to. */
export const RECONCILER_AUTHOR = 'reconciler';
/** Audit stream of control decisions (shared with the ops pause command). */
export const CONTROL_STREAM = 'control';

export function accountStream(currency: string): string {
  return `account:${currency}`;
}

export interface BalanceCheckDeps {
  readonly accounts: AccountStore;
  readonly exchange: Exchange;
  readonly audit: AuditLog;
  readonly control: ControlStore;
  readonly clock: Clock;
  readonly settings: {
    readonly quoteCurrency: string;
    readonly watchlist: readonly string[];
    readonly thresholds: DriftThresholds;
    /** Whether other parties trade the same assets on the account (REC-7). @default 'exclusive' */
    readonly driftMode?: DriftMode;
  };
}

/**
 * Brings the given in-flight orders up to date with the exchange. Resolves true when every one
 * could be looked at (none was busy), false otherwise.
 */
export type SettleInFlight = (orderIds: readonly string[]) => Promise<boolean>;

export interface BalanceReport {
  readonly at: string;
  readonly drift: Drift;
  /** Mark-to-market value of cash and positions, in the quote currency. */
  readonly equity: DecimalString;
  /** Realized PnL summed over positions and fee-asset holdings. */
  readonly realizedPnl: DecimalString;
  /** False when in-flight orders could not be settled before the drift was measured again. */
  readonly confirmed: boolean;
  /** This check paused new entries. */
  readonly paused: boolean;
  /** Why the hard limit did not pause: already paused, or unconfirmed. */
  readonly pauseSkipped?: string;
}

interface Measurement {
  readonly drift: Drift;
  readonly equity: DecimalString;
  readonly realizedPnl: DecimalString;
  readonly inFlight: readonly string[];
}

/** @returns null when there is no book yet (nothing was ever traded or funded). */
export async function reconcileBalances(deps: BalanceCheckDeps, settle: SettleInFlight): Promise<BalanceReport | null> {
  let measured = await measure(deps);
  if (!measured) return null;
  let confirmed = true;
  if (measured.drift.level !== 'ok' && measured.inFlight.length > 0) {
    confirmed = await settle(measured.inFlight);
    measured = await measure(deps);
    if (!measured) return null;
  }
  const { drift } = measured;
  const now = deps.clock.now();
  if (drift.level !== 'ok') {
    await deps.audit.append(
      accountStream(drift.currency),
      {
        type: 'balance.drift',
        data: { driftQuote: drift.quote, level: drift.level, confirmed, currency: drift.currency, unpriced: drift.unpriced, assets: drift.assets.filter((a) => !dec(a.difference).isZero()) },
      },
      now,
    );
  }
  let paused = false;
  let pauseSkipped: string | undefined;
  if (drift.level === 'pause') {
    if (!confirmed) pauseSkipped = 'orders in flight: drift unconfirmed, measured again next run';
    else {
      const current = await deps.control.getPause();
      if (isPauseActive(current, now)) pauseSkipped = `already paused by ${current.author ?? 'unknown'}`;
      else {
        // Entries only (RISK-8): open positions keep their exits, stop-loss and take-profit
        // exactly when the books are in doubt.
        const state: PauseState = {
          paused: true,
          scope: 'entries',
          reason: driftHaltReason(drift, deps.settings.thresholds.pauseQuote),
          author: RECONCILER_AUTHOR,
          since: now.toISOString(),
        };
        await deps.control.setPause(state);
        await deps.audit.append(CONTROL_STREAM, { type: 'control.paused', data: { ...state } }, now);
        paused = true;
      }
    }
  }
  return {
    at: now.toISOString(),
    drift,
    equity: measured.equity,
    realizedPnl: measured.realizedPnl,
    confirmed,
    paused,
    ...(pauseSkipped ? { pauseSkipped } : {}),
  };
}

/** What status and health show for the drift halt: "entries blocked by drift" with the figures. */
export function driftHaltReason(drift: Pick<Drift, 'quote' | 'currency'>, limit: DecimalString): string {
  return `entries blocked by drift: ${drift.quote} ${drift.currency} above the hard limit ${limit} ${drift.currency}`;
}

async function measure(deps: BalanceCheckDeps): Promise<Measurement | null> {
  const { quoteCurrency, watchlist, thresholds } = deps.settings;
  // Exchange first: a fill it reports is usually booked locally by the time the book is read.
  const balances = await deps.exchange.fetchBalances();
  const book = await deps.accounts.get(quoteCurrency);
  if (!book) return null;
  // The watched symbols, then those of positions and fee-asset holdings, once each and in that order.
  const tracked = new Set<string>();
  const track = (symbol: string) => {
    if (quoteOf(symbol) === quoteCurrency) tracked.add(symbol);
  };
  for (const symbol of watchlist) track(symbol);
  for (const symbol of Object.keys(book.positions)) track(symbol);
  if (book.holdings) for (const asset of Object.keys(book.holdings)) track(`${asset}/${quoteCurrency}`);
  const symbols = [...tracked];
  const tickers = symbols.length > 0 ? await deps.exchange.fetchTickers(symbols) : [];
  const prices: Record<string, DecimalString> = {};
  for (const t of tickers) {
    // A price only values a difference; an unusable one leaves the asset unpriced.
    if (UNSIGNED_DECIMAL_PATTERN.test(t.last) && isPositive(t.last)) prices[t.symbol] = t.last;
  }
  const drift = computeDrift({ book, balances, prices, watchlist, thresholds, ...(deps.settings.driftMode ? { mode: deps.settings.driftMode } : {}) });
  let realized = new Decimal(0);
  for (const p of Object.values(book.positions)) realized = realized.plus(dec(p.realizedPnl));
  if (book.holdings) for (const h of Object.values(book.holdings)) realized = realized.plus(dec(h.realizedPnl));
  return { drift, equity: equity(book, prices), realizedPnl: str(realized), inFlight: Object.keys(book.orders) };
}
