/**
 * Executes one trade intent exactly once (EXE-1..9, RISK-1, RISK-7).
 *
 * Primary course:
 * 1-4. One round trip (first-round-trip.ts): the order, the pause, the book, the entry limits and
 *    the symbol lease together, the sizing's ticker read alongside.
 * 1. If an order for this intent exists and is past submission, return what was recorded
 *    (duplicate delivery, replay, DLQ redrive).
 * 2. A new intent that has expired is recorded EXPIRED with its reason, never executed (EXE-9).
 *    Its expiry is the earlier of `expiresAt` and `createdAt` + TTL, recorded on the order at the
 *    claim; an intent created in the future beyond clock skew is invalid (EXE-14).
 * 3. Check the kill switch; an unreadable pause record fails the invocation (fail closed). A
 *    pause of entries only (the drift halt, RISK-8) refuses buys and lets exits through.
 * 4. The symbol lease; every write below is fenced by its token.
 * 5. Claim: create the order NEW with a conditional put (only one executor wins), with amount and
 *    price rounded and checked against the market's limits (EXE-6, size-order.ts).
 * 6. Reserve budget (EXE-7), then record SUBMITTING, BEFORE the exchange is called (EXE-2).
 *    CLAIM_AND_RESERVE: a new order's reservation is written in the same round trip as its
 *    claim. A reservation is keyed by the order id, so one made beside a claim that lost is a
 *    no-op or stands for the stored order (released from the book's own amount when it ends),
 *    and one a crash left without an order is taken over by the redelivery (a no-op) or given
 *    back by the reconciler's bounded-age sweep of reservations without a live order.
 *    An entry (a buy) is checked against the risk limits in the same conditional write of the
 *    account book that reserves its budget (EXE-13, domain/entry-limits.ts): one that would break
 *    a limit is recorded REJECTED with the limit's name and reserves nothing. Exits are never
 *    checked against entry limits.
 * 7. Send with the client order id derived from the intent id. A resumed order (SUBMITTING or
 *    UNKNOWN) is first looked up by client order id and re-sent only when the exchange says it
 *    does not have it AND the last attempt is older than `resendGraceMs` (EXE-3, see below);
 *    the exchange rejects a duplicate client order id anyway.
 * 7a. Immediately before every exchange call (first send and re-send alike, EXE-14) the expiry
 *    and the pause are checked again (pre-send-guard.ts): the pause is read in the same round
 *    trip as the SUBMITTING write. An order that may no longer go out is closed, not sent.
 * 8. Book the result: every change of the order is an event applied by the order aggregate
 *    (domain/order-aggregate.ts) and written by order-commit.ts: fill, fees, state, release of
 *    the surplus.
 * Failures: permanent -> REJECTED, budget released, audited, acknowledged. Transient -> thrown,
 * so the queue redelivers and finally dead-letters. Outcome unknown -> UNKNOWN, thrown.
 *
 * Why a grace before re-sending: an exchange's order lookup is not instantly consistent with
 * its matching engine. Right after a timeout, "not found" may only mean "not processed yet",
 * and a re-send would then place a second order (Binance only deduplicates client order ids
 * among OPEN orders, so a filled first order does not stop the second). A signed request is
 * refused by the matching engine once its `recvWindow` has passed, so after a grace longer
 * than that window (plus clock skew) "not found" means "will never exist" and re-sending the
 * same client order id is safe.
 *
 * What makes it exactly-once (EXE-1), in layers: the deterministic order id and the
 * conditional claim (only one executor creates the order record), the symbol lease with a
 * fencing token (only one executor works on it at a time, and a stale one cannot write), the
 * lookup before any re-send, and the exchange's own rejection of a duplicate client order id.
 * The handler may put Powertools Idempotency in front (functions/executor/app.ts); that only
 * saves work on duplicates and is not relied on.
 *
 * AUDIT_ORDER (OPS-4): a decision is audited BEFORE the state write that applies it (claim,
 * SUBMITTING, UNKNOWN, a re-send, a recorded fill or closure), and a step that is repeated after
 * a crash audits again. So a crash can repeat an audit record, never leave a change unaudited.
 * Where the outcome is only known afterwards (the exchange's answer, a reservation) the record
 * follows the write, and the resumed path records what it finds (`order.found`).
 */
