/**
 * The executor's send (execute-intent.ts, steps 7-8): the last checks before the exchange call,
 * the call, and the booking of its answer. Three ways in:
 * - `claimed`: this run claimed the order into SUBMITTING and reserved its budget. One round trip
 *   before the call: the pause read (EXE-14), with the exchange's own read (its circuit) beside it.
 *   The reservation's record (`budget.reserved`, which follows its write) goes out with the next
 *   records of the run, in the same audit item: the exchange's answer (`order.sent`, the fill),
 *   or the order's closure when it may not go out (PERF-2: one put less per executed intent).
 * - `new`: an order claimed NEW (by an earlier version of the executor), reserved by the caller:
 *   SUBMITTING is written with the pause read, as before.
 * - `resumed` (SUBMITTING or UNKNOWN): an earlier attempt may have reached the exchange, so the
 *   order is looked up first (EXE-3) and sent again only when the exchange does not have it AND
 *   the last attempt is older than `resendGraceMs`. The order's run may have died before its
 *   reservation was written (the claim carries SUBMITTING; a reconciler's "not found" may have
 *   moved it to UNKNOWN since): the reservation is made sure of, and recorded, before the
 *   re-send (keyed by the order id, a no-op write when it exists), and a refused one closes the
 *   order unsent. An order found on the exchange whose budget the book holds records
 *   `budget.reserved` with `order.found`: the run that sent it may have died before its record.
 */
import { ExchangeRejectedError, ExchangeUnknownOutcomeError } from '../domain/errors.js';
import type { AccountBook } from '../domain/account.js';
import type { OrderRecord } from '../domain/order.js';
import type { AuditEntry } from '../ports/audit-log.js';
import type { ExchangeOrder } from '../ports/exchange.js';
import type { PauseState } from '../ports/control-store.js';
import type { Lease } from '../ports/lock-service.js';
import type { ExecuteIntentDeps, ExecutionOutcome, ExecutionResult, ExecutorStep } from './execute-intent.js';
import { commitOrderEvents, exchangeFeePrices, type OrderCommitDeps } from './order-commit.js';
import { expiryBlock, sendBlock, type SendBlocked } from './pre-send-guard.js';
import { reservedRecord, type Reserved } from './reserve-budget.js';

export type SendMode = 'claimed' | 'new' | 'resumed';

export interface SendContext {
  readonly lease: Lease;
  /** The intent's deadline (EXE-14). */
  readonly deadline: Date;
  readonly step: (name: ExecutorStep) => Promise<void>;
  /** Reserves the order's budget and records it (a no-op write when the book holds it already). */
  readonly reserve: (order: OrderRecord) => Promise<Reserved>;
  /** The book as the run's first round trip read it: whether a resumed order's budget is held. */
  readonly book?: Promise<AccountBook | null>;
}

export function result(order: OrderRecord, outcome: ExecutionOutcome): ExecutionResult {
  return {
    intentId: order.intentId,
    orderId: order.id,
    state: order.state,
    outcome,
    ...(order.reason ? { reason: order.reason } : {}),
    filled: order.filled,
    cost: order.cost,
    fees: order.fees,
  };
}

/**
 * Sends `order` (see the module comment for `mode`). `book`: the book as this run last wrote it,
 * the starting point of the fill's book write (one read less).
 */
