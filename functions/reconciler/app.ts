/**
 * Reconciler handler: one resumable pass that stops before the function timeout.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Container } from '../../shared/runtime/container.js';
import { ReconcilerEventSchema } from '../../shared/runtime/events.js';
import { withStack } from '../../shared/runtime/handler-stack.js';
import { MetricName } from '../../shared/runtime/metric-names.js';
import { reconcile } from '../../shared/use-cases/reconcile.js';

/** Time kept in hand before the function timeout to store the cursor and report. */
export const DEADLINE_MARGIN_MS = 10_000;
/** Without a Lambda context (local replays), a run gets this long. */
export const DEFAULT_RUN_MS = 60_000;
/** "Not found" answers, and the time they must span, before an order is declared lost (REC-2). */
export const LOST_AFTER_NOT_FOUND = 3;
export const LOST_GRACE_MS = 120_000;
/** Orders changed more recently than this are left to the executor working on them. */
export const SETTLE_MS = 15_000;
export const RECONCILE_PAGE_SIZE = 50;

export function createReconcilerHandler(c: Container) {
  const deps = {
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
    },
  };
  return withStack('reconciler', c, ReconcilerEventSchema, async (event, context) => {
    const now = c.clock.now().getTime();
    const remaining = typeof context?.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : DEFAULT_RUN_MS;
    const deadline = new Date(now + Math.max(0, remaining - DEADLINE_MARGIN_MS));
    await c.ensureAccount();
    const report = await reconcile(deps, { deadline, ...(event.symbol ? { symbol: event.symbol } : {}) });
    c.observability.metrics.addMetric(MetricName.Fills, MetricUnit.Count, report.filled);
    return report;
  });
}
