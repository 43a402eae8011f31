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
 * 5. Claim (claim-intent.ts, CLAIM_SUBMITTING): an order that goes ahead is created already
 *    SUBMITTING with a conditional put (only one executor wins), with amount and price rounded
 *    and checked against the market's limits (EXE-6, size-order.ts). The intent and the order
 *    are recorded BEFORE the exchange is called (EXE-2). One that cannot go ahead (expired,
 *    paused, sizing refused) is created closed.
 * 6. Reserve budget (EXE-7). CLAIM_AND_RESERVE: the reservation is written in the same round
 *    trip as the claim. A reservation is keyed by the order id, so one made beside a claim that
 *    lost is a no-op or stands for the stored order (released from the book's own amount when it
 *    ends), and a claim whose run died before its reservation was written is reserved by the
 *    redelivery before any re-send (send-order.ts, `resumed`). A refused reservation closes the
 *    order REJECTED unsent. An entry (a buy) is checked against the risk limits in the same
 *    conditional write of the account book that reserves its budget (EXE-13,
 *    domain/entry-limits.ts): one that would break a limit is REJECTED with the limit's name
 *    and reserves nothing. Exits are never checked against entry limits.
 * 7. Send with the client order id derived from the intent id (send-order.ts). A resumed order
 *    (SUBMITTING or UNKNOWN) is first looked up by client order id and re-sent only when the
 *    exchange says it does not have it AND the last attempt (its claim into SUBMITTING or its
 *    last re-send) is older than `resendGraceMs` (EXE-3, see below); the exchange rejects a
 *    duplicate client order id anyway.
 * 7a. Immediately before every exchange call (first send and re-send alike, EXE-14) the expiry
 *    and the pause are checked again (pre-send-guard.ts): the pause is read in the same round
 *    trip as the last write before the call (the reservation's record after a claim, the
 *    SUBMITTING write before a re-send). An order that may no longer go out is closed, not sent.
 * 8. Book the result: every change of the order is an event applied by the order aggregate
 *    (domain/order-aggregate.ts) and written by order-commit.ts: fill, fees, state, release of
 *    the surplus.
 *
 * The happy path's round trips before the exchange call (PERF-2; bench/executor.ts counts them):
 * 1. the first round trip (reads, the symbol lease, the stream's audit head; the handler's
 *    heartbeat beside it);
 * 2. `intent.accepted`: the claim's write-ahead record;
 * 3. the claim into SUBMITTING, the reservation and `order.submitting`;
 * 4. `budget.reserved` and the pause (and circuit) read.
 * Why each stays: 2 before 3, as a state change is audited before it is written (AUDIT_ORDER)
 * and the audit chain takes one append of a writer at a time (claim-intent.ts); 4 after 3, as
 * the reservation's record follows its write and the pause is read after the reservation, as
 * late as anything before the call (a pause that lands while the budget is reserved stops the
 * send: test/integration/exec-expiry-pause.test.ts).
 * Requests per executed intent (PERF-2, bench `dynamoRequestsPerIntent`; the handler's heartbeats,
 * two per invocation of up to ten intents, aside): 14. Lease acquire (1), the two batched reads
 * (2), five audit records (5), five state writes: the claim, the reservation, the fill's book
 * write, the order's terminal write and the release of the budget (5), and ONE write that gives
 * back the lease and moves the symbol stream's audit head (1, release-lease.ts): the symbol's
 * lease lives on that stream's head item (dynamodb-lock-service.ts), so the release and the head
 * update, two requests before, are one conditional write fenced by both (the lease's owner and
 * token, and the head only moving forward); when the head part fails (another writer moved the
 * head past the intent's records, rare) the lease is released alone and the handler's `settle()`
 * moves the head as before. Why the
 * last ones stay single-item writes of their own: a record and the state change it audits cannot
 * share a request without TransactWriteItems (not in the emulator the tests run on) or
 * BatchWriteItem (no condition: it could overwrite another writer's record, SEC-2); the release
 * follows the order's terminal write so that a crash between them leaves budget held, which the
 * next delivery or the sweep gives back, never a fill booked twice (order-commit.ts).
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
 * There is no separate idempotency record (PERF-2: it cost two writes per executed intent): a
 * duplicate is answered from the order record, and a delivery of an intent id with other trade
 * fields than the order was claimed with is refused (INTENT_FINGERPRINT: the claim records the
 * fingerprint of the intent's trade fields on the order; first-round-trip.ts compares it before
 * anything is written, and again when a claim lost to another delivery of the id), a coded
 * VALIDATION_FAILED that the handler dead-letters.
 *
 * AUDIT_ORDER (OPS-4): a decision is audited BEFORE the state write that applies it (the claim
 * and the state it writes, UNKNOWN, a re-send, a recorded fill or closure), and a step that is
 * repeated after a crash audits again. So a crash can repeat an audit record, never leave a
 * change unaudited. Where the outcome is only known afterwards (the exchange's answer, a
 * reservation) the record follows the write, and the resumed path records what it finds
 * (`order.found`) and the reservation it makes sure of (`budget.reserved`).
 */
import { randomUUID } from 'node:crypto';
import { ValidationError } from '../domain/errors.js';
import type { EntryLimits } from '../domain/entry-limits.js';
import { futureCreationProblem, intentExpiry, type Intent } from '../domain/intent.js';
import { CLOCK_SKEW_ALLOWANCE_MS } from '../domain/timing.js';
import type { FeeAmount } from '../domain/fees.js';
import type { MarketRules } from '../domain/market.js';
import { clientOrderIdFor, isTerminal, type OrderRecord, type OrderState } from '../domain/order.js';
import type { AuditLog } from '../ports/audit-log.js';
import type { Clock } from '../ports/clock.js';
import type { ControlStore } from '../ports/control-store.js';
import type { Exchange } from '../ports/exchange.js';
import type { LockService } from '../ports/lock-service.js';
import type { AccountStore } from '../ports/account-store.js';
import type { OrderStore } from '../ports/order-store.js';
import { claimIntent } from './claim-intent.js';
import { auditStream, releaseBudget } from './order-commit.js';
import { pauseBlocks } from './pause.js';
import { releaseWithHead } from './release-lease.js';
import { reserveAndAudit, type Reserved } from './reserve-budget.js';
import { expiryBlock, pausedReason } from './pre-send-guard.js';
import { closeUnsent, commitDeps, result, send } from './send-order.js';
import { isKnownSymbol, unknownSymbolError } from './size-order.js';
import { firstRoundTrip, pastSubmission, refuseChangedContent, type FirstRoundTrip } from './first-round-trip.js';

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


/** What `beginIntent` read and took: the start of an execution. */
interface BegunIntent {
  readonly orderId: string;
  readonly now: Date;
  readonly intentDeadline: Date;
  readonly known: boolean;
  readonly first: FirstRoundTrip;
}

/** The start of an execution, up to its first round trip (steps 1-4 are then decided on it). */
async function beginIntent(deps: ExecuteIntentDeps, intent: Intent): Promise<BegunIntent> {
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

/** Executes `intent`. */
export async function executeIntent(deps: ExecuteIntentDeps, intent: Intent): Promise<ExecutionResult> {
  const step = async (name: ExecutorStep) => deps.afterStep?.(name, intent);
  const { orderId, now, intentDeadline, known, first } = await beginIntent(deps, intent);
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
    const reserveInputs = { book: first.book, ...(first.limits ? { limits: first.limits } : {}) };
    /** The reservation written beside this run's claim into SUBMITTING (CLAIM_SUBMITTING). */
    let reservation: Reserved | undefined;
    if (!order) {
      const claimed = await claimIntent(deps, { intent, orderId, lease, now, deadline: intentDeadline, pausedReason: paused ? pausedReason(pause) : undefined, sizing: first.sizing, reserveInputs });
      // Claimed meanwhile by another delivery of this id: refused if its content differs. The
      // reservation written beside the lost claim stands for the stored order; one that ended
      // already gets it back here (as a duplicate would), not only from the sweep.
      if (!claimed.won) {
        try {
          refuseChangedContent(claimed.order, intent);
        } catch (error) {
          if (isTerminal(claimed.order.state)) await releaseLeftover(deps, claimed.order);
          throw error;
        }
      }
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
    const ctx = { lease, deadline, step, reserve: (o: OrderRecord) => reserveAndAudit(deps, o, reserveInputs) };

    if (reservation) {
      // 6. This run's claim: its reservation was written in the same round trip.
      if (!reservation.ok) return await closeUnsent(deps, order, lease, { type: 'Rejected', reason: reservation.reason });
      await step('after-reserve');
      return await send(deps, order, ctx, 'claimed', reservation.book);
    }
    if (order.state === 'NEW') {
      // Claimed NEW by an earlier version of the executor: reserved here, then SUBMITTING is written.
      const blocked = expiryBlock(deps.clock, deadline) ?? (paused ? { type: 'Rejected' as const, reason: pausedReason(pause) } : null);
      if (blocked) return await closeUnsent(deps, order, lease, blocked);
      const reserved = await reserveAndAudit(deps, order, reserveInputs);
      if (!reserved.ok) return await closeUnsent(deps, order, lease, { type: 'Rejected', reason: reserved.reason });
      await step('after-reserve');
      return await send(deps, order, ctx, 'new', reserved.book);
    }
    // SUBMITTING or UNKNOWN: an earlier attempt may have reached the exchange; looked up first.
    return await send(deps, order, ctx, 'resumed');
  } finally {
    // The lease and the stream's head move in one write (release-lease.ts).
    await releaseWithHead(deps, lease);
  }
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
