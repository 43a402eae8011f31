/**
 * Reconciler handler: one resumable pass that stops before the function timeout, then the
 * orphan and balance checks; emits fills, drift, equity and realized PnL.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { assertThresholds, type DriftThresholds } from '../../shared/domain/drift.js';
import { ValidationError } from '../../shared/domain/errors.js';
import { checkScheduledTime } from '../../shared/domain/scheduled-time.js';
import { LOST_AFTER_NOT_FOUND, LOST_GRACE_MS, SETTLE_MS } from '../../shared/domain/timing.js';
import type { Container } from '../../shared/runtime/container.js';
import { ReconcilerEventSchema } from '../../shared/runtime/events/reconciler.js';
import { withStack } from '../../shared/runtime/handler-stack.js';
import { MetricName } from '../../shared/runtime/metric-names.js';
import { addIfNonZero } from '../../shared/runtime/observability.js';
import { reconcile, type ReconcileDeps, type ReconcileInput } from '../../shared/use-cases/reconcile.js';

/** Time kept in hand before the function timeout to run the balance check and store the report. */
export const DEADLINE_MARGIN_MS = 10_000;
/** Without a Lambda context (local replays), a run gets this long. */
export const DEFAULT_RUN_MS = 60_000;
export const RECONCILE_PAGE_SIZE = 50;
/**
 * Overrides of the drift thresholds (REC-4), which otherwise come from the configuration
 * (TW_DRIFT_ALARM_QUOTE, default 10 per the audits' reconciliation threshold, and
 * TW_DRIFT_PAUSE_QUOTE, default 100).
 */
export interface ReconcilerOptions {
  /** @default config.driftAlarmQuote */
  readonly driftAlarmQuote?: string;
  /** @default config.driftPauseQuote */
  readonly driftPauseQuote?: string;
}

/** The reconciler's dependencies from a container; exported so tests run the use case the same way. */
export function reconcilerDeps(c: Container, options: ReconcilerOptions = {}): ReconcileDeps {
  const drift: DriftThresholds = {
    alarmQuote: options.driftAlarmQuote ?? c.config.driftAlarmQuote,
    pauseQuote: options.driftPauseQuote ?? c.config.driftPauseQuote,
  };
  assertThresholds(drift);
  return {
    orders: c.orders,
    accounts: c.accounts,
    locks: c.locks,
    exchange: c.exchange,
    audit: c.audit,
    control: c.control,
    clock: c.clock,
    settings: {
      quoteCurrency: c.config.quoteCurrency,
      owner: 'reconciler',
      lockLeaseMs: c.config.lockLeaseSeconds * 1000,
      settleMs: SETTLE_MS,
      lostAfterNotFound: LOST_AFTER_NOT_FOUND,
      lostGraceMs: LOST_GRACE_MS,
      reservationMaxAgeMs: c.config.reservationMaxAgeSeconds * 1000,
      pageSize: RECONCILE_PAGE_SIZE,
      watchlist: c.config.watchlist,
      drift,
      driftMode: c.config.driftMode,
    },
  };
}

/**
 * The time window of an ad hoc payload `{ "from": ISO, "to": ISO }`: orders created in [from, to).
 * @throws ValidationError when only one end is given or the window is empty.
 */
export function windowOf(event: Readonly<Record<string, unknown>>): ReconcileInput['window'] {
  const { from, to } = event;
  if (from === undefined && to === undefined) return undefined;
  if (typeof from !== 'string' || typeof to !== 'string' || Number.isNaN(Date.parse(from)) || Number.isNaN(Date.parse(to))) {
    throw new ValidationError('a reconciliation window needs both from and to as ISO times');
  }
  if (Date.parse(from) >= Date.parse(to)) throw new ValidationError('a reconciliation window needs from before to');
  return { from: new Date(from), to: new Date(to) };
}

export function createReconcilerHandler(c: Container, options: ReconcilerOptions = {}) {
  const deps = reconcilerDeps(c, options);
  const { metrics } = c.observability;
  // DATA-9: a time more than one period ahead, or older than an intent lives, changes nothing.
  const limits = { periodMs: c.config.reconcilerEverySeconds * 1000, maxAgeMs: c.config.intentTtlSeconds * 1000 };
  const check = (event: { scheduledTime?: string | undefined }) => {
    if (event.scheduledTime) checkScheduledTime('reconciler', event.scheduledTime, c.clock.now(), limits);
  };
  return withStack('reconciler', c, ReconcilerEventSchema, async (event, context) => {
    const now = c.clock.now().getTime();
    const remaining = typeof context?.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : DEFAULT_RUN_MS;
    const deadline = new Date(now + Math.max(0, remaining - DEADLINE_MARGIN_MS));
    const window = windowOf(event as Readonly<Record<string, unknown>>);
    await c.ensureAccount();
    const report = await reconcile(deps, { deadline, ...(event.symbol ? { symbol: event.symbol } : {}), ...(window ? { window } : {}) });
    addIfNonZero(metrics, MetricName.Fills, MetricUnit.Count, report.filled);
    // DATA-7: skipped orders and sweeps are in the stored report (health reads it) and the log.
    if (report.failures.length > 0) c.observability.logger.warn('reconciliation skipped failures', { failed: report.failed, failures: report.failures });
    // Balance figures only when this run measured them, never a carried-over value.
    if (report.balances && Date.parse(report.balances.at) >= now) {
      // Drift only when there is some (its alarm treats no data as none); equity and PnL always.
      addIfNonZero(metrics, MetricName.DriftQuote, MetricUnit.Count, Number(report.balances.drift.quote));
      metrics.addMetric(MetricName.Equity, MetricUnit.Count, Number(report.balances.equity));
      metrics.addMetric(MetricName.RealizedPnl, MetricUnit.Count, Number(report.balances.realizedPnl));
      // One bounded point of the console's equity curve (at most one per minute is kept).
      await c.equitySnapshots.record({ at: report.balances.at, currency: c.config.quoteCurrency, equity: report.balances.equity, realizedPnl: report.balances.realizedPnl });
    }
    return report;
  }, { check });
}
