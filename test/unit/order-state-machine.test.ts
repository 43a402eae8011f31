/**
 * TST-1 / EXE-5 / EXE-10: the order aggregate, exhaustively over (state, event) and under
 * random event sequences.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { feeOf } from '../../shared/domain/fees.js';
import { IllegalTransitionError } from '../../shared/domain/errors.js';
import { dec } from '../../shared/domain/money.js';
import {
  MAX_ORDER_EVENTS,
  ORDER_EVENT_TYPES,
  acceptsEvent,
  applyOrderEvent,
  applyOrderEvents,
  type OrderEvent,
  type OrderEventType,
  type OrderReport,
} from '../../shared/domain/order-aggregate.js';
import { claimOrder } from '../../shared/domain/order-creation.js';
import { LATE_FILL_WATCH_MS } from '../../shared/domain/timing.js';
import { ORDER_STATES, TERMINAL_STATES, isTerminal, stateFromExchange, type ExchangeOrderStatus, type OrderRecord, type OrderState } from '../../shared/domain/order.js';

const AT = new Date('2026-03-01T10:00:00.000Z');
const EXCHANGE_STATUSES: readonly ExchangeOrderStatus[] = ['open', 'closed', 'canceled', 'rejected', 'expired'];

function newOrder(): OrderRecord {
  return claimOrder(
    { id: 'tw-i1', intentId: 'i1', correlationId: 'i1', strategy: 's', symbol: 'BTC/USDT', side: 'buy', type: 'limit', amount: '1', limitPrice: '100', reservedQuote: '101', fence: 1, createdAt: AT.toISOString() },
    AT,
  ).next;
}

/** An order in `state`, as if it had got there (the aggregate never needs the path). */
function orderIn(state: OrderState, fields: Partial<OrderRecord> = {}): OrderRecord {
  return { ...newOrder(), state, ...fields };
}

function report(status: ExchangeOrderStatus, filled: string, extra: Partial<OrderReport> = {}): OrderReport {
  return { id: 'X1', status, filled, cost: String(Number(filled) * 100), fees: feeOf('USDT', String(Number(filled) * 0.1)), ...extra };
}

/** One representative event of each type. */
function sampleEvent(type: OrderEventType, at = AT): OrderEvent {
  switch (type) {
    case 'Submitting':
      return { type, at };
    case 'OutcomeUnknown':
      return { type, at, reason: 'timeout' };
    case 'Accepted':
    case 'Reported':
    case 'LateFill':
      return { type, at, report: report('closed', '1') };
    case 'Canceled':
      return { type, at, reason: 'asked' };
    case 'NotFound':
    case 'WatchEnded':
      return { type, at };
    case 'CancelRequested':
    case 'CancelRejected':
    case 'Lost':
    case 'Expired':
    case 'Rejected':
      return { type, at, reason: 'because' };
    default: {
      const exhaustive: never = type;
      return exhaustive;
    }
  }
}

/**
 * The legal pairs, written out from the lifecycle the README describes, independently of the
 * aggregate's own rules: the test fails if either side changes alone.
 */
const LEGAL: Readonly<Record<OrderEventType, readonly OrderState[]>> = {
  Submitting: ['NEW', 'SUBMITTING', 'UNKNOWN'],
  OutcomeUnknown: ['SUBMITTING'],
  Accepted: ['SUBMITTING'],
  Reported: ['SUBMITTING', 'UNKNOWN', 'OPEN', 'PARTIALLY_FILLED', 'CANCEL_REQUESTED'],
  CancelRequested: ['OPEN', 'PARTIALLY_FILLED', 'CANCEL_REQUESTED'],
  CancelRejected: ['CANCEL_REQUESTED'],
  Canceled: ['OPEN', 'PARTIALLY_FILLED', 'CANCEL_REQUESTED'],
  NotFound: ['SUBMITTING', 'UNKNOWN', 'OPEN', 'PARTIALLY_FILLED', 'CANCEL_REQUESTED'],
  Lost: ['SUBMITTING', 'UNKNOWN', 'OPEN', 'PARTIALLY_FILLED', 'CANCEL_REQUESTED'],
  // EXE-14: also SUBMITTING and UNKNOWN, once the executor found the order absent on the exchange.
  Expired: ['NEW', 'SUBMITTING', 'UNKNOWN'],
  Rejected: ['NEW', 'SUBMITTING', 'UNKNOWN'],
  LateFill: ['CANCELED', 'FAILED', 'EXPIRED', 'REJECTED'],
  WatchEnded: ['CANCELED', 'FAILED', 'EXPIRED', 'REJECTED'],
};

const amount = fc.constantFrom('0', '0.25', '0.5', '0.75', '1');
const reportArb: fc.Arbitrary<OrderReport> = fc
  .record({ status: fc.constantFrom(...EXCHANGE_STATUSES), filled: amount })
  .map(({ status, filled }) => report(status, filled));
