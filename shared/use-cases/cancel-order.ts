/**
 * Cancels (EXE-15, RISK-2): one order, or every open order of an emergency stop.
 *
 * Primary course of one cancel (`cancelOrder`):
 * 1. Take the order's symbol lease; every write below is fenced by its token (RISK-7).
 * 2. Read the order again under the lease. Over already: nothing to do. Never sent (NEW), or
 *    sent without an answer (SUBMITTING, UNKNOWN): look it up first; the exchange's report is
 *    committed (Reported), and an order the exchange does not know has nothing to cancel.
 * 3. CancelRequested through the aggregate (CANCEL_REQUESTED, the earlier state remembered).
 * 4. Ask the exchange to cancel, on the path the circuit breaker does not block: the breaker
 *    protects entries, not the cancels of an emergency stop.
 * 5. The exchange's answer decides, through the aggregate:
 *    - canceled (or ended otherwise): Canceled, with the fill it reports booked;
 *    - filled meanwhile (closed): Canceled with that report, which makes the order FILLED and
 *      books the whole fill;
 *    - refused, unreachable, or the order unknown to it: CancelRejected, the earlier state back;
 *    - no answer (outcome unknown) or still open: the order stays CANCEL_REQUESTED with any
 *      fill reported, and the reconciler follows it to the exchange's final word.
 * 6. Audit the outcome (`order.cancel-outcome`, with author and reason) next to the aggregate's
 *    own records, and release the lease.
 * A failure of one cancel is a result (`ok: false`, with its code), never a thrown error, so an
 * emergency stop goes on past it and reports every failure at the end.
 *
 * `cancelOpenOrders` runs that for every order Tradewarden follows that is not over, then
 * cancels what is still open on the exchange for the watched symbols without being followed
 * locally: orders with the `tw-` client order id prefix, and with `all` every other order too.
 */
import { randomUUID } from 'node:crypto';
import { ErrorCode, LockHeldError, ValidationError, toTradewardenError } from '../domain/errors.js';
import type { OrderEvent } from '../domain/order-aggregate.js';
import { CLIENT_ORDER_ID_PREFIX, isTerminal, type OrderRecord, type OrderState } from '../domain/order.js';
import type { AccountStore } from '../ports/account-store.js';
import type { AuditLog } from '../ports/audit-log.js';
import type { Clock } from '../ports/clock.js';
import type { CancelExchange, ExchangeOrder } from '../ports/exchange.js';
import type { Lease, LockService } from '../ports/lock-service.js';
import type { OrderStore } from '../ports/order-store.js';
import { auditStream, commitOrderEvents, exchangeFeePrices, type OrderCommitDeps } from './order-commit.js';

/** Attempts at a symbol lease that another process holds (an executor finishing a send). */
export const CANCEL_LEASE_ATTEMPTS = 5;
/** Wait between those attempts: a send holds the lease for about one exchange call. */
export const CANCEL_LEASE_RETRY_MS = 1_000;
/** Local open orders read per page. */
const PAGE_SIZE = 100;
/** Client order ids as the stores and the exchanges take them. */
const ORDER_ID = /^[A-Za-z0-9_-]{1,64}$/;

export interface CancelSettings {
  readonly quoteCurrency: string;
  /** Lease owner prefix, e.g. `ops` or `console`. */
  readonly owner: string;
  readonly lockLeaseMs: number;
  /** Symbols whose open orders on the exchange a sweep lists (the watchlist). */
  readonly symbols: readonly string[];
}

