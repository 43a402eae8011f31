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
 *    left as it was, reported in `failures` and skipped, and the pass goes on (DATA-7).
 * 4. Stop before the deadline and store where: the page cursor and the watermark (creation
 *    time and id of the last order done), so the next run neither repeats nor skips orders.
 * 5. After a complete pass: look up ended orders still watched for a late fill (EXE-10); release
 *    reservations older than the bound that no live order backs (EXE-7); report orders open on the exchange but unknown locally, adopting those that carry
 *    our client order id prefix (REC-3); compare balances and pause on hard drift (REC-4).
 *    An exchange or validation failure of one sweep (the open orders, the balances) is reported
 *    in `failures` and the others still run (DATA-7).
 * 6. Store and return the report. A run fails as a whole only when it can do nothing: the store
 *    or the lock cannot be used, or the exchange's circuit is open. It then stores a `failed`
 *    report with its resume position first, and rethrows: the failure is never swallowed (HLT-5).
 */
import { randomUUID } from 'node:crypto';
import type { DriftMode, DriftThresholds } from '../domain/drift.js';
import { CircuitOpenError } from '../domain/circuit.js';
import { ErrorCode, LockHeldError, toTradewardenError } from '../domain/errors.js';
import type { OrderRecord } from '../domain/order.js';
import type { AccountStore } from '../ports/account-store.js';
import type { AuditLog } from '../ports/audit-log.js';
import type { Clock } from '../ports/clock.js';
import type { ControlStore } from '../ports/control-store.js';
import type { Exchange } from '../ports/exchange.js';
import type { LockService } from '../ports/lock-service.js';
import type { OrderStore } from '../ports/order-store.js';
import { reconcileBalances, type BalanceReport } from './reconcile-balances.js';
import { reconcileOrder, settleInFlight, type OrderOutcome } from './reconcile-order.js';
import { findOrphans } from './reconcile-orphans.js';
import { releaseStaleReservations } from './reconcile-reservations.js';

export const RECONCILER_LOCK = 'reconciler';
/** Orphans listed one by one in the report; beyond this they are only counted. */
export const MAX_REPORTED_ORPHANS = 20;
/** Strategy recorded on an order adopted from the exchange (REC-3). */
export const ADOPTED_STRATEGY = 'adopted';
/** Failures listed one by one in the report; beyond this they are only counted (`failed`). */
export const MAX_REPORTED_FAILURES = 20;

/**
 * Failures that concern one order or one sweep and are skipped (DATA-7): the exchange could not
 * answer or refused, or what it answered (or what is stored) does not validate. Anything else
 * (the store, a lost lease, a bug) fails the run.
 */
const SKIPPED_CODES: ReadonlySet<string> = new Set([
  ErrorCode.ExchangeTransient,
  ErrorCode.ExchangeUnknownOutcome,
  ErrorCode.ExchangeRejected,
  ErrorCode.ExchangeOrderNotFound,
  ErrorCode.MarketDataInvalid,
  ErrorCode.ValidationFailed,
  ErrorCode.IllegalTransition,
]);

/** One order or sweep skipped on its own failure this run (DATA-7). */
export interface ReconcileFailure {
  /** An order of the pass or of the late-fill watch, or a sweep after the pass. */
  readonly scope: 'order' | 'orphans' | 'balances';
  readonly orderId?: string;
  readonly symbol?: string;
  readonly code: string;
  readonly reason: string;
}

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
    /** Whether other parties trade the same assets on the account (REC-7). @default 'exclusive' */
    readonly driftMode?: DriftMode;
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
  /** Fills (or life) the exchange reported for orders that had ended locally, booked once (EXE-10). */
  readonly lateFills: number;
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
  /** Orders skipped this run on their own failure (DATA-7); looked at again next run. */
  readonly failed: number;
  /** The first MAX_REPORTED_FAILURES skipped orders and sweeps, with why. */
  readonly failures: readonly ReconcileFailure[];
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
  lateFills: number;
  failed: number;
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
  const counts: Counts = { checked: 0, updated: 0, filled: 0, notFound: 0, lost: 0, expired: 0, skippedBusy: 0, skippedSettling: 0, releasedReservations: 0, lateFills: 0, failed: 0 };
  const failures: ReconcileFailure[] = [];
  const noOrphans = { orphans: 0, adopted: 0, orphanOrders: [] as OrphanOrder[] };
  // The run lease covers the whole run, so no second run starts before this one's deadline.
  const runLeaseMs = Math.max(0, input.deadline.getTime() - start.getTime()) + settings.lockLeaseMs;
  let runLease;
  try {
    runLease = await deps.locks.acquire(RECONCILER_LOCK, `${settings.owner}:${randomUUID()}`, runLeaseMs, start);
  } catch (error) {
    if (error instanceof LockHeldError) return { status: 'skipped', at: start.toISOString(), ...(scope ? { scope } : {}), ...counts, ...noOrphans, failures };
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
      failures: [...failures],
      ...(carriedBalances ? { balances: carriedBalances } : {}),
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
          if (isSkipped(error)) {
            // DATA-7: this order alone; it is looked at again next run.
            skip(counts, failures, { scope: 'order', orderId: order.id, symbol: order.symbol }, error);
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

    // 5. After a complete pass: ended orders still watched for a late fill, before anything is
    //    measured; then the sweeps.
    const watchStop = await watchPass(deps, input, counts, failures);
    if (watchStop) {
      const report = base('partial', {});
      await deps.control.putReport('reconciliation', { ...report });
      return report;
    }
    counts.releasedReservations = await releaseStaleReservations(deps);
    const found = await sweep(failures, 'orphans', () => findOrphans(deps, input));
    const { lateFills: revived, ...orphans } = found ?? { lateFills: 0, ...noOrphans };
    counts.lateFills += revived;
    const balances = scoped
      ? undefined
      : await sweep(failures, 'balances', () =>
          reconcileBalances(
            { accounts: deps.accounts, exchange: deps.exchange, audit: deps.audit, control: deps.control, clock: deps.clock, settings: { quoteCurrency: settings.quoteCurrency, watchlist: settings.watchlist, thresholds: settings.drift, ...(settings.driftMode ? { driftMode: settings.driftMode } : {}) } },
            (ids) => settleInFlight(deps, ids),
          ),
        );
    const report: ReconcileReport = { ...base('completed', {}), ...orphans, ...(balances ? { balances } : {}) };
    await deps.control.putReport('reconciliation', { ...report });
    return report;
  } finally {
    await deps.locks.release(runLease);
  }
}