const eventArb: fc.Arbitrary<OrderEvent> = fc.oneof(
  fc.constantFrom<OrderEventType>('Submitting', 'OutcomeUnknown', 'CancelRequested', 'CancelRejected', 'Canceled', 'NotFound', 'Lost', 'Expired', 'Rejected').map((t) => sampleEvent(t)),
  fc.record({ type: fc.constantFrom('Accepted' as const, 'Reported' as const, 'LateFill' as const), report: reportArb }).map(({ type, report: r }) => ({ type, at: AT, report: r })),
);

describe('Domain: order aggregate', () => {
  describe('Function: applyOrderEvent', () => {
    it('accepts exactly the legal (state, event) pairs and refuses every other pair with a coded error, leaving the order as it was', () => {
      let accepted = 0;
      let refused = 0;
      for (const state of ORDER_STATES) {
        for (const type of ORDER_EVENT_TYPES) {
          const order = orderIn(state);
          const before = JSON.stringify(order);
          const legal = LEGAL[type].includes(state);
          expect(acceptsEvent(state, type), `${state} + ${type}`).toBe(legal);
          if (legal) {
            expect(() => applyOrderEvent(order, sampleEvent(type)), `${state} + ${type}`).not.toThrow();
            accepted += 1;
          } else {
            let thrown: unknown;
            try {
              applyOrderEvent(order, sampleEvent(type));
            } catch (error) {
              thrown = error;
            }
            expect(thrown, `${state} + ${type}`).toBeInstanceOf(IllegalTransitionError);
            expect((thrown as IllegalTransitionError).code).toBe('ILLEGAL_TRANSITION');
            expect((thrown as IllegalTransitionError).details).toMatchObject({ state, event: type, orderId: order.id });
            refused += 1;
          }
          expect(JSON.stringify(order)).toBe(before);
        }
      }
      expect(accepted + refused).toBe(ORDER_STATES.length * ORDER_EVENT_TYPES.length);
      expect(accepted).toBeGreaterThan(0);
      expect(refused).toBeGreaterThan(0);
    });

    it('makes terminal states final for every event but LateFill (and the end of its watch), and FILLED final for all', () => {
      fc.assert(
        fc.property(fc.constantFrom(...TERMINAL_STATES), fc.constantFrom(...ORDER_EVENT_TYPES), (state, type) => {
          expect(acceptsEvent(state, type)).toBe((type === 'LateFill' || type === 'WatchEnded') && state !== 'FILLED');
          if (type === 'WatchEnded' && state !== 'FILLED') expect(applyOrderEvent(orderIn(state, { watchUntil: AT.toISOString() }), sampleEvent(type)).next.state).toBe(state);
        }),
      );
    });

    it('watches an order that ended after it may have reached the exchange, and only such an order', () => {
      const at = new Date(AT.getTime() + 1000);
      const watched = (from: OrderState, event: OrderEvent) => applyOrderEvent(orderIn(from), event).next.watchUntil;
      expect(watched('OPEN', { type: 'Canceled', at, reason: 'x' })).toBe(new Date(at.getTime() + LATE_FILL_WATCH_MS).toISOString());
      expect(watched('UNKNOWN', { type: 'Lost', at, reason: 'x' })).toBeDefined();
      expect(watched('OPEN', { type: 'Reported', at, report: report('expired', '0') })).toBeDefined();
      expect(watched('OPEN', { type: 'Reported', at, report: report('closed', '1') })).toBeUndefined();
      expect(watched('NEW', { type: 'Expired', at, reason: 'x' })).toBeUndefined();
      expect(watched('SUBMITTING', { type: 'Rejected', at, reason: 'x' })).toBeUndefined();
      const ended = applyOrderEvent(orderIn('CANCELED', { watchUntil: at.toISOString() }), { type: 'WatchEnded', at });
      expect(ended.next.watchUntil).toBeUndefined();
    });

    it('restores the earlier live state when a cancel is refused', () => {
      for (const before of ['OPEN', 'PARTIALLY_FILLED'] as const) {
        const requested = applyOrderEvent(orderIn(before, { filled: before === 'OPEN' ? '0' : '0.5' }), sampleEvent('CancelRequested')).next;
        expect(requested).toMatchObject({ state: 'CANCEL_REQUESTED', stateBeforeCancel: before });
        const refused = applyOrderEvent(requested, sampleEvent('CancelRejected')).next;
        expect(refused.state).toBe(before);
        expect(refused.stateBeforeCancel).toBeUndefined();
      }
      // A fill that came while the cancel was pending: the open order is now partially filled.
      const pending = applyOrderEvent(orderIn('OPEN'), sampleEvent('CancelRequested')).next;
      const filledMeanwhile = applyOrderEvent(pending, { type: 'Reported', at: AT, report: report('open', '0.25') });
      expect(filledMeanwhile.next.state).toBe('CANCEL_REQUESTED');
      expect(applyOrderEvent(filledMeanwhile.next, sampleEvent('CancelRejected')).next.state).toBe('PARTIALLY_FILLED');
    });

    it('books a late fill after a local cancel and after LOST, counted from what the order had recorded (EXE-10)', () => {
      const canceled = orderIn('CANCELED', { filled: '0.25', cost: '25', fees: feeOf('USDT', '0.025') });
      const late = applyOrderEvent(canceled, { type: 'LateFill', at: AT, report: report('closed', '1') });
      expect(late.next).toMatchObject({ state: 'FILLED', filled: '1', cost: '100' });
      expect(late.budget).toEqual({ book: { filled: '1', cost: '100', fees: feeOf('USDT', '0.1'), bookedBefore: { filled: '0.25', cost: '25', fees: feeOf('USDT', '0.025') } }, release: 'silent' });
      expect(late.audit.map((a) => a.type)).toEqual(['order.late-fill']);
      // Part of the rest filled before the cancel took: PARTIALLY_FILLED, followed to the exchange's final word.
      expect(applyOrderEvent(canceled, { type: 'LateFill', at: AT, report: report('canceled', '0.5') }).next).toMatchObject({ state: 'PARTIALLY_FILLED', filled: '0.5' });
      // An open report on an order the exchange canceled, without a new fill, is stale: nothing changes.
      expect(applyOrderEvent(canceled, { type: 'LateFill', at: AT, report: report('open', '0.25') }).changed).toBe(false);

      const lost = orderIn('FAILED');
      const alive = applyOrderEvent(lost, { type: 'LateFill', at: AT, report: report('open', '0.5') });
      expect(alive.next.state).toBe('PARTIALLY_FILLED');
      expect(alive.budget).toMatchObject({ book: { filled: '0.5', bookedBefore: { filled: '0' } }, release: 'none' });

      // Reported again with nothing new: no change, nothing booked.
      const again = applyOrderEvent(late.next.state === 'FILLED' ? { ...late.next, state: 'CANCELED' } : late.next, { type: 'LateFill', at: AT, report: report('canceled', '1') });
      expect(again).toMatchObject({ changed: false, budget: { release: 'none' } });
      expect(again.budget.book).toBeUndefined();
    });

    it('keeps a bounded summary of the events applied', () => {
      let order = orderIn('OPEN');
      for (let i = 0; i < MAX_ORDER_EVENTS + 5; i += 1) order = applyOrderEvent(order, sampleEvent('NotFound', new Date(AT.getTime() + i))).next;
      expect(order.events).toHaveLength(MAX_ORDER_EVENTS);
      expect(order.eventCount).toBe(1 + MAX_ORDER_EVENTS + 5);
      expect(order.events.at(-1)).toEqual({ type: 'NotFound', at: new Date(AT.getTime() + MAX_ORDER_EVENTS + 4).toISOString(), from: 'OPEN', to: 'OPEN' });
      expect(order.notFoundCount).toBe(MAX_ORDER_EVENTS + 5);
      expect(order.firstNotFoundAt).toBe(AT.toISOString());
    });

    it('starts the summary on an order stored before it existed', () => {
      const { events: _e, eventCount: _c, ...legacy } = orderIn('OPEN');
      const next = applyOrderEvent(legacy as OrderRecord, sampleEvent('NotFound')).next;
      expect(next.events).toEqual([{ type: 'NotFound', at: AT.toISOString(), from: 'OPEN', to: 'OPEN' }]);
      expect(next.eventCount).toBe(1);
    });

    it('declares an order lost in one change with its last not-found answer', () => {
      const decision = applyOrderEvents(orderIn('UNKNOWN', { notFoundCount: 2, firstNotFoundAt: AT.toISOString() }), [sampleEvent('NotFound'), sampleEvent('Lost')]);
      expect(decision.next).toMatchObject({ state: 'FAILED', notFoundCount: 3, version: 2 });
      expect(decision.audit.map((a) => a.type)).toEqual(['order.not-found', 'order.failed']);
      expect(decision.budget.release).toBe('audited');
    });
  });

  describe('Random event sequences', () => {
    it('never leave the rules: refused events change nothing; versions, fills and the summary only grow; terminal states are left only by LateFill', () => {
      fc.assert(
        fc.property(fc.array(eventArb, { maxLength: 60 }), (events) => {
          let order = newOrder();
          for (const event of events) {
            const before = order;
            let decision;
            try {
              decision = applyOrderEvent(order, event);
            } catch (error) {
              expect(error).toBeInstanceOf(IllegalTransitionError);
              expect(acceptsEvent(before.state, event.type)).toBe(false);
              continue;
            }
            expect(acceptsEvent(before.state, event.type)).toBe(true);
            order = decision.next;
            expect(ORDER_STATES).toContain(order.state);
            if (!decision.changed) {
              expect(order).toBe(before);
              continue;
            }
            expect(order.version).toBe(before.version + 1);
            expect(order.eventCount).toBe(before.eventCount + 1);
            // Stored as it is: no undefined member, and the members it kept in their order.
            expect(Object.values(order)).not.toContain(undefined);
            const kept = Object.keys(order).filter((key) => key in before);
            expect(kept).toEqual(Object.keys(before).filter((key) => key in order));
            expect(order.events.length).toBeLessThanOrEqual(MAX_ORDER_EVENTS);
            expect(dec(order.filled).gte(before.filled)).toBe(true);
            expect(dec(order.filled).lte(order.amount)).toBe(true);
            if (isTerminal(before.state)) expect(['LateFill', 'WatchEnded']).toContain(event.type);
            // What is booked is never less than what the order records.
            if (decision.budget.book) expect(dec(decision.budget.book.filled).gte(order.filled)).toBe(true);
            if (decision.budget.release !== 'none') expect(isTerminal(order.state)).toBe(true);
          }
        }),
        { numRuns: 500 },
      );
    });

    it('resolve an order from SUBMITTING or UNKNOWN to what the exchange reports, whatever the report', () => {
      fc.assert(
        fc.property(fc.constantFrom<OrderState>('SUBMITTING', 'UNKNOWN'), fc.constantFrom(...EXCHANGE_STATUSES), fc.constantFrom('0', '0.3'), (from, status, filled) => {
          const next = applyOrderEvent(orderIn(from), { type: 'Reported', at: AT, report: report(status, filled) }).next;
          expect(next.state).toBe(stateFromExchange(status, filled));
        }),
      );
    });
  });

  describe('Reachability', () => {
    /** States reachable from `from` with the sample events and every kind of report. */
    const reachable = (from: OrderState): Set<OrderState> => {
      const events: OrderEvent[] = [
        ...ORDER_EVENT_TYPES.map((t) => sampleEvent(t)),
        ...(['Accepted', 'Reported', 'LateFill'] as const).flatMap((type) =>
          EXCHANGE_STATUSES.flatMap((status) => ['0', '0.5', '1'].map((filled) => ({ type, at: AT, report: report(status, filled) }) as OrderEvent)),
        ),
      ];
      const seen = new Set<OrderState>([from]);
      const queue: OrderState[] = [from];
      while (queue.length > 0) {
        const s = queue.shift() as OrderState;
        for (const event of events) {
          if (!acceptsEvent(s, event.type)) continue;
          const n = applyOrderEvent(orderIn(s, { stateBeforeCancel: 'OPEN' }), event).next.state;
          if (!seen.has(n)) {
            seen.add(n);
            queue.push(n);
          }
        }
      }
      return seen;
    };

    it('reaches every state from NEW', () => {
      expect([...reachable('NEW')].sort()).toEqual([...ORDER_STATES].sort());
    });

    it('lets every live state end: a terminal state is reachable from each of them (no dead ends)', () => {
      for (const s of ORDER_STATES.filter((x) => !isTerminal(x))) expect([...reachable(s)].some(isTerminal), s).toBe(true);
    });

    it('declares lost (FAILED) only orders that may have reached the exchange, never a NEW one', () => {
      expect(acceptsEvent('NEW', 'Lost')).toBe(false);
      for (const s of ['SUBMITTING', 'UNKNOWN', 'OPEN', 'PARTIALLY_FILLED', 'CANCEL_REQUESTED'] as const) {
        expect(applyOrderEvent(orderIn(s), sampleEvent('Lost')).next.state, s).toBe('FAILED');
      }
    });
  });

  describe('Function: stateFromExchange', () => {
    it('maps every status and fill to a known state, PARTIALLY_FILLED only for an open order with a fill', () => {
      fc.assert(
        fc.property(fc.constantFrom(...EXCHANGE_STATUSES), fc.oneof(fc.constantFrom('0', '0.0', '0.000'), fc.integer({ min: 1, max: 10 ** 6 }).map((n) => `0.${String(n).padStart(6, '0')}`)), (status, filled) => {
          const state = stateFromExchange(status, filled);
          expect(ORDER_STATES).toContain(state);
          const anyFill = Number(filled) > 0;
          if (status === 'open') expect(state).toBe(anyFill ? 'PARTIALLY_FILLED' : 'OPEN');
          else expect(isTerminal(state)).toBe(true);
        }),
      );
    });
  });
});