export interface CancelDeps {
  readonly clock: Clock;
  readonly orders: OrderStore;
  readonly accounts: AccountStore;
  readonly audit: AuditLog;
  readonly locks: LockService;
  /** The exchange for cancels: not blocked by the circuit breaker (Container.cancelExchange). */
  readonly exchange: CancelExchange;
  readonly settings: CancelSettings;
  /** Waits between lease attempts. @default a timer */
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface CancelRequest {
  readonly reason: string;
  readonly author: string;
}

/**
 * - canceled: the exchange confirmed the cancel (a partial fill it reports is booked);
 * - filled: the order filled before the cancel reached it (booked, FILLED);
 * - ended: the order was over already; nothing was sent;
 * - not-on-exchange: never sent, or the exchange does not know it; nothing to cancel;
 * failures (`ok: false`):
 * - refused: the exchange refused or could not be reached; the earlier state is back;
 * - unconfirmed: no answer, or still open; left CANCEL_REQUESTED for the reconciler;
 * - busy: another process held the symbol lease throughout;
 * - error: a read or write of the books failed.
 */
export type CancelOutcome = 'canceled' | 'filled' | 'ended' | 'not-on-exchange' | 'refused' | 'unconfirmed' | 'busy' | 'error';

export interface CancelResult {
  readonly orderId: string;
  readonly symbol: string;
  readonly ok: boolean;
  readonly outcome: CancelOutcome;
  /** The local state afterwards; absent for an order only the exchange has. */
  readonly state?: OrderState;
  /** Found open on the exchange without an order Tradewarden follows (unknown locally, or ended locally). */
  readonly exchangeOnly?: true;
  readonly error?: { readonly code: string; readonly message: string };
}

export interface SweepResult {
  readonly results: readonly CancelResult[];
  readonly failures: readonly CancelResult[];
}

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function failure(order: { id: string; symbol: string }, outcome: CancelOutcome, error: unknown, state?: OrderState): CancelResult {
  const e = toTradewardenError(error);
  return { orderId: order.id, symbol: order.symbol, ok: false, outcome, ...(state ? { state } : {}), error: { code: e.code, message: e.message } };
}

function success(order: OrderRecord, outcome: CancelOutcome): CancelResult {
  return { orderId: order.id, symbol: order.symbol, ok: true, outcome, state: order.state };
}

async function acquireLease(deps: CancelDeps, symbol: string): Promise<Lease> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await deps.locks.acquire(`symbol:${symbol}`, `${deps.settings.owner}:${randomUUID()}`, deps.settings.lockLeaseMs, deps.clock.now());
    } catch (error) {
      if (!(error instanceof LockHeldError) || attempt >= CANCEL_LEASE_ATTEMPTS) throw error;
      await (deps.sleep ?? sleepFor)(CANCEL_LEASE_RETRY_MS);
    }
  }
}

/** Runs `fn` under the symbol lease; a lease never taken is a `busy` (or `error`) result. */
async function underLease(deps: CancelDeps, order: { id: string; symbol: string }, fn: (fence: number) => Promise<CancelResult>): Promise<CancelResult> {
  let lease: Lease;
  try {
    lease = await acquireLease(deps, order.symbol);
  } catch (error) {
    return failure(order, error instanceof LockHeldError ? 'busy' : 'error', error);
  }
  let result: CancelResult;
  try {
    result = await fn(lease.token);
  } catch (error) {
    // A failed read or write of the books: the order is where the last successful write left it.
    const current = await deps.orders.get(order.id).catch(() => null);
    result = failure(order, 'error', error, current?.state);
  }
  try {
    await deps.locks.release(lease);
  } catch (error) {
    // The lease runs out on its own; the cancel's own result stands, and the failure is reported.
    const e = toTradewardenError(error);
    result = { ...result, error: { code: result.error?.code ?? e.code, message: `${result.error ? `${result.error.message}; ` : ''}lease not released: ${e.message}` } };
  }
  return result;
}

