/**
 * Reconciliation with the exchange (REC-1..5, EXE-7 stale reservations).
 *
 * Primary course:
 * 1. Take the global reconciler lease, for the whole run: one run at a time.
 * 2. Page through non-terminal orders, oldest first, each under its symbol lease. A scheduled
 *    run resumes where the last one stopped (REC-5); an ad hoc run (one symbol, or orders
 *    created in one time window) starts from the beginning and leaves the scheduled position alone.
 * 3. For each order settled long enough (an executor may still be working on a fresh one): look
 *    it up by client order id. Found: book fills (partial too) and state (REC-1). "Not found":
 *    count it; declare it lost (FAILED, budget released) only after repeated not-found answers
 *    over the grace period. A network error is never read as "not found" (REC-2): the order is
 *    reported as failed this run and skipped, and the others go on (DATA-7); it is looked at
 *    again on the next pass. An open circuit or a spent rate budget stops the pass (partial):
 *    no lookup could succeed.
 * 4. Stop before the deadline and store where: the page cursor and the watermark (creation
 *    time and id of the last order done), so the next run neither repeats nor skips orders.
 * 5. After a complete pass: release reservations older than the bound that no live order backs
 *    (EXE-7); report orders open on the exchange but unknown locally, adopting those that carry
 *    our client order id prefix (REC-3); compare balances and pause on hard drift (REC-4). An
 *    exchange failure of one of these checks is reported and the others still run.
 * 6. Store and return the report. A run fails as a whole only when it cannot do anything (the
 *    store or the lock unreachable): it stores a `failed` report with its resume position
 *    first, then rethrows: the failure is never swallowed (HLT-5).
 */
import { randomUUID } from 'node:crypto';
import { release, reserve, staleReservations } from '../domain/account.js';
import type { DriftThresholds } from '../domain/drift.js';
import { CircuitOpenError } from '../domain/circuit.js';
import { LockHeldError, TradewardenError, toTradewardenError } from '../domain/errors.js';
import { Decimal, dec, str } from '../domain/money.js';
import { adoptOrder } from '../domain/order-aggregate.js';
import { CLIENT_ORDER_ID_PREFIX, isTerminal, type OrderRecord } from '../domain/order.js';
import type { AccountStore } from '../ports/account-store.js';
import type { AuditLog } from '../ports/audit-log.js';
import type { Clock } from '../ports/clock.js';
import type { ControlStore } from '../ports/control-store.js';
import type { Exchange, ExchangeOrder } from '../ports/exchange.js';
import type { LockService } from '../ports/lock-service.js';
import type { OrderStore } from '../ports/order-store.js';
import { RateBudgetExhaustedError } from '../ports/rate-budget.js';
import { auditStream, commitOrderEvents, exchangeFeePrices, type OrderCommitDeps } from './order-commit.js';
import { reconcileBalances, type BalanceReport } from './reconcile-balances.js';

export const RECONCILER_LOCK = 'reconciler';
/** Orphans listed one by one in the report; beyond this they are only counted. */
export const MAX_REPORTED_ORPHANS = 20;
/** Strategy recorded on an order adopted from the exchange (REC-3). */
export const ADOPTED_STRATEGY = 'adopted';

export interface ReconcileDeps {
  readonly orders: OrderStore;
  readonly accounts: AccountStore;
  readonly locks: LockService;
  readonly exchange: Exchange;
  readonly audit: AuditLog;
  readonly control: ControlStore;
  readonly clock: Clock;
  readonly settings: {
    readonly quoteCurrency: string;
    readonly owner: string;
    /** Lease of a symbol lock; the run lock is held until the deadline plus this. */
    readonly lockLeaseMs: number;
    /** Orders younger than this are left to the executor that may still be working on them. */
    readonly settleMs: number;
    /** "Not found" answers needed, and the time they must span, before an order is declared lost. */
    readonly lostAfterNotFound: number;
    readonly lostGraceMs: number;
    readonly reservationMaxAgeMs: number;
    readonly pageSize: number;
    /** The symbols traded: their base assets are compared with the exchange balances. */
    readonly watchlist: readonly string[];
    readonly drift: DriftThresholds;
  };
}

