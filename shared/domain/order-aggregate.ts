/**
 * The order aggregate (EXE-5, EXE-10, EXE-11): the one place that decides how an order moves.
 *
 * `applyOrderEvent(order, event)` is a pure function keyed on (state, event), after the order
 * model of NautilusTrader: `RULES[event][state]` is the handler of that pair, and a pair without
 * a handler is illegal (IllegalTransitionError, nothing changes). It returns:
 * - `next`: the order after the event (version + 1, the event added to its bounded summary);
 * - `audit`: the records to append BEFORE `next` is saved (execute-intent.ts, AUDIT_ORDER);
 * - `budget`: the money side: a cumulative fill to book BEFORE the save, and whether to release
 *   the unspent reservation AFTER it (order-commit.ts says why this order is crash-safe).
 * Stores only persist `next`, conditional on the version it was computed from and the fencing
 * token; they hold no transition logic, so a fake store cannot drift from the real one.
 *
 * Rules worth knowing:
 * - Fills are cumulative and never go down: a report with less fill than recorded (a stale
 *   read) cannot undo a booked fill. Where the exchange lists the order's trades, the fill is
 *   the sum over distinct trade ids (recorded ones included), so a trade reported twice is
 *   counted once (EXE-11); otherwise the exchange's cumulative amounts are used.
 * - A cancel request remembers the live state it left; CancelRejected goes back to it.
 * - Expired and Rejected as local decisions apply only while the exchange does not have the
 *   order: NEW; SUBMITTING (the exchange refused the request, or the executor's last check before
 *   the call found the intent expired or trading paused, EXE-14); UNKNOWN once the executor looked
 *   the order up and the exchange does not have it, past the re-send grace, so the earlier
 *   attempt can no longer arrive. Once the exchange has it, only its report says expired, and
 *   Lost (FAILED) needs the reconciler's evidence.
 * - Terminal states are final for every event but LateFill (EXE-10): an exchange that reports
 *   fills after the order ended locally (CANCELED, FAILED = lost, EXPIRED, REJECTED) is right,
 *   and the fill is booked once. Every booking carries what the order had recorded
 *   (`bookedBefore`): when the book has forgotten the order (its reservation was released), the
 *   fill is counted from there. A late fill moves the order to FILLED, or to PARTIALLY_FILLED
 *   (live again: the reconciler follows it to the exchange's final word); a lost order the
 *   exchange shows open again without a fill becomes OPEN. FILLED accepts no LateFill.
 *   So that someone looks: an order that ends after it may have reached the exchange, other
 *   than FILLED or refused by the exchange, is watched until `watchUntil` (LATE_FILL_WATCH_MS);
 *   WatchEnded closes the watch.
 */
import { IllegalTransitionError } from './errors.js';
import { normalizeFees, type FeeAmount } from './fees.js';
import { Decimal, dec, isPositive, str, type DecimalString } from './money.js';
import { LATE_FILL_WATCH_MS } from './timing.js';
import {
  isTerminal,
  stateFromExchange,
  type ExchangeOrderStatus,
  type OrderRecord,
  type OrderState,
  type OrderTrade,
} from './order.js';

/** Events kept on the order; older ones are only counted (`eventCount`). */
export const MAX_ORDER_EVENTS = 20;

/** The exchange's view of an order, as far as the aggregate needs it (an ExchangeOrder fits). */
export interface OrderReport {
  /** The exchange's order id. */
  readonly id: string;
  readonly status: ExchangeOrderStatus;
  /** Cumulative base filled, quote cost and fees per currency. */
  readonly filled: DecimalString;
  readonly cost: DecimalString;
  readonly fees: readonly FeeAmount[];
  /** The order's trades, where the exchange lists them. */
  readonly trades?: readonly OrderTrade[];
}