/**
 * Looks up every ended order still watched for a late fill (EXE-10), oldest first. Returns true
 * when the deadline stopped it (the next run starts again: the watch list is short-lived).
 */
async function watchPass(deps: ReconcileDeps, input: ReconcileInput, counts: Counts, failures: ReconcileFailure[]): Promise<boolean> {
  let cursor: string | undefined;
  for (;;) {
    const page = await deps.orders.listWatched(deps.settings.pageSize, cursor);
    for (const order of page.items) {
      if (!inScope(order, input)) continue;
      if (deps.clock.now() >= input.deadline) return true;
      try {
        tally(counts, await reconcileOrder(deps, order, 'pass'));
      } catch (error) {
        if (!isSkipped(error)) throw error;
        skip(counts, failures, { scope: 'order', orderId: order.id, symbol: order.symbol }, error);
      }
    }
    if (!page.cursor) return false;
    cursor = page.cursor;
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

function tally(counts: Counts, outcome: OrderOutcome): void {
  if (outcome !== 'unchanged' && outcome !== 'busy' && outcome !== 'settling') counts.updated += 1;
  if (outcome === 'filled') counts.filled += 1;
  if (outcome === 'not-found') counts.notFound += 1;
  if (outcome === 'lost') counts.lost += 1;
  if (outcome === 'expired') counts.expired += 1;
  if (outcome === 'late-fill') counts.lateFills += 1;
  if (outcome === 'busy') counts.skippedBusy += 1;
  if (outcome === 'settling') counts.skippedSettling += 1;
}

/** True for a failure that concerns one order or one sweep only (DATA-7); an open circuit concerns them all. */
function isSkipped(error: unknown): boolean {
  if (error instanceof CircuitOpenError) return false;
  return SKIPPED_CODES.has(toTradewardenError(error).code);
}

function skip(counts: Counts, failures: ReconcileFailure[], what: Omit<ReconcileFailure, 'code' | 'reason'>, error: unknown): void {
  const coded = toTradewardenError(error);
  if (what.scope === 'order') counts.failed += 1;
  if (failures.length < MAX_REPORTED_FAILURES) failures.push({ ...what, code: coded.code, reason: coded.message.slice(0, 200) });
}

/** Runs one sweep; an exchange or validation failure of it is reported and the run goes on (DATA-7). */
async function sweep<T>(failures: ReconcileFailure[], scope: 'orphans' | 'balances', run: () => Promise<T>): Promise<T | undefined> {
  try {
    return await run();
  } catch (error) {
    if (!isSkipped(error)) throw error;
    const coded = toTradewardenError(error);
    // Sweeps are reported even past the order limit: there are only two.
    failures.push({ scope, code: coded.code, reason: coded.message.slice(0, 200) });
    return undefined;
  }
}

async function storeFailure(deps: ReconcileDeps, report: ReconcileReport, error: unknown): Promise<void> {
  const coded = toTradewardenError(error);
  try {
    await deps.control.putReport('reconciliation', { ...report, error: { code: coded.code, message: coded.message } });
  } catch {
    // The run fails with the original error either way; this only loses the resume position.
  }
}