export interface ReconcileInput {
  /** Wall-clock time by which the run must stop (function timeout minus a margin). */
  readonly deadline: Date;
  /** Restrict to one symbol (ad hoc replay). */
  readonly symbol?: string;
  /** Restrict to orders created in [from, to) (ad hoc replay of a time window). */
  readonly window?: { readonly from: Date; readonly to: Date };
}

/** An order open on the exchange that the local books do not follow (REC-3). */
export interface OrphanOrder {
  readonly clientOrderId: string;
  readonly symbol: string;
  readonly side: string;
  readonly type: string;
  readonly amount: string;
  readonly filled: string;
  readonly price?: string;
  /** It carried our client order id prefix and is now followed locally. */
  readonly adopted: boolean;
  readonly note?: string;
}

export interface ReconcileReport {
  /** `failed` appears only in the stored report of a run that threw. */
  readonly status: 'completed' | 'partial' | 'skipped' | 'failed';
  readonly at: string;
  /** Present for ad hoc runs. */
  readonly scope?: { readonly symbol?: string; readonly from?: string; readonly to?: string };
  readonly checked: number;
  readonly updated: number;
  readonly filled: number;
  readonly notFound: number;
  readonly lost: number;
  readonly expired: number;
  readonly skippedBusy: number;
  /** Orders changed too recently to look at (an executor may still be on them). */
  readonly skippedSettling: number;
  readonly releasedReservations: number;
  /** Orders open on the exchange, unknown (or closed) locally; `adopted` of them taken over. */
  readonly orphans: number;
  readonly adopted: number;
  readonly orphanOrders: readonly OrphanOrder[];
  /** The last balance comparison: this run's, or carried from the run that made it. */
  readonly balances?: BalanceReport;
  /** Where the next scheduled run resumes: page cursor and the last order done. */
  readonly cursor?: string;
  readonly watermark?: string;
  readonly error?: { readonly code: string; readonly message: string };
  /** Orders whose exchange lookup failed this run (DATA-7): skipped, looked at again next pass. */
  readonly failedOrders?: readonly FailedItem[];
  /** How many orders failed (the list stops at MAX_REPORTED_FAILURES). */
  readonly failedOrderCount?: number;
  /** Checks after the pass (orphans, balances) that the exchange failed this run. */
  readonly failedChecks?: readonly FailedItem[];
}

/** Orders listed one by one as failed in the report; beyond this they are only counted. */
export const MAX_REPORTED_FAILURES = 20;

/** What one order's lookup, or one check, failed with. */
export interface FailedItem {
  readonly id: string;
  readonly symbol?: string;
  readonly code: string;
  readonly message: string;
}

/** An exchange answer or outage about one request: the others may still succeed. */
function isExchangeFailure(error: unknown): error is TradewardenError {
  return error instanceof TradewardenError && error.code.startsWith('EXCHANGE_') && !(error instanceof CircuitOpenError) && !(error instanceof RateBudgetExhaustedError);
}

/** The exchange takes no request now (open circuit, spent budget): stop, resume later. */
function isExchangeClosed(error: unknown): boolean {
  return error instanceof CircuitOpenError || error instanceof RateBudgetExhaustedError;
}

function failedItem(id: string, error: TradewardenError, symbol?: string): FailedItem {
  return { id, ...(symbol ? { symbol } : {}), code: error.code, message: error.message.slice(0, 200) };
}

type Counts = {
  checked: number;
  updated: number;
  filled: number;
  notFound: number;
  lost: number;
  expired: number;
  skippedBusy: number;
  skippedSettling: number;
  releasedReservations: number;
};

interface ResumePoint {
  readonly cursor?: string;
  readonly watermark?: string;
}