export type OrderEvent =
  /** The order is about to be sent: first send from NEW, re-send from SUBMITTING or UNKNOWN. */
  | { readonly type: 'Submitting'; readonly at: Date; readonly sinceLastAttemptMs?: number }
  /** The send may have reached the exchange but no answer came (timeout, lost duplicate). */
  | { readonly type: 'OutcomeUnknown'; readonly at: Date; readonly reason: string }
  /** The exchange's answer to the send. */
  | { readonly type: 'Accepted'; readonly at: Date; readonly report: OrderReport }
  /** A lookup of a live order. */
  | { readonly type: 'Reported'; readonly at: Date; readonly report: OrderReport }
  | { readonly type: 'CancelRequested'; readonly at: Date; readonly reason: string }
  | { readonly type: 'CancelRejected'; readonly at: Date; readonly reason: string }
  /** The exchange confirmed the cancel; its report, when given, carries the final fill. */
  | { readonly type: 'Canceled'; readonly at: Date; readonly reason: string; readonly report?: OrderReport }
  /** The exchange answered "not found" to a lookup (REC-2). */
  | { readonly type: 'NotFound'; readonly at: Date }
  /** Declared lost: "not found" repeatedly over the grace period (REC-2). */
  | { readonly type: 'Lost'; readonly at: Date; readonly reason: string }
  | { readonly type: 'Expired'; readonly at: Date; readonly reason: string }
  | { readonly type: 'Rejected'; readonly at: Date; readonly reason: string }
  /** The exchange reports fill (or life) on an order that ended locally (EXE-10). */
  | { readonly type: 'LateFill'; readonly at: Date; readonly report: OrderReport }
  /** The late-fill watch of an ended order is over: nothing more is expected from the exchange. */
  | { readonly type: 'WatchEnded'; readonly at: Date };

export type OrderEventType = OrderEvent['type'];
export const ORDER_EVENT_TYPES: readonly OrderEventType[] = [
  'Submitting', 'OutcomeUnknown', 'Accepted', 'Reported', 'CancelRequested', 'CancelRejected', 'Canceled',
  'NotFound', 'Lost', 'Expired', 'Rejected', 'LateFill', 'WatchEnded',
];

/** An audit record the aggregate asks for; the caller adds the stream and correlation id. */
export interface OrderAuditEntry {
  readonly type: string;
  readonly data: Readonly<Record<string, unknown>>;
}

/** A cumulative fill to book (account.applyFill). */
export interface FillToBook {
  readonly filled: DecimalString;
  readonly cost: DecimalString;
  readonly fees: readonly FeeAmount[];
  /**
   * What was booked for the order before its book entry was released: a late fill is counted
   * from here when the book no longer remembers the order.
   */
  readonly bookedBefore?: { readonly filled: DecimalString; readonly cost: DecimalString; readonly fees: readonly FeeAmount[] };
}

export interface BudgetEffect {
  /** Booked before the state is saved. */
  readonly book?: FillToBook;
  /** After the state is saved: release the unspent reservation; `audited` also records `budget.released`. */
  readonly release: 'none' | 'silent' | 'audited';
}

export interface OrderDecision {
  readonly next: OrderRecord;
  /** False when the event brings nothing new: nothing to audit or save (`next` is `order`). */
  readonly changed: boolean;
  readonly audit: readonly OrderAuditEntry[];
  readonly budget: BudgetEffect;
}

/** What a handler decides for one (state, event) pair. */
type Outcome =
  | { readonly changed: false; readonly budget: BudgetEffect }
  | {
      readonly changed?: true;
      readonly to: OrderState;
      /** Fields to set; `undefined` clears an optional field. */
      readonly patch?: { readonly [K in keyof OrderRecord]?: OrderRecord[K] | undefined };
      readonly audit: readonly OrderAuditEntry[];
      readonly budget: BudgetEffect;
    };

type EventOf<T extends OrderEventType> = Extract<OrderEvent, { type: T }>;
type Handler<T extends OrderEventType> = (order: OrderRecord, event: EventOf<T>) => Outcome;
type Rules = { readonly [T in OrderEventType]: Partial<Readonly<Record<OrderState, Handler<T>>>> };

const NO_BUDGET: BudgetEffect = { release: 'none' };
const LIVE_AFTER_SEND: readonly OrderState[] = ['UNKNOWN', 'OPEN', 'PARTIALLY_FILLED', 'CANCEL_REQUESTED'];
const LATE_FILL_STATES: readonly OrderState[] = ['CANCELED', 'FAILED', 'EXPIRED', 'REJECTED'];

/** The same handler for several states. */
function inStates<T extends OrderEventType>(states: readonly OrderState[], handler: Handler<T>): Partial<Record<OrderState, Handler<T>>> {
  return Object.fromEntries(states.map((s) => [s, handler])) as Partial<Record<OrderState, Handler<T>>>;
}