/** The cancel of an order Tradewarden follows, under its lease (steps 2 to 5). */
async function cancelFollowed(deps: CancelDeps, id: string, request: CancelRequest, fence: number): Promise<CancelResult> {
  const commitDeps: OrderCommitDeps = {
    orders: deps.orders,
    accounts: deps.accounts,
    audit: deps.audit,
    quoteCurrency: deps.settings.quoteCurrency,
    feePrices: exchangeFeePrices(deps.exchange, deps.settings.quoteCurrency),
  };
  const commit = (o: OrderRecord, event: OrderEvent) => commitOrderEvents(commitDeps, o, event, fence);
  let order = await deps.orders.get(id);
  if (!order) throw new ValidationError(`no order ${JSON.stringify(id)}`);
  if (isTerminal(order.state)) return success(order, 'ended');
  if (order.state === 'NEW') return success(order, 'not-on-exchange');
  if (order.state === 'SUBMITTING' || order.state === 'UNKNOWN') {
    // A network error here is a failure of this cancel, never "not found" (REC-2).
    const remote = await deps.exchange.fetchOrderByClientId(order.symbol, order.id);
    if (!remote) return success(order, 'not-on-exchange');
    order = await commit(order, { type: 'Reported', at: deps.clock.now(), report: remote });
    if (isTerminal(order.state)) return success(order, order.state === 'FILLED' ? 'filled' : order.state === 'CANCELED' ? 'canceled' : 'ended');
  }
  order = await commit(order, { type: 'CancelRequested', at: deps.clock.now(), reason: request.reason });
  let report: ExchangeOrder | null;
  try {
    report = await deps.exchange.cancelOrder(order.symbol, order.id);
  } catch (error) {
    const e = toTradewardenError(error);
    // Refused, or nothing reached the exchange: the cancel did not take.
    if (e.code === ErrorCode.ExchangeRejected || e.code === ErrorCode.ExchangeTransient || e.code === ErrorCode.ExchangeOrderNotFound) {
      order = await commit(order, { type: 'CancelRejected', at: deps.clock.now(), reason: `${e.code}: ${e.message}` });
      return failure(order, 'refused', e, order.state);
    }
    // The request may have reached the exchange: only its later report can tell.
    return failure(order, 'unconfirmed', e, order.state);
  }
  if (!report) {
    order = await commit(order, { type: 'CancelRejected', at: deps.clock.now(), reason: 'the exchange does not know the order' });
    return failure(order, 'refused', new ValidationError(`the exchange does not know order ${order.id}`), order.state);
  }
  if (report.status === 'open') {
    order = await commit(order, { type: 'Reported', at: deps.clock.now(), report });
    return failure(order, 'unconfirmed', new ValidationError(`the exchange still reports order ${order.id} open after the cancel; the reconciler follows it`), order.state);
  }
  order = await commit(order, { type: 'Canceled', at: deps.clock.now(), reason: request.reason, report });
  return success(order, order.state === 'FILLED' ? 'filled' : 'canceled');
}

/** Step 6: one audit record per cancel, whatever its outcome. */
async function auditOutcome(deps: CancelDeps, result: CancelResult, request: CancelRequest, correlationId: string | undefined, extra: Record<string, unknown> = {}): Promise<CancelResult> {
  try {
    await deps.audit.append(
      auditStream(result.symbol),
      { type: 'order.cancel-outcome', ...(correlationId ? { correlationId } : {}), data: { ...result, author: request.author, reason: request.reason, ...extra } },
      deps.clock.now(),
    );
    return result;
  } catch (error) {
    const e = toTradewardenError(error);
    return { ...result, ok: false, error: { code: result.error?.code ?? e.code, message: `${result.error ? `${result.error.message}; ` : ''}outcome not audited: ${e.message}` } };
  }
}

/**
 * Cancels one order Tradewarden follows (steps 1 to 6).
 * @throws ValidationError for a malformed or unknown order id (nothing changes).
 */