export async function send(deps: ExecuteIntentDeps, order: OrderRecord, ctx: SendContext, mode: SendMode, book?: AccountBook): Promise<ExecutionResult> {
  const { lease, deadline, step } = ctx;
  const sync = commitDeps(deps);
  let current = order;
  let sinceLastAttemptMs: number | undefined;
  if (mode === 'resumed') {
    // EXE-3: never re-send before asking the exchange whether it already has the order, and
    // not before the last attempt can no longer reach it (execute-intent.ts, module comment).
    const found = await deps.exchange.fetchOrderByClientId(order.symbol, order.id);
    if (found) {
      // The attempt that sent it may have died before recording `order.sent`. Decided by the same
      // answer as its booking: one batch append with the booking's records.
      const foundRecord = { type: 'order.found', correlationId: current.correlationId, data: { orderId: current.id, exchangeOrderId: found.id, status: found.status, state: current.state } };
      const held = ctx.book ? (await ctx.book)?.orders[current.id] !== undefined : false;
      return finish(deps, current, 'Reported', found, lease, step, undefined, [...(held ? [reservedRecord(current, deps.settings.quoteCurrency)] : []), foundRecord]);
    }
    const grace = deps.settings.resendGraceMs ?? 0;
    const sinceLastAttempt = deps.clock.now().getTime() - lastAttemptAt(current);
    if (sinceLastAttempt < grace) {
      throw new ExchangeUnknownOutcomeError(`order ${current.id} is not on the exchange yet; it is sent again only if still missing ${grace} ms after the last attempt`, {
        details: { orderId: current.id, state: current.state, sinceLastAttemptMs: sinceLastAttempt, resendGraceMs: grace },
      });
    }
    sinceLastAttemptMs = sinceLastAttempt;
  }
  // A claimed order's reservation record, appended with the next records of this run.
  const reservedFirst: readonly AuditEntry[] = mode === 'claimed' ? [reservedRecord(current, deps.settings.quoteCurrency)] : [];
  // EXE-14: the last checks before the call. The order is not on the exchange (first send, or
  // looked up above past the grace), so one that may no longer go out is closed, not sent.
  const expired = expiryBlock(deps.clock, deadline);
  if (expired) return closeUnsent(deps, current, lease, expired, book, reservedFirst);
  if (mode === 'resumed') {
    // Also UNKNOWN: a reconciler's "not found" moves a claimed order there before its redelivery.
    const reserved = await ctx.reserve(current);
    if (!reserved.ok) return closeUnsent(deps, current, lease, { type: 'Rejected', reason: reserved.reason });
    book = reserved.book;
  }
  // The pause is read in the same round trip as the last write before the call, as late as
  // anything before it; the exchange reads what the send needs (its circuit) beside it. Both
  // settle before either failure is thrown: no write of this run outlives it.
  deps.exchange.prepareOrder?.();
  const [written, pauseRead] = await Promise.allSettled([
    mode === 'claimed'
      ? Promise.resolve(current)
      : commitOrderEvents(sync, current, { type: 'Submitting', at: deps.clock.now(), ...(sinceLastAttemptMs !== undefined ? { sinceLastAttemptMs } : {}) }, lease.token),
    deps.control.getPause(),
  ]);
  if (written.status === 'rejected') throw written.reason;
  // Fail closed: an unreadable pause record fails the invocation; the order stays SUBMITTING.
  if (pauseRead.status === 'rejected') throw pauseRead.reason;
  current = written.value;
  const pause: PauseState = pauseRead.value;
  if (mode !== 'resumed') await step('after-submitting');
  // Paused, expired, or the lease ran out (thrown): pre-send-guard.ts.
  const blocked = sendBlock(deps.clock, current, pause, deadline, lease);
  if (blocked) return closeUnsent(deps, current, lease, blocked, book, reservedFirst);
  let remote: ExchangeOrder;
  try {
    remote = await deps.exchange.createOrder({
      clientOrderId: current.id,
      symbol: current.symbol,
      side: current.side,
      type: current.type,
      amount: current.amount,
      ...(current.limitPrice ? { limitPrice: current.limitPrice } : {}),
    });
  } catch (error) {
    if (error instanceof ExchangeRejectedError && error.reason === 'duplicate-client-order-id') {
      const found = await deps.exchange.fetchOrderByClientId(current.symbol, current.id);
      if (found) return finish(deps, current, 'Reported', found, lease, step, undefined, reservedFirst);
      current = await commitOrderEvents(sync, current, { type: 'OutcomeUnknown', at: deps.clock.now(), reason: 'exchange reports a duplicate but cannot find it' }, lease.token, { precededBy: reservedFirst });
      throw new ExchangeUnknownOutcomeError(`order ${current.id}: duplicate reported but not found`, { cause: error });
    }
    if (error instanceof ExchangeRejectedError) {
      const closed = await commitOrderEvents(sync, current, { type: 'Rejected', at: deps.clock.now(), reason: `exchange rejected: ${error.reason}: ${error.message}` }, lease.token, { precededBy: reservedFirst });
      return result(closed, 'rejected');
    }
    if (error instanceof ExchangeUnknownOutcomeError) {
      await commitOrderEvents(sync, current, { type: 'OutcomeUnknown', at: deps.clock.now(), reason: error.message }, lease.token, { precededBy: reservedFirst });
      throw error;
    }
    // ExchangeTransientError: nothing was created; the order stays SUBMITTING and the redelivery
    // looks it up before re-sending (and records the reservation: see the module comment). Anything else is unexpected and fails the invocation too.
    throw error;
  }
  await step('after-exchange-accepted');
  // `order.sent` and the records of the answer's booking (`order.filled`, ...) are decided by the
  // same answer: one batch append (PERF-2). A run that dies before it leaves the order SUBMITTING;
  // the redelivery finds it on the exchange and records `order.found` instead.
  const sent = { type: 'order.sent', correlationId: current.correlationId, data: { orderId: current.id, exchangeOrderId: remote.id, status: remote.status } };
  return finish(deps, current, 'Accepted', remote, lease, step, book, [...reservedFirst, sent]);
}