function recordedFill(order: OrderRecord): FillToBook {
  return { filled: order.filled, cost: order.cost, fees: order.fees };
}

/**
 * Ends an order without a fill report: books what it recorded, releases the rest (audited). A
 * recorded fill was booked before it was saved, so a book with no entry for the order (released
 * when it ended before, then the order came back: EXE-10) counts from it and books nothing again.
 */
function close(order: OrderRecord, to: OrderState, auditType: string, reason: string): Outcome {
  return {
    to,
    patch: { reason },
    audit: [{ type: auditType, data: { orderId: order.id, from: order.state, reason } }],
    budget: { book: { ...recordedFill(order), bookedBefore: recordedFill(order) }, release: 'audited' },
  };
}

interface MergedFill {
  readonly filled: DecimalString;
  readonly cost: DecimalString;
  readonly fees: readonly FeeAmount[];
  readonly trades?: readonly OrderTrade[];
}

/**
 * The order's cumulative fill after a report (EXE-11): the sum over distinct trade ids where
 * trades are listed, otherwise the reported cumulative amounts; never less than recorded.
 */
export function mergeFill(order: Pick<OrderRecord, 'filled' | 'cost' | 'fees' | 'trades'>, report: Pick<OrderReport, 'filled' | 'cost' | 'fees' | 'trades'>): MergedFill {
  let candidate: MergedFill = { filled: report.filled, cost: report.cost, fees: normalizeFees(report.fees) };
  let trades = order.trades;
  if (report.trades && report.trades.length > 0) {
    const byId = new Map<string, OrderTrade>((order.trades ?? []).map((t) => [t.id, t]));
    for (const trade of report.trades) if (!byId.has(trade.id)) byId.set(trade.id, trade);
    trades = [...byId.values()];
    const sum = (pick: (t: OrderTrade) => DecimalString) => str(trades!.reduce((acc, t) => acc.plus(dec(pick(t))), new Decimal(0)));
    candidate = { filled: sum((t) => t.amount), cost: sum((t) => t.cost), fees: normalizeFees(trades.flatMap((t) => t.fees)) };
  }
  const fill = dec(candidate.filled).gt(dec(order.filled)) ? candidate : { filled: order.filled, cost: order.cost, fees: order.fees };
  return trades ? { ...fill, trades } : fill;
}

/**
 * A report of the exchange applied to the order: its fill (merged), its state (a cancel in
 * flight stays CANCEL_REQUESTED until the exchange reports the order over), its exchange id;
 * a report also ends a "not found" streak.
 */
function fromReport(order: OrderRecord, report: OrderReport, late: boolean): Outcome {
  const fill = mergeFill(order, report);
  const reported = stateFromExchange(report.status, fill.filled);
  const newFill = dec(fill.filled).gt(dec(order.filled));
  let to: OrderState = order.state === 'CANCEL_REQUESTED' && !isTerminal(reported) ? 'CANCEL_REQUESTED' : reported;
  if (late) {
    // A late fill moves the ended order to FILLED, or to PARTIALLY_FILLED (the reconciler then
    // follows it to the exchange's final word). Without a new fill, only an order we declared
    // lost can come back (open again); one the exchange ended stays ended, as an "open" report
    // about it is a stale read.
    const complete = report.status === 'closed' || dec(fill.filled).gte(dec(order.amount));
    if (newFill) to = complete ? 'FILLED' : 'PARTIALLY_FILLED';
    else if (!(order.state === 'FAILED' && report.status === 'open')) to = order.state;
  }
  const book: FillToBook = { filled: fill.filled, cost: fill.cost, fees: fill.fees, bookedBefore: recordedFill(order) };
  const changed =
    newFill ||
    to !== order.state ||
    order.exchangeOrderId !== report.id ||
    order.notFoundCount !== 0 ||
    order.firstNotFoundAt !== undefined ||
    (fill.trades?.length ?? 0) !== (order.trades?.length ?? 0);
  // A late report that adds nothing (a terminal order the exchange also reports over) changes nothing.
  if (!changed || (late && !newFill && to === order.state)) return { changed: false, budget: late ? NO_BUDGET : { book, release: 'none' } };
  return {
    to,
    patch: {
      exchangeOrderId: report.id,
      filled: fill.filled,
      cost: fill.cost,
      fees: fill.fees,
      ...(fill.trades ? { trades: fill.trades } : {}),
      notFoundCount: 0,
      firstNotFoundAt: undefined,
      ...(to === 'CANCEL_REQUESTED' ? {} : { stateBeforeCancel: undefined }),
    },
    audit: [
      {
        type: late ? 'order.late-fill' : newFill ? 'order.filled' : 'order.state',
        data: { orderId: order.id, from: order.state, to, filled: fill.filled, cost: fill.cost, fees: fill.fees, exchangeOrderId: report.id },
      },
    ],
    // The release after a terminal report is part of the fill's booking: the record above
    // carries the cost and fees that determine it.
    budget: { book, release: isTerminal(to) ? 'silent' : 'none' },
  };
}