export async function cancelOrder(deps: CancelDeps, input: CancelRequest & { readonly orderId: string }): Promise<CancelResult> {
  if (!ORDER_ID.test(input.orderId)) throw new ValidationError(`order id must be 1 to 64 letters, digits, - or _, got ${JSON.stringify(input.orderId.slice(0, 80))}`);
  const order = await deps.orders.get(input.orderId);
  if (!order) throw new ValidationError(`no order ${JSON.stringify(input.orderId)}`);
  return cancelKnown(deps, order, input);
}

async function cancelKnown(deps: CancelDeps, order: OrderRecord, request: CancelRequest): Promise<CancelResult> {
  const result = await underLease(deps, order, (fence) => cancelFollowed(deps, order.id, request, fence));
  return auditOutcome(deps, result, request, order.correlationId);
}

/** Cancels an order only the exchange has, under its symbol lease, and audits what the exchange reports of it. */
async function cancelUnfollowed(deps: CancelDeps, remote: ExchangeOrder, request: CancelRequest): Promise<CancelResult> {
  const ref = { id: remote.clientOrderId, symbol: remote.symbol };
  let reported: ExchangeOrder | null = null;
  const result = await underLease(deps, ref, async () => {
    try {
      reported = await deps.exchange.cancelOrder(remote.symbol, remote.clientOrderId);
    } catch (error) {
      const e = toTradewardenError(error);
      return failure(ref, e.code === ErrorCode.ExchangeRejected || e.code === ErrorCode.ExchangeTransient ? 'refused' : 'unconfirmed', e);
    }
    if (!reported) return failure(ref, 'refused', new ValidationError(`the exchange no longer knows order ${remote.clientOrderId}`));
    if (reported.status === 'open') return failure(ref, 'unconfirmed', new ValidationError(`the exchange still reports order ${remote.clientOrderId} open after the cancel`));
    return { orderId: ref.id, symbol: ref.symbol, ok: true, outcome: reported.status === 'closed' ? 'filled' : 'canceled' };
  });
  const seen: ExchangeOrder = reported ?? remote;
  return auditOutcome(deps, { ...result, exchangeOnly: true }, request, undefined, {
    exchangeOrderId: seen.id,
    side: seen.side,
    amount: seen.amount,
    filled: seen.filled,
    cost: seen.cost,
    fees: seen.fees,
    status: seen.status,
  });
}

/**
 * Cancels every order Tradewarden follows that is not over, then every order still open on the
 * exchange for the watched symbols that carries the `tw-` prefix (with `all`: any order). Goes
 * on past every failure; returns each result and the failures.
 */
export async function cancelOpenOrders(deps: CancelDeps, input: CancelRequest & { readonly all: boolean }): Promise<SweepResult> {
  const results: CancelResult[] = [];
  const handled = new Set<string>();
  const symbols = new Set(deps.settings.symbols);
  let cursor: string | undefined;
  const open: OrderRecord[] = [];
  do {
    const page = await deps.orders.listOpen(PAGE_SIZE, cursor);
    open.push(...page.items);
    cursor = page.cursor;
  } while (cursor);
  for (const order of open) {
    handled.add(order.id);
    symbols.add(order.symbol);
    results.push(await cancelKnown(deps, order, input));
  }
  for (const symbol of [...symbols].sort()) {
    let remote: ExchangeOrder[];
    try {
      remote = await deps.exchange.fetchOpenOrders(symbol);
    } catch (error) {
      // The orders of this symbol cannot be listed: a failure of its own, and the sweep goes on.
      results.push(await auditOutcome(deps, { ...failure({ id: '*', symbol }, 'error', error), exchangeOnly: true }, input, undefined, { listing: true }));
      continue;
    }
    for (const order of remote) {
      if (handled.has(order.clientOrderId)) continue;
      if (!input.all && !order.clientOrderId.startsWith(CLIENT_ORDER_ID_PREFIX)) continue;
      handled.add(order.clientOrderId);
      results.push(await cancelUnfollowed(deps, order, input));
    }
  }
  return { results, failures: results.filter((r) => !r.ok) };
}