export async function reconcile(deps: ReconcileDeps, input: ReconcileInput): Promise<ReconcileReport> {
  const { settings } = deps;
  const start = deps.clock.now();
  const scoped = input.symbol !== undefined || input.window !== undefined;
  const scope = scoped
    ? { ...(input.symbol ? { symbol: input.symbol } : {}), ...(input.window ? { from: input.window.from.toISOString(), to: input.window.to.toISOString() } : {}) }
    : undefined;
  const counts: Counts = { checked: 0, updated: 0, filled: 0, notFound: 0, lost: 0, expired: 0, skippedBusy: 0, skippedSettling: 0, releasedReservations: 0 };
  const noOrphans = { orphans: 0, adopted: 0, orphanOrders: [] as OrphanOrder[] };
  const failedOrders: FailedItem[] = [];
  const failedChecks: FailedItem[] = [];
  let failedOrderCount = 0;
  // The run lease covers the whole run, so no second run starts before this one's deadline.
  const runLeaseMs = Math.max(0, input.deadline.getTime() - start.getTime()) + settings.lockLeaseMs;
  let runLease;
  try {
    runLease = await deps.locks.acquire(RECONCILER_LOCK, `${settings.owner}:${randomUUID()}`, runLeaseMs, start);
  } catch (error) {
    if (error instanceof LockHeldError) return { status: 'skipped', at: start.toISOString(), ...(scope ? { scope } : {}), ...counts, ...noOrphans };
    throw error;
  }
  try {
    const previous = await deps.control.getReport('reconciliation');
    const stored = resumePointOf(previous);
    const carriedBalances = previous?.balances as BalanceReport | undefined;
    const base = (status: ReconcileReport['status'], resume: ResumePoint): ReconcileReport => ({
      status,
      at: deps.clock.now().toISOString(),
      ...(scope ? { scope } : {}),
      ...counts,
      ...noOrphans,
      ...(carriedBalances ? { balances: carriedBalances } : {}),
      ...(failedOrderCount > 0 ? { failedOrders, failedOrderCount } : {}),
      ...(failedChecks.length > 0 ? { failedChecks } : {}),
      // An ad hoc run keeps the scheduled pass's position as it found it.
      ...(scoped ? stored : resume),
    });

    // 2-4. The pass over non-terminal orders.
    let next = scoped ? undefined : stored.cursor;
    let watermark = scoped ? undefined : stored.watermark;
    let stoppedAt: ResumePoint | undefined;
    const windowEnd = input.window?.to.toISOString();
    pages: for (;;) {
      if (deps.clock.now() >= input.deadline) {
        stoppedAt = { ...(next ? { cursor: next } : {}), ...(watermark ? { watermark } : {}) };
        break;
      }
      const page = await deps.orders.listOpen(settings.pageSize, next);
      for (const order of page.items) {
        const key = watermarkOf(order);
        if (watermark !== undefined && key <= watermark) continue;
        // Pages come oldest first: nothing after this order was created inside the window.
        if (windowEnd !== undefined && order.createdAt >= windowEnd) break pages;
        if (!inScope(order, input)) continue;
        if (deps.clock.now() >= input.deadline) {
          stoppedAt = { ...(next ? { cursor: next } : {}), ...(watermark ? { watermark } : {}) };
          break pages;
        }
        counts.checked += 1;
        let outcome: OrderOutcome;
        try {
          outcome = await reconcileOrder(deps, order, 'pass');
        } catch (error) {
          if (isExchangeClosed(error)) {
            // No lookup can succeed now: stop before this order, the next run starts with it.
            stoppedAt = { ...(next ? { cursor: next } : {}), ...(watermark ? { watermark } : {}) };
            break pages;
          }
          if (isExchangeFailure(error)) {
            // DATA-7: this order is skipped and reported; the others go on.
            failedOrderCount += 1;
            if (failedOrders.length < MAX_REPORTED_FAILURES) failedOrders.push(failedItem(order.id, error, order.symbol));
            watermark = key;
            continue;
          }
          // Resume after this order: one order that keeps failing must not stall the others.
          if (!scoped) await storeFailure(deps, base('failed', { ...(next ? { cursor: next } : {}), watermark: key }), error);
          throw error;
        }
        tally(counts, outcome);
        watermark = key;
      }
      if (!page.cursor) break;
      next = page.cursor;
    }

    if (stoppedAt) {
      const report = base('partial', stoppedAt);
      await deps.control.putReport('reconciliation', { ...report });
      return report;
    }

    // 5. After a complete pass.
    counts.releasedReservations = await releaseStale(deps);
    // Each check on its own: an exchange failure of one is reported, the other still runs.
    const check = async <T>(name: string, run: () => Promise<T>): Promise<T | undefined> => {
      try {
        return await run();
      } catch (error) {
        if (!isExchangeFailure(error) && !isExchangeClosed(error)) throw error;
        failedChecks.push(failedItem(name, toTradewardenError(error)));
        return undefined;
      }
    };
    const orphans = await check('orphans', () => findOrphans(deps, input));
    const balances = scoped
      ? undefined
      : await check('balances', () =>
          reconcileBalances(
            { accounts: deps.accounts, exchange: deps.exchange, audit: deps.audit, control: deps.control, clock: deps.clock, settings: { quoteCurrency: settings.quoteCurrency, watchlist: settings.watchlist, thresholds: settings.drift } },
            (ids) => settleInFlight(deps, ids),
          ),
        );
    const report: ReconcileReport = { ...base('completed', {}), ...(orphans ?? {}), ...(balances ? { balances } : {}) };
    await deps.control.putReport('reconciliation', { ...report });
    return report;
  } finally {
    await deps.locks.release(runLease);
  }
}