import { randomUUID } from 'node:crypto';
import { ExchangeRejectedError, ExchangeUnknownOutcomeError, ValidationError } from '../domain/errors.js';
import type { AccountBook } from '../domain/account.js';
import type { EntryLimits } from '../domain/entry-limits.js';
import { futureCreationProblem, intentExpiry, type Intent } from '../domain/intent.js';
import { CLOCK_SKEW_ALLOWANCE_MS } from '../domain/timing.js';
import type { FeeAmount } from '../domain/fees.js';
import type { MarketRules } from '../domain/market.js';
import { claimOrder, type OrderDraft } from '../domain/order-aggregate.js';
import { clientOrderIdFor, isTerminal, type OrderRecord, type OrderState } from '../domain/order.js';
import type { AuditLog } from '../ports/audit-log.js';
import type { Clock } from '../ports/clock.js';
import type { ControlStore } from '../ports/control-store.js';
import type { Exchange, ExchangeOrder } from '../ports/exchange.js';
import type { Lease, LockService } from '../ports/lock-service.js';
import type { AccountStore } from '../ports/account-store.js';
import type { OrderStore } from '../ports/order-store.js';
import { auditStream, commitOrderEvents, exchangeFeePrices, releaseBudget, type OrderCommitDeps } from './order-commit.js';
import { pauseBlocks } from './pause.js';
import { reserveBudget, type Reserved } from './reserve-budget.js';
import { expiryBlock, pausedReason, sendBlock, type SendBlocked } from './pre-send-guard.js';
import { isKnownSymbol, sizeOrder, unknownSymbolError, type Sized } from './size-order.js';
import { firstRoundTrip, pastSubmission, type FirstRoundTrip } from './first-round-trip.js';

/** Steps at which tests can stop the executor to prove crash recovery (TST-2). */
export type ExecutorStep =
  | 'before-claim'
  | 'after-claim'
  | 'after-reserve'
  | 'after-submitting'
  | 'after-exchange-accepted'
  | 'after-record';

export interface ExecuteIntentDeps {
  readonly orders: OrderStore;
  readonly accounts: AccountStore;
  readonly locks: LockService;
  readonly exchange: Exchange;
  readonly audit: AuditLog;
  readonly control: ControlStore;
  readonly clock: Clock;
  readonly marketRules: (symbol: string) => Promise<MarketRules>;
  /**
   * The entry limits in force (the configuration merged with the tunables record), read when
   * an entry is executed, not when it was made, so an operator's change applies to intents
   * already queued (EXE-13). The handler reads them once per invocation (batch).
   */
  readonly entryLimits: () => Promise<EntryLimits>;
  /**
   * Every market's rules, to tell dust from open positions (RISK-9). A position in a market not
   * listed here counts as open. @default none: every position counts
   */
  readonly markets?: () => Promise<Readonly<Record<string, MarketRules>>>;
  readonly settings: {
    readonly quoteCurrency: string;
    readonly lockLeaseMs: number;
    /** Extra quote reserved above price x amount for fees and slippage, in percent. */
    readonly reservationBufferPercent: string;
    /** Who is executing (function instance); a per-call suffix makes each lease owner unique. */
    readonly owner: string;
    /**
     * How long after its last attempt an order the exchange does not find may be sent again
     * (see the module comment). 0 only for an exchange whose lookup is strongly consistent
     * with its order entry (the paper exchange, fakes). @default 0
     */
    readonly resendGraceMs?: number;
    /** The configured intent time-to-live (TW_INTENT_TTL_SECONDS): no intent goes out later than createdAt + this (EXE-14). */
    readonly intentTtlMs: number;
  };
  /** Test hook: called after each step; a throw simulates the process dying there. */
  readonly afterStep?: (step: ExecutorStep, intent: Intent) => void | Promise<void>;
}

