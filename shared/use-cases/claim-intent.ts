/**
 * The claim of a new intent (execute-intent.ts, steps 5-6): the order is decided from the first
 * round trip's reads and written with one conditional put (only one executor creates it).
 *
 * CLAIM_SUBMITTING (PERF-2): an order that goes ahead is claimed straight into SUBMITTING, so
 * no second state write stands between the claim and the exchange call. Two round trips:
 * 1. `intent.accepted`, the write-ahead record of the claim (AUDIT_ORDER): it names the state
 *    the claim writes, its amount and its reservation;
 * 2. the claim, the reservation (CLAIM_AND_RESERVE) and `order.submitting` together. The record
 *    is the next of the stream after the first, so the chain never has two appends of one
 *    writer in flight (an append that lost its number while the next one won would break it).
 * A claim that cannot go ahead (expired, paused, sizing refused) is written already closed,
 * after its `intent.rejected` record, and reserves nothing.
 * What a lost claim costs: its reservation is keyed by the order id, so it is a no-op or stands
 * for the stored order (released from the book's own amount when it ends, or by the
 * reconciler's bounded-age sweep), and its `order.submitting` record announces a send this run
 * does not make (only a run that read the order before an earlier lease holder created it gets
 * there; the record of the send that does happen follows it).
 */
import { claimForSending, claimOrder, type OrderDraft } from '../domain/order-creation.js';
import { intentFingerprint, type Intent } from '../domain/intent.js';
import type { OrderRecord } from '../domain/order.js';
import type { Lease } from '../ports/lock-service.js';
import type { ExecuteIntentDeps } from './execute-intent.js';
import { auditStream } from './order-commit.js';
import { reserveBudget, type ReserveInputs, type Reserved } from './reserve-budget.js';
import { sizeOrder, type Sized } from './size-order.js';

export interface ClaimInput {
  readonly intent: Intent;
  readonly orderId: string;
  readonly lease: Lease;
  readonly now: Date;
  readonly deadline: Date;
  /** Set when the pause refuses the intent. */
  readonly pausedReason: string | undefined;
  readonly sizing: Promise<Sized> | null;
  /** What the first round trip read for the reservation. */
  readonly reserveInputs: ReserveInputs;
}

export interface Claimed {
  /** The order as this run continues with it: its own claim, or the one stored before it. */
  readonly order: OrderRecord;
  /** Whether this run's put created the order. */
  readonly won: boolean;
  /** The reservation written beside a claim into SUBMITTING (only then). */
  readonly reservation?: Reserved;
}

export async function claimIntent(deps: ExecuteIntentDeps, input: ClaimInput): Promise<Claimed> {
  const { intent, orderId, lease, now, deadline } = input;
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
    intentFingerprint: intentFingerprint(intent),
  };
  const stream = auditStream(intent.symbol);
  const correlationId = draft.correlationId;
  let refused: ReturnType<typeof claimOrder> | undefined;
  if (now.getTime() >= deadline.getTime()) {
    refused = claimOrder(draft, now, { state: 'EXPIRED', reason: `intent expired at ${deadline.toISOString()}` });
  } else if (input.pausedReason) {
    refused = claimOrder(draft, now, { state: 'REJECTED', reason: input.pausedReason });
  } else {
    const sized = await (input.sizing ?? sizeOrder(deps, intent, () => deps.accounts.get(deps.settings.quoteCurrency)));
    if (!sized.ok) refused = claimOrder(draft, now, { state: 'REJECTED', reason: sized.reason });
    else {
      const claimed = claimForSending({ ...draft, amount: sized.amount, ...(sized.limitPrice ? { limitPrice: sized.limitPrice } : {}), reservedQuote: sized.reserve }, now);
      // 1. Write-ahead: the claim's decision is recorded before the claim is written.
      await deps.audit.append(stream, { ...claimed.accepted, correlationId }, now);
      // 2. The claim, its reservation and the announcement of the send in one round trip. All
      //    settle before a failure is thrown: no write of this run outlives it.
      const [create, reserved, announced] = await Promise.allSettled([
        deps.orders.create(claimed.next),
        reserveBudget(deps, claimed.next, input.reserveInputs),
        deps.audit.append(stream, { ...claimed.submitting, correlationId }, now),
      ]);
      if (create.status === 'rejected') throw create.reason;
      if (reserved.status === 'rejected') throw reserved.reason;
      if (announced.status === 'rejected') throw announced.reason;
      return settleClaim(deps, claimed.next, create.value, lease, reserved.value);
    }
  }
  // Write-ahead (AUDIT_ORDER): a crash right after the claim cannot leave an unaudited order.
  for (const entry of refused.audit) await deps.audit.append(stream, { type: entry.type, correlationId, data: entry.data }, now);
  return settleClaim(deps, refused.next, await deps.orders.create(refused.next), lease);
}

/** The outcome of the conditional put: this run's order, or the one stored before it. */
async function settleClaim(deps: ExecuteIntentDeps, order: OrderRecord, won: boolean, lease: Lease, reservation?: Reserved): Promise<Claimed> {
  if (won) return { order, won: true, ...(reservation ? { reservation } : {}) };
  const current = await deps.orders.get(order.id);
  if (!current) throw new Error(`order ${order.id} vanished after a lost claim`);
  // Our own put, reported as a conditional failure: its first response was lost and the SDK's
  // retry found the item. The order carries the fencing token of the lease that created it,
  // and tokens are unique per acquisition, so the token tells whose it is.
  if (current.fence === lease.token && current.createdAt === order.createdAt) return { order: current, won: true, ...(reservation ? { reservation } : {}) };
  // Created by an earlier holder of the lease (read before this lease was taken): this run
  // holds the lease now and carries on with the order as stored.
  return { order: current, won: false };
}