/** The position of the open-orders index an order sits at: creation time, then id. */
function watermarkOf(order: OrderRecord): string {
  return `${order.createdAt}#${order.id}`;
}

function resumePointOf(report: Record<string, unknown> | null): ResumePoint {
  if (!report) return {};
  const cursor = typeof report.cursor === 'string' ? report.cursor : undefined;
  const watermark = typeof report.watermark === 'string' ? report.watermark : undefined;
  return { ...(cursor ? { cursor } : {}), ...(watermark ? { watermark } : {}) };
}

function inScope(order: OrderRecord, input: ReconcileInput): boolean {
  if (input.symbol !== undefined && order.symbol !== input.symbol) return false;
  if (input.window) {
    const created = Date.parse(order.createdAt);
    if (created < input.window.from.getTime() || created >= input.window.to.getTime()) return false;
  }
  return true;
}

type OrderOutcome = 'unchanged' | 'updated' | 'filled' | 'not-found' | 'lost' | 'expired' | 'busy' | 'settling';

function tally(counts: Counts, outcome: OrderOutcome): void {
  if (outcome !== 'unchanged' && outcome !== 'busy' && outcome !== 'settling') counts.updated += 1;
  if (outcome === 'filled') counts.filled += 1;
  if (outcome === 'not-found') counts.notFound += 1;
  if (outcome === 'lost') counts.lost += 1;
  if (outcome === 'expired') counts.expired += 1;
  if (outcome === 'busy') counts.skippedBusy += 1;
  if (outcome === 'settling') counts.skippedSettling += 1;
}

async function storeFailure(deps: ReconcileDeps, report: ReconcileReport, error: unknown): Promise<void> {
  const coded = toTradewardenError(error);
  try {
    await deps.control.putReport('reconciliation', { ...report, error: { code: coded.code, message: coded.message } });
  } catch {
    // The run fails with the original error either way; this only loses the resume position.
  }
}

function syncDeps(deps: ReconcileDeps): OrderCommitDeps {
  return { orders: deps.orders, accounts: deps.accounts, audit: deps.audit, quoteCurrency: deps.settings.quoteCurrency, feePrices: exchangeFeePrices(deps.exchange, deps.settings.quoteCurrency) };
}

/**
 * Brings one order in line with the exchange, under its symbol lease.
 * - `pass`: the scheduled pass; orders changed within the settle time are left alone, and a
 *   "not found" answer counts towards declaring the order lost.
 * - `confirm`: settling in-flight orders before balances are measured again; the lease alone
 *   proves no executor is on the order, and a "not found" answer changes nothing.
 */