const RULES: Rules = {
  Submitting: {
    NEW: (order) => ({
      to: 'SUBMITTING',
      audit: [{ type: 'order.submitting', data: { orderId: order.id, amount: order.amount, limitPrice: order.limitPrice } }],
      budget: NO_BUDGET,
    }),
    ...inStates<'Submitting'>(['SUBMITTING', 'UNKNOWN'], (order, event) => ({
      to: 'SUBMITTING',
      audit: [{ type: 'order.resending', data: { orderId: order.id, state: order.state, sinceLastAttemptMs: event.sinceLastAttemptMs } }],
      budget: NO_BUDGET,
    })),
  },
  OutcomeUnknown: {
    SUBMITTING: (order, event) => ({
      to: 'UNKNOWN',
      patch: { reason: event.reason },
      audit: [{ type: 'order.unknown', data: { orderId: order.id, error: event.reason } }],
      budget: NO_BUDGET,
    }),
  },
  Accepted: {
    SUBMITTING: (order, event) => fromReport(order, event.report, false),
  },
  Reported: inStates<'Reported'>(['SUBMITTING', ...LIVE_AFTER_SEND], (order, event) => fromReport(order, event.report, false)),
  CancelRequested: inStates<'CancelRequested'>(['OPEN', 'PARTIALLY_FILLED', 'CANCEL_REQUESTED'], (order, event) => ({
    to: 'CANCEL_REQUESTED',
    patch: { stateBeforeCancel: order.state === 'CANCEL_REQUESTED' ? order.stateBeforeCancel : order.state },
    audit: [{ type: 'order.cancel-requested', data: { orderId: order.id, from: order.state, reason: event.reason } }],
    budget: NO_BUDGET,
  })),
  CancelRejected: {
    CANCEL_REQUESTED: (order, event) => {
      const before = order.stateBeforeCancel ?? 'OPEN';
      // A fill that arrived while the cancel was pending makes an open order partially filled.
      const to: OrderState = before === 'OPEN' && isPositive(order.filled) ? 'PARTIALLY_FILLED' : before;
      return {
        to,
        patch: { stateBeforeCancel: undefined },
        audit: [{ type: 'order.cancel-rejected', data: { orderId: order.id, to, reason: event.reason } }],
        budget: NO_BUDGET,
      };
    },
  },
  Canceled: inStates<'Canceled'>(['OPEN', 'PARTIALLY_FILLED', 'CANCEL_REQUESTED'], (order, event) => {
    const fill = event.report ? mergeFill(order, event.report) : recordedFill(order);
    // The order filled completely before the cancel reached it.
    const to: OrderState = event.report?.status === 'closed' ? 'FILLED' : 'CANCELED';
    return {
      to,
      patch: {
        reason: event.reason,
        filled: fill.filled,
        cost: fill.cost,
        fees: fill.fees,
        ...(event.report ? { exchangeOrderId: event.report.id } : {}),
        ...('trades' in fill && fill.trades ? { trades: fill.trades } : {}),
        stateBeforeCancel: undefined,
      },
      audit: [{ type: to === 'FILLED' ? 'order.filled' : 'order.canceled', data: { orderId: order.id, from: order.state, to, reason: event.reason, filled: fill.filled, cost: fill.cost, fees: fill.fees } }],
      budget: { book: { filled: fill.filled, cost: fill.cost, fees: fill.fees, bookedBefore: recordedFill(order) }, release: 'audited' },
    };
  }),
  NotFound: inStates<'NotFound'>(['SUBMITTING', ...LIVE_AFTER_SEND], (order, event) => {
    const count = order.notFoundCount + 1;
    return {
      // A send whose order the exchange does not know has an unknown outcome until proven lost.
      to: order.state === 'SUBMITTING' ? 'UNKNOWN' : order.state,
      patch: { notFoundCount: count, firstNotFoundAt: order.firstNotFoundAt ?? event.at.toISOString() },
      audit: [{ type: 'order.not-found', data: { orderId: order.id, count } }],
      budget: NO_BUDGET,
    };
  }),
  Lost: inStates<'Lost'>(['SUBMITTING', ...LIVE_AFTER_SEND], (order, event) => close(order, 'FAILED', 'order.failed', event.reason)),
  Expired: inStates<'Expired'>(['NEW', 'SUBMITTING', 'UNKNOWN'], (order, event) => close(order, 'EXPIRED', 'order.expired', event.reason)),
  Rejected: inStates<'Rejected'>(['NEW', 'SUBMITTING', 'UNKNOWN'], (order, event) => close(order, 'REJECTED', 'order.rejected', event.reason)),
  LateFill: inStates<'LateFill'>(LATE_FILL_STATES, (order, event) => fromReport(order, event.report, true)),
  WatchEnded: inStates<'WatchEnded'>(LATE_FILL_STATES, (order) => ({ to: order.state, patch: { watchUntil: undefined }, audit: [], budget: NO_BUDGET })),
};