export type ExecutionOutcome = 'executed' | 'already-processed' | 'rejected' | 'expired';

export interface ExecutionResult {
  readonly intentId: string;
  readonly orderId: string;
  readonly state: OrderState;
  readonly outcome: ExecutionOutcome;
  readonly reason?: string;
  readonly filled: string;
  readonly cost: string;
  readonly fees: readonly FeeAmount[];
}


function result(order: OrderRecord, outcome: ExecutionOutcome): ExecutionResult {
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

/** What `beginIntent` read and took: the start of an execution, made ahead by the handler. */
export interface BegunIntent {
  readonly orderId: string;
  readonly now: Date;
  readonly intentDeadline: Date;
  readonly known: boolean;
  readonly first: FirstRoundTrip;
}

/**
 * The start of an execution, up to its first round trip (steps 1-4 are then decided on it). The
 * handler starts it while its idempotency record is written (BEGUN_AHEAD,
 * functions/executor/app.ts); reads only, and the symbol lease, which `abandonIntent` gives back
 * when the execution does not follow.
 */
export async function beginIntent(deps: ExecuteIntentDeps, intent: Intent): Promise<BegunIntent> {
  const orderId = clientOrderIdFor(intent.id);
  // EXE-14: an intent from the future is a bad input: coded error, nothing read or written.
  const future = futureCreationProblem(intent, deps.clock.now(), CLOCK_SKEW_ALLOWANCE_MS);
  if (future) throw new ValidationError(`intent ${intent.id} is invalid: ${future}`, [`createdAt: ${future}`]);
  const intentDeadline = intentExpiry(intent, deps.settings.intentTtlMs);
  const now = deps.clock.now();
  // The markets are loaded once per container: no round trip after the first intent.
  const known = await isKnownSymbol(deps, intent.symbol);
  // 1-4. One round trip (FIRST_ROUND_TRIP): the order, the pause, the book, the entry limits and
  //      the symbol lease together; the sizing's ticker read runs alongside.
  const first = await firstRoundTrip(deps, intent, orderId, now, known, intentDeadline);
  return { orderId, now, intentDeadline, known, first };
}

/**
 * Gives back the lease of a begun intent that is not executed (the idempotency layer answered for
 * it, or refused it). A failed start took nothing (firstRoundTrip releases what it took).
 * @throws the lease release's failure
 */
export async function abandonIntent(deps: ExecuteIntentDeps, begun: Promise<BegunIntent>): Promise<void> {
  const started = await begun.catch(() => undefined);
  if (started?.first.lease) await deps.locks.release(started.first.lease);
}

/** Executes `intent`; `begun` is its start when the caller made it ahead (`beginIntent`). */
export async function executeIntent(deps: ExecuteIntentDeps, intent: Intent, begun?: Promise<BegunIntent>): Promise<ExecutionResult> {
  const step = async (name: ExecutorStep) => deps.afterStep?.(name, intent);
  const { orderId, now, intentDeadline, known, first } = await (begun ?? beginIntent(deps, intent));
  const { existing } = first;
  // 1. Already past submission: a duplicate, replay or redrive. Nothing is sent.
  if (existing && pastSubmission(existing)) {
    if (first.lease) await deps.locks.release(first.lease);
    if (!isTerminal(existing.state)) return result(existing, 'already-processed');
    await releaseLeftover(deps, existing);
    return result(existing, 'already-processed');
  }
  // 2. A symbol the market does not list is a bad input (SEC-4): a coded error, nothing written;
  //    from the queue it dead-letters after maxReceiveCount instead of being retried forever.
  if (!existing && !known) throw unknownSymbolError(intent.symbol);
  // 3. Kill switch, fail closed: a read error fails the invocation.
  const lease = first.lease ?? (await deps.locks.acquire(`symbol:${intent.symbol}`, `${deps.settings.owner}:${randomUUID()}`, deps.settings.lockLeaseMs, now));
  try {
    const pause = await first.pause;
    const paused = pauseBlocks(pause, now, intent.side);
    await step('before-claim');
    // A resumed order is read again under the lease: it was read while the lease was taken.
    let order = existing ? await deps.orders.get(orderId) : null;
    /** The reservation made alongside a won claim, if any. */
    let reservation: Reserved | undefined;
    if (!order) {
      const reserve = (claimedOrder: OrderRecord) => reserveBudget(deps, claimedOrder, { book: first.book, ...(first.limits ? { limits: first.limits } : {}) });
      const claimed = await claim(deps, intent, orderId, lease, now, intentDeadline, paused ? pausedReason(pause) : undefined, first.sizing, reserve);
      order = claimed.order;
      reservation = claimed.reservation;
      if (claimed.won) {
        await step('after-claim');
        if (isTerminal(order.state)) return result(order, order.state === 'EXPIRED' ? 'expired' : 'rejected');
      }
    }
    if (pastSubmission(order)) return result(order, 'already-processed');
    // The recorded expiry holds even if this delivery carries a later one.
    const deadline = order.intentExpiresAt && Date.parse(order.intentExpiresAt) < intentDeadline.getTime() ? new Date(order.intentExpiresAt) : intentDeadline;
    /** The book as the reservation wrote it: where the fill's book write starts (one read less). */
    let book: AccountBook | undefined;

    if (order.state === 'NEW') {
      const blocked = expiryBlock(deps.clock, deadline) ?? (paused ? { type: 'Rejected' as const, reason: pausedReason(pause) } : null);
      if (blocked) return await closeUnsent(deps, order, lease, blocked);
      const reserved = reservation ?? (await reserveBudget(deps, order, { book: first.book, ...(first.limits ? { limits: first.limits } : {}) }));
      if (!reserved.ok) return await closeUnsent(deps, order, lease, { type: 'Rejected', reason: reserved.reason });
      book = reserved.book;
      await step('after-reserve');
    }
    // From NEW: the first send. From SUBMITTING or UNKNOWN: an earlier attempt may have reached
    // the exchange, so it is looked up first.
    return await send(deps, order, lease, deadline, step, book);
  } finally {
    await deps.locks.release(lease);
  }
}

async function claim(
  deps: ExecuteIntentDeps,
  intent: Intent,
  orderId: string,
  lease: Lease,
  now: Date,
  deadline: Date,
  pausedReason: string | undefined,
  sizing: Promise<Sized> | null,
  reserve: (order: OrderRecord) => Promise<Reserved>,
): Promise<{ order: OrderRecord; won: boolean; reservation?: Reserved }> {
  const draft: OrderDraft = {
    id: orderId,
    intentId: intent.id,
    correlationId: intent.correlationId ?? intent.id,
    strategy: intent.strategy,
    symbol: intent.symbol,
    side: intent.side,
    type: intent.type,
    fence: lease.token,
    amount: intent.amount ?? '0',
    reservedQuote: '0',
    createdAt: now.toISOString(),
    intentExpiresAt: deadline.toISOString(),
  };
  let claimed: ReturnType<typeof claimOrder>;
  if (now.getTime() >= deadline.getTime()) {
    claimed = claimOrder(draft, now, { state: 'EXPIRED', reason: `intent expired at ${deadline.toISOString()}` });
  } else if (pausedReason) {
    claimed = claimOrder(draft, now, { state: 'REJECTED', reason: pausedReason });
  } else {
    const sized = await (sizing ?? sizeOrder(deps, intent, () => deps.accounts.get(deps.settings.quoteCurrency)));
    claimed = sized.ok
      ? claimOrder({ ...draft, amount: sized.amount, ...(sized.limitPrice ? { limitPrice: sized.limitPrice } : {}), reservedQuote: sized.reserve }, now)
      : claimOrder(draft, now, { state: 'REJECTED', reason: sized.reason });
  }
  const order = claimed.next;
  // Write-ahead audit (see AUDIT_ORDER in the module comment): the decision is recorded before
  // the claim, so a crash right after the claim cannot leave an unaudited order.
  for (const entry of claimed.audit) await deps.audit.append(auditStream(intent.symbol), { type: entry.type, correlationId: order.correlationId, data: entry.data }, now);
  // A new order's reservation goes in the same round trip as its claim (CLAIM_AND_RESERVE).
  const reserving = order.state === 'NEW' ? reserve(order) : undefined;
  const [create, reserved] = await Promise.allSettled([deps.orders.create(order), reserving]);
  if (create.status === 'rejected') throw create.reason;
  if (reserved.status === 'rejected') throw reserved.reason;
  const won = create.value;
  if (!won) {
    const current = await deps.orders.get(orderId);
    if (!current) throw new Error(`order ${orderId} vanished after a lost claim`);
    // Our own put, reported as a conditional failure: its first response was lost and the SDK's
    // retry found the item. The order carries the fencing token of the lease that created it,
    // and tokens are unique per acquisition, so the token tells whose it is.
    if (current.fence === lease.token && current.createdAt === order.createdAt) return { order: current, won: true, ...(reserved.value ? { reservation: reserved.value } : {}) };
    // Created by an earlier holder of the lease (read before this lease was taken): this run
    // holds the lease now and carries on with the order as stored.
    return { order: current, won: false };
  }
  return { order, won: true, ...(reserved.value ? { reservation: reserved.value } : {}) };
}

/**
 * A run that died after an order became terminal but before its reservation was released
 * leaves budget held for nothing; the next delivery of the intent gives it back (one read when
 * there is nothing to do). The reconciler's bounded-age sweep is the backstop (EXE-7).
 */
async function releaseLeftover(deps: ExecuteIntentDeps, order: OrderRecord): Promise<void> {
  const sync = commitDeps(deps);
  const at = deps.clock.now();
  const released = await releaseBudget(sync, order, at, { unlessBookAhead: true });
  if (!released.changed) return;
  await deps.audit.append(
    auditStream(order.symbol),
    {
      type: 'budget.released',
      correlationId: order.correlationId,
      data: { orderId: order.id, amount: released.amount, currency: deps.settings.quoteCurrency, reason: `reservation left over by an interrupted run after the order became ${order.state}` },
    },
    at,
  );
}

async function send(
  deps: ExecuteIntentDeps,
  order: OrderRecord,
  lease: Lease,
  deadline: Date,
  step: (name: ExecutorStep) => Promise<void>,
  book?: AccountBook,
): Promise<ExecutionResult> {
  const sync = commitDeps(deps);
  let current = order;
  const resumed = order.state !== 'NEW';
  let sinceLastAttemptMs: number | undefined;
  if (resumed) {
    // EXE-3: never re-send before asking the exchange whether it already has the order, and
    // not before the last attempt can no longer reach it (module comment).
    const found = await deps.exchange.fetchOrderByClientId(order.symbol, order.id);
    if (found) {
      // The attempt that sent it may have died before recording `order.sent`.
      await deps.audit.append(auditStream(current.symbol), { type: 'order.found', correlationId: current.correlationId, data: { orderId: current.id, exchangeOrderId: found.id, status: found.status, state: current.state } }, deps.clock.now());
      return finish(deps, current, 'Reported', found, lease, step);
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
  // EXE-14: the last checks before the call. The order is not on the exchange (first send, or
  // looked up above past the grace), so one that may no longer go out is closed, not sent.
  const expired = expiryBlock(deps.clock, deadline);
  if (expired) return closeUnsent(deps, current, lease, expired);
  // Records the attempt (its time starts the next grace period) and reads the pause in the same
  // round trip, as late as anything before the call.
  // Both settle before either failure is thrown: no write of this run outlives it. The exchange
  // reads what the send needs (its circuit) in the same round trip.
  deps.exchange.prepareOrder?.();
  const [submitting, pauseRead] = await Promise.allSettled([
    commitOrderEvents(sync, current, { type: 'Submitting', at: deps.clock.now(), ...(sinceLastAttemptMs !== undefined ? { sinceLastAttemptMs } : {}) }, lease.token),
    deps.control.getPause(),
  ]);
  if (submitting.status === 'rejected') throw submitting.reason;
  // Fail closed: an unreadable pause record fails the invocation; the order stays SUBMITTING.
  if (pauseRead.status === 'rejected') throw pauseRead.reason;
  current = submitting.value;
  const pause = pauseRead.value;
  if (!resumed) await step('after-submitting');
  // Paused, expired, or the lease ran out (thrown): pre-send-guard.ts.
  const blocked = sendBlock(deps.clock, current, pause, deadline, lease);
  if (blocked) return closeUnsent(deps, current, lease, blocked, book);
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
      if (found) return finish(deps, current, 'Reported', found, lease, step);
      current = await commitOrderEvents(sync, current, { type: 'OutcomeUnknown', at: deps.clock.now(), reason: 'exchange reports a duplicate but cannot find it' }, lease.token);
      throw new ExchangeUnknownOutcomeError(`order ${current.id}: duplicate reported but not found`, { cause: error });
    }
    if (error instanceof ExchangeRejectedError) {
      const closed = await commitOrderEvents(sync, current, { type: 'Rejected', at: deps.clock.now(), reason: `exchange rejected: ${error.reason}: ${error.message}` }, lease.token);
      return result(closed, 'rejected');
    }
    if (error instanceof ExchangeUnknownOutcomeError) {
      await commitOrderEvents(sync, current, { type: 'OutcomeUnknown', at: deps.clock.now(), reason: error.message }, lease.token);
      throw error;
    }
    // ExchangeTransientError: nothing was created; the order stays SUBMITTING and the redelivery
    // looks it up before re-sending. Anything else is unexpected and fails the invocation too.
    throw error;
  }
  await deps.audit.append(auditStream(current.symbol), { type: 'order.sent', correlationId: current.correlationId, data: { orderId: current.id, exchangeOrderId: remote.id, status: remote.status } }, deps.clock.now());
  await step('after-exchange-accepted');
  return finish(deps, current, 'Accepted', remote, lease, step, book);
}

/**
 * When the order was last sent (its last Submitting event), so that a reconciler's "not found"
 * lookups, which also change the order, do not keep pushing the re-send grace out. An order
 * whose summary no longer holds that event falls back to its last change.
 */
function lastAttemptAt(order: OrderRecord): number {
  const attempt = (order.events ?? []).findLast((e) => e.type === 'Submitting');
  return Date.parse(attempt?.at ?? order.updatedAt);
}

/**
 * Ends an order that is not on the exchange and must not be sent (EXE-14): EXPIRED or REJECTED
 * through the aggregate, which releases its reservation.
 */
async function closeUnsent(deps: ExecuteIntentDeps, order: OrderRecord, lease: Lease, blocked: SendBlocked, book?: AccountBook): Promise<ExecutionResult> {
  const closed = await commitOrderEvents(commitDeps(deps), order, { type: blocked.type, at: deps.clock.now(), reason: blocked.reason }, lease.token, book ? { book } : {});
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
): Promise<ExecutionResult> {
  const recorded = await commitOrderEvents(commitDeps(deps), order, { type: event, at: deps.clock.now(), report: remote }, lease.token, book ? { book } : {});
  await step('after-record');
  return result(recorded, 'executed');
}

function commitDeps(deps: ExecuteIntentDeps): OrderCommitDeps {
  return { orders: deps.orders, accounts: deps.accounts, audit: deps.audit, quoteCurrency: deps.settings.quoteCurrency, feePrices: exchangeFeePrices(deps.exchange, deps.settings.quoteCurrency) };
}
