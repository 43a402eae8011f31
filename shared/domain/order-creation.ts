/**
 * How an order record comes into being (EXE-1, EXE-2): the claim of an intent (closed at once when
 * it cannot go ahead, or created already SUBMITTING), and the adoption of an order found on the
 * exchange (REC-3). Every later change goes through the order aggregate (order-aggregate.ts).
 */
import type { OrderAuditEntry } from './order-aggregate.js';
import type { OrderEventSummary, OrderRecord, OrderState } from './order.js';

/** The fields of a claimed (or adopted) order that the claim itself decides. */
export type OrderDraft = Omit<OrderRecord, 'state' | 'version' | 'events' | 'eventCount' | 'filled' | 'cost' | 'fees' | 'notFoundCount' | 'updatedAt' | 'trades' | 'stateBeforeCancel'>;

/**
 * The claim of an intent: the order as it is first written (conditional create). A claim that
 * cannot go ahead (intent expired, trading paused, sizing refused) is written already closed,
 * with its reason, so the intent is never executed.
 */
export function claimOrder(
  draft: OrderDraft,
  at: Date,
  refused?: { readonly state: Extract<OrderState, 'EXPIRED' | 'REJECTED'>; readonly reason: string },
): { readonly next: OrderRecord; readonly audit: readonly OrderAuditEntry[] } {
  const state: OrderState = refused ? refused.state : 'NEW';
  const next = created(draft, at, state, 'Claimed', refused?.reason);
  return {
    next,
    audit: [
      {
        type: state === 'NEW' ? 'intent.accepted' : 'intent.rejected',
        data: { intentId: next.intentId, orderId: next.id, strategy: next.strategy, side: next.side, amount: next.amount, state, ...(next.reason ? { reason: next.reason } : {}) },
      },
    ],
  };
}

/**
 * The claim of an intent that goes ahead: the order is first written already SUBMITTING (one
 * state write before the exchange call instead of two; execute-intent.ts, CLAIM_SUBMITTING). Its
 * records: `intent.accepted`, written BEFORE the claim (it names the state the claim writes, so
 * the state change is audited ahead, AUDIT_ORDER), and `order.submitting`, the announcement of
 * the send, written beside the claim. The claim's summary event counts as the first attempt
 * (the re-send grace starts there).
 */
export function claimForSending(draft: OrderDraft, at: Date): { readonly next: OrderRecord; readonly accepted: OrderAuditEntry; readonly submitting: OrderAuditEntry } {
  const next = created(draft, at, 'SUBMITTING', 'Claimed', undefined);
  return {
    next,
    accepted: {
      type: 'intent.accepted',
      data: { intentId: next.intentId, orderId: next.id, strategy: next.strategy, side: next.side, amount: next.amount, state: next.state, ...(next.limitPrice ? { limitPrice: next.limitPrice } : {}), reserve: next.reservedQuote },
    },
    submitting: { type: 'order.submitting', data: { orderId: next.id, amount: next.amount, limitPrice: next.limitPrice } },
  };
}

/** An order found on the exchange with our client order id prefix, taken into the books as UNKNOWN (REC-3). */
export function adoptOrder(draft: OrderDraft, at: Date): OrderRecord {
  return created(draft, at, 'UNKNOWN', 'Adopted', draft.reason);
}

function created(draft: OrderDraft, at: Date, state: OrderState, type: string, reason: string | undefined): OrderRecord {
  const iso = at.toISOString();
  const summary: OrderEventSummary = { type, at: iso, from: null, to: state };
  const { reason: _reason, ...rest } = draft;
  return {
    ...rest,
    ...(reason ? { reason } : {}),
    state,
    version: 0,
    filled: '0',
    cost: '0',
    fees: [],
    notFoundCount: 0,
    events: [summary],
    eventCount: 1,
    updatedAt: iso,
  };
}