async function reconcileOrder(deps: ReconcileDeps, order: OrderRecord, mode: 'pass' | 'confirm'): Promise<OrderOutcome> {
  const now = deps.clock.now();
  if (mode === 'pass' && now.getTime() - Date.parse(order.updatedAt) < deps.settings.settleMs) return 'settling';
  let lease;
  try {
    lease = await deps.locks.acquire(`symbol:${order.symbol}`, `${deps.settings.owner}:${randomUUID()}`, deps.settings.lockLeaseMs, now);
  } catch (error) {
    if (error instanceof LockHeldError) return 'busy';
    throw error;
  }
  try {
    const current = await deps.orders.get(order.id);
    if (!current || isTerminal(current.state)) return 'unchanged';
    const sync = syncDeps(deps);
    if (current.state === 'NEW') {
      // Claimed but never sent: its intent is redelivered or dead-lettered; once the order is
      // older than the grace period nothing will send it, so its budget goes back.
      if (mode === 'confirm' || now.getTime() - Date.parse(current.createdAt) < deps.settings.lostGraceMs) return 'unchanged';
      await commitOrderEvents(sync, current, { type: 'Expired', at: now, reason: 'claimed but never sent' }, lease.token);
      return 'expired';
    }
    // A network error here propagates (the pass reports and skips the order): never treated as "not found" (REC-2).
    const remote = await deps.exchange.fetchOrderByClientId(current.symbol, current.id);
    if (remote) {
      const next = await commitOrderEvents(sync, current, { type: 'Reported', at: now, report: remote }, lease.token);
      if (next === current) return 'unchanged';
      return next.filled !== current.filled ? 'filled' : 'updated';
    }
    if (mode === 'confirm') return 'unchanged';
    const count = current.notFoundCount + 1;
    const first = current.firstNotFoundAt ?? now.toISOString();
    if (count >= deps.settings.lostAfterNotFound && now.getTime() - Date.parse(first) >= deps.settings.lostGraceMs) {
      await commitOrderEvents(sync, current, [{ type: 'NotFound', at: now }, { type: 'Lost', at: now, reason: `not found on the exchange ${count} times since ${first}` }], lease.token);
      return 'lost';
    }
    await commitOrderEvents(sync, current, { type: 'NotFound', at: now }, lease.token);
    return 'not-found';
  } finally {
    await deps.locks.release(lease);
  }
}

/** Settles the orders that still hold budget, before balances are measured again. */
async function settleInFlight(deps: ReconcileDeps, orderIds: readonly string[]): Promise<boolean> {
  let settled = true;
  for (const id of orderIds) {
    const order = await deps.orders.get(id);
    if (!order || isTerminal(order.state)) continue;
    if ((await reconcileOrder(deps, order, 'confirm')) === 'busy') settled = false;
  }
  return settled;
}

/** Releases reservations past the bound whose order is over or missing (EXE-7). */
async function releaseStale(deps: ReconcileDeps): Promise<number> {
  const now = deps.clock.now();
  const book = await deps.accounts.get(deps.settings.quoteCurrency);
  if (!book) return 0;
  let released = 0;
  for (const orderId of staleReservations(book, now, deps.settings.reservationMaxAgeMs)) {
    const order = await deps.orders.get(orderId);
    if (order && !isTerminal(order.state)) continue;
    let changed = false;
    await deps.accounts.update(deps.settings.quoteCurrency, (b) => {
      const next = release(b, orderId, now);
      changed = next !== null;
      return next;
    });
    // Another pass released it first: nothing moved, nothing to audit.
    if (!changed) continue;
    await deps.audit.append(auditStream(book.orders[orderId]?.symbol ?? 'unknown'), { type: 'budget.released', data: { orderId, reason: 'stale reservation without a live order' } }, now);
    released += 1;
  }
  return released;
}

/**
 * Orders open on the exchange that the local books do not follow (REC-3): unknown locally, or
 * closed locally (declared lost, say) while the exchange still has them open. Unknown ones with
 * our client order id prefix are adopted; the others are reported for a person to look at.
 */