/**
 * When the order was last sent (its last Submitting event, or its claim into SUBMITTING), so that
 * a reconciler's "not found" lookups, which also change the order, do not keep pushing the
 * re-send grace out. An order whose summary no longer holds that event falls back to its last
 * change.
 */
function lastAttemptAt(order: OrderRecord): number {
  const attempt = (order.events ?? []).findLast((e) => e.type === 'Submitting' || (e.type === 'Claimed' && e.to === 'SUBMITTING'));
  return Date.parse(attempt?.at ?? order.updatedAt);
}

/**
 * Ends an order that is not on the exchange and must not be sent (EXE-14): EXPIRED or REJECTED
 * through the aggregate, which releases its reservation.
 */
export async function closeUnsent(
  deps: ExecuteIntentDeps,
  order: OrderRecord,
  lease: Lease,
  blocked: SendBlocked,
  book?: AccountBook,
  /** Records decided before the closure and not yet written (a claimed order's `budget.reserved`). */
  precededBy: readonly AuditEntry[] = [],
): Promise<ExecutionResult> {
  const closed = await commitOrderEvents(commitDeps(deps), order, { type: blocked.type, at: deps.clock.now(), reason: blocked.reason }, lease.token, { ...(book ? { book } : {}), precededBy });
  return result(closed, blocked.type === 'Expired' ? 'expired' : 'rejected');
}

/** Books the exchange's answer to the send (`Accepted`) or to a lookup (`Reported`). */
async function finish(
  deps: ExecuteIntentDeps,
  order: OrderRecord,
  event: 'Accepted' | 'Reported',
  remote: ExchangeOrder,
  lease: Lease,
  step: (name: ExecutorStep) => Promise<void>,
  book?: AccountBook,
  /** Records decided with the answer, appended first in the same write (`order.sent`). */
  precededBy?: readonly AuditEntry[],
): Promise<ExecutionResult> {
  const recorded = await commitOrderEvents(commitDeps(deps), order, { type: event, at: deps.clock.now(), report: remote }, lease.token, { ...(book ? { book } : {}), ...(precededBy ? { precededBy } : {}) });
  await step('after-record');
  return result(recorded, 'executed');
}

export function commitDeps(deps: ExecuteIntentDeps): OrderCommitDeps {
  return { orders: deps.orders, accounts: deps.accounts, audit: deps.audit, quoteCurrency: deps.settings.quoteCurrency, feePrices: exchangeFeePrices(deps.exchange, deps.settings.quoteCurrency) };
}