/** Ended without the exchange's last word, after it may have reached the exchange: watch for a late fill. */
function watchesForLateFill(from: OrderState, to: OrderState): boolean {
  return from !== 'NEW' && !isTerminal(from) && (to === 'CANCELED' || to === 'FAILED' || to === 'EXPIRED');
}

/** Whether the aggregate accepts `event` in `state` (the pair has a handler). */
export function acceptsEvent(state: OrderState, event: OrderEventType): boolean {
  return RULES[event][state] !== undefined;
}

/**
 * Applies one event to an order.
 * @throws IllegalTransitionError when the aggregate does not accept the event in the order's state.
 */
export function applyOrderEvent(order: OrderRecord, event: OrderEvent): OrderDecision {
  const handler = RULES[event.type][order.state] as Handler<typeof event.type> | undefined;
  if (!handler) throw new IllegalTransitionError(order.state, event.type, { orderId: order.id });
  const outcome = handler(order, event as never);
  if (outcome.changed === false) return { next: order, changed: false, audit: [], budget: outcome.budget };
  const at = event.at.toISOString();
  const watch = watchesForLateFill(order.state, outcome.to)
    ? { watchUntil: new Date(event.at.getTime() + LATE_FILL_WATCH_MS).toISOString() }
    : isTerminal(outcome.to) && outcome.to !== 'FILLED'
      ? {}
      : { watchUntil: undefined };
  const merged: Record<string, unknown> = {
    ...order,
    ...outcome.patch,
    ...watch,
    state: outcome.to,
    version: order.version + 1,
    updatedAt: at,
    // Orders written before the summary existed have none yet.
    events: [...(order.events ?? []), { type: event.type, at, from: order.state, to: outcome.to }].slice(-MAX_ORDER_EVENTS),
    eventCount: (order.eventCount ?? 0) + 1,
  };
  // Copied without its undefined members, not deleted from: an object a member was deleted from
  // is slower to read and to copy at every later use of the order.
  const next: Record<string, unknown> = {};
  for (const key of Object.keys(merged)) if (merged[key] !== undefined) next[key] = merged[key];
  return { next: next as unknown as OrderRecord, changed: true, audit: outcome.audit, budget: outcome.budget };
}

/**
 * Applies events one after the other, as one change: audits and the booking in order, the
 * release if any event asked for it. Used where one decision is several events (a last "not
 * found" that declares the order lost).
 */
export function applyOrderEvents(order: OrderRecord, events: readonly OrderEvent[]): OrderDecision {
  let next = order;
  let changed = false;
  const audit: OrderAuditEntry[] = [];
  let book: FillToBook | undefined;
  let release: BudgetEffect['release'] = 'none';
  const rank = { none: 0, silent: 1, audited: 2 } as const;
  for (const event of events) {
    const decision = applyOrderEvent(next, event);
    next = decision.next;
    changed ||= decision.changed;
    audit.push(...decision.audit);
    if (decision.budget.book) book = decision.budget.book;
    if (rank[decision.budget.release] > rank[release]) release = decision.budget.release;
  }
  return { next, changed, audit, budget: book ? { book, release } : { release } };
}