async function findOrphans(deps: ReconcileDeps, input: ReconcileInput): Promise<Pick<ReconcileReport, 'orphans' | 'adopted' | 'orphanOrders'>> {
  const open = await deps.exchange.fetchOpenOrders(input.symbol);
  let orphans = 0;
  let adopted = 0;
  const orphanOrders: OrphanOrder[] = [];
  for (const remote of open) {
    if (input.window && (remote.timestamp < input.window.from.getTime() || remote.timestamp >= input.window.to.getTime())) continue;
    const local = await deps.orders.get(remote.clientOrderId);
    if (local && !isTerminal(local.state)) continue;
    let result: { adopted: boolean; note?: string; known?: boolean };
    if (local) result = { adopted: false, note: `closed locally as ${local.state} but open on the exchange` };
    else if (!remote.clientOrderId.startsWith(CLIENT_ORDER_ID_PREFIX)) result = { adopted: false, note: 'not placed by Tradewarden (no client order id prefix)' };
    else result = await adopt(deps, remote);
    if (result.known) continue;
    orphans += 1;
    if (result.adopted) adopted += 1;
    if (orphanOrders.length < MAX_REPORTED_ORPHANS) {
      orphanOrders.push({
        clientOrderId: remote.clientOrderId,
        symbol: remote.symbol,
        side: remote.side,
        type: remote.type,
        amount: remote.amount,
        filled: remote.filled,
        ...(remote.price !== undefined ? { price: remote.price } : {}),
        adopted: result.adopted,
        ...(result.note ? { note: result.note } : {}),
      });
    }
  }
  return { orphans, adopted, orphanOrders };
}

/**
 * Takes an orphan with our prefix into the local books, under its symbol lease: the order is
 * recorded as UNKNOWN with the exchange's view (the claim: a conditional create), a buy's
 * unfilled notional is reserved as far as the budget allows (the exchange holds those funds),
 * then the order is booked like any other (fills, state).
 */
async function adopt(deps: ReconcileDeps, remote: ExchangeOrder): Promise<{ adopted: boolean; note?: string; known?: boolean }> {
  const now = deps.clock.now();
  let lease;
  try {
    lease = await deps.locks.acquire(`symbol:${remote.symbol}`, `${deps.settings.owner}:${randomUUID()}`, deps.settings.lockLeaseMs, now);
  } catch (error) {
    if (error instanceof LockHeldError) return { adopted: false, note: 'symbol busy: adoption retried next run' };
    throw error;
  }
  try {
    if (await deps.orders.get(remote.clientOrderId)) return { adopted: false, known: true };
    const quote = deps.settings.quoteCurrency;
    const book = await deps.accounts.get(quote);
    const unfilled = Decimal.max(dec(remote.amount).minus(remote.filled), 0);
    const wanted = remote.side === 'buy' && remote.price !== undefined ? unfilled.times(remote.price) : new Decimal(0);
    const toReserve = str(Decimal.min(wanted, dec(book?.available ?? '0')));
    const intentId = remote.clientOrderId.slice(CLIENT_ORDER_ID_PREFIX.length);
    const createdAt = Number.isFinite(remote.timestamp) && remote.timestamp > 0 ? new Date(remote.timestamp).toISOString() : now.toISOString();
    const record = adoptOrder(
      {
        id: remote.clientOrderId,
        intentId,
        correlationId: intentId,
        strategy: ADOPTED_STRATEGY,
        symbol: remote.symbol,
        side: remote.side,
        type: remote.type,
        amount: remote.amount,
        ...(remote.type === 'limit' && remote.price !== undefined ? { limitPrice: remote.price } : {}),
        reservedQuote: toReserve,
        fence: lease.token,
        reason: 'adopted: open on the exchange, unknown locally',
        createdAt,
      },
      now,
    );
    if (!(await deps.orders.create(record))) return { adopted: false, known: true };
    await deps.audit.append(
      auditStream(remote.symbol),
      { type: 'order.adopted', correlationId: intentId, data: { orderId: record.id, exchangeOrderId: remote.id, status: remote.status, amount: remote.amount, filled: remote.filled, reserved: toReserve } },
      now,
    );
    if (book) {
      await deps.accounts.update(quote, (b) =>
        reserve(b, { orderId: record.id, symbol: record.symbol, side: record.side, amount: str(Decimal.min(dec(toReserve), dec(b.available))) }, now),
      );
    }
    await commitOrderEvents(syncDeps(deps), record, { type: 'Reported', at: now, report: remote }, lease.token);
    const clipped = dec(toReserve).lt(wanted) ? `; reserved ${toReserve} of ${str(wanted)} ${quote} (budget short)` : '';
    return { adopted: true, note: `adopted${clipped}` };
  } finally {
    await deps.locks.release(lease);
  }
}
