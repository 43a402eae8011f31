/**
 * TST-1 / EXE-5: the order state machine, exhaustively and under random event sequences.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IllegalTransitionError } from '../../shared/domain/errors.js';
import {
  ORDER_STATES,
  TERMINAL_STATES,
  TRANSITIONS,
  assertTransition,
  canTransition,
  isTerminal,
  stateFromExchange,
  type ExchangeOrderStatus,
  type OrderState,
} from '../../shared/domain/order.js';

const anyState = fc.constantFrom(...ORDER_STATES);
const EXCHANGE_STATUSES: readonly ExchangeOrderStatus[] = ['open', 'closed', 'canceled', 'rejected', 'expired'];

/** Moves `state` to `to` if the machine allows it, as a store would; returns the state after. */
function attempt(state: OrderState, to: OrderState): { state: OrderState; accepted: boolean } {
  try {
    assertTransition(state, to);
    return { state: to, accepted: true };
  } catch (error) {
    expect(error).toBeInstanceOf(IllegalTransitionError);
    return { state, accepted: false };
  }
}

/** Events the executor, the exchange and the reconciler produce, and the state each one asks for. */
type OrderEvent =
  | { kind: 'exchange-report'; status: ExchangeOrderStatus; filled: string }
  | { kind: 'submit' }
  | { kind: 'timeout' }
  | { kind: 'cancel-request' }
  | { kind: 'declared-lost' }
  | { kind: 'expire' }
  | { kind: 'reject' }
  | { kind: 'arbitrary'; to: OrderState };

const orderEvent: fc.Arbitrary<OrderEvent> = fc.oneof(
  fc.record({ kind: fc.constant('exchange-report' as const), status: fc.constantFrom(...EXCHANGE_STATUSES), filled: fc.constantFrom('0', '0.0', '0.5', '1') }),
  fc.constant({ kind: 'submit' as const }),
  fc.constant({ kind: 'timeout' as const }),
  fc.constant({ kind: 'cancel-request' as const }),
  fc.constant({ kind: 'declared-lost' as const }),
  fc.constant({ kind: 'expire' as const }),
  fc.constant({ kind: 'reject' as const }),
  fc.record({ kind: fc.constant('arbitrary' as const), to: anyState }),
);

function targetOf(event: OrderEvent): OrderState {
  switch (event.kind) {
    case 'exchange-report':
      return stateFromExchange(event.status, event.filled);
    case 'submit':
      return 'SUBMITTING';
    case 'timeout':
      return 'UNKNOWN';
    case 'cancel-request':
      return 'CANCEL_REQUESTED';
    case 'declared-lost':
      return 'FAILED';
    case 'expire':
      return 'EXPIRED';
    case 'reject':
      return 'REJECTED';
    case 'arbitrary':
      return event.to;
    default: {
      const exhaustive: never = event;
      return exhaustive;
    }
  }
}

describe('Domain: order state machine', () => {
  describe('Function: assertTransition', () => {
    it('accepts every transition in the table and rejects every other pair, with a coded error', () => {
      let accepted = 0;
      let rejected = 0;
      for (const from of ORDER_STATES) {
        for (const to of ORDER_STATES) {
          if (TRANSITIONS[from].includes(to)) {
            expect(() => assertTransition(from, to), `${from} -> ${to}`).not.toThrow();
            expect(canTransition(from, to)).toBe(true);
            accepted += 1;
          } else {
            let thrown: unknown;
            try {
              assertTransition(from, to, { orderId: 'tw-x' });
            } catch (error) {
              thrown = error;
            }
            expect(thrown, `${from} -> ${to}`).toBeInstanceOf(IllegalTransitionError);
            expect((thrown as IllegalTransitionError).code).toBe('ILLEGAL_TRANSITION');
            expect((thrown as IllegalTransitionError).details).toMatchObject({ from, to, orderId: 'tw-x' });
            expect(canTransition(from, to)).toBe(false);
            rejected += 1;
          }
        }
      }
      expect(accepted + rejected).toBe(ORDER_STATES.length ** 2);
      expect(accepted).toBeGreaterThan(0);
      expect(rejected).toBeGreaterThan(0);
    });

    it('has a table that names only known states and gives every state an entry', () => {
      expect(Object.keys(TRANSITIONS).sort()).toEqual([...ORDER_STATES].sort());
      for (const targets of Object.values(TRANSITIONS)) for (const to of targets) expect(ORDER_STATES).toContain(to);
    });

    it('makes terminal states absorbing: nothing leaves them, not even a self-transition', () => {
      fc.assert(
        fc.property(fc.constantFrom(...TERMINAL_STATES), anyState, (from, to) => {
          expect(isTerminal(from)).toBe(true);
          expect(() => assertTransition(from, to)).toThrow(IllegalTransitionError);
        }),
      );
    });
  });

  describe('Random event sequences', () => {
    it('never leave the table: every step is either an allowed move or refused with the state unchanged', () => {
      fc.assert(
        fc.property(fc.array(orderEvent, { maxLength: 60 }), (events) => {
          let state: OrderState = 'NEW';
          let terminalSince: number | undefined;
          events.forEach((event, index) => {
            const to = targetOf(event);
            const before = state;
            const outcome = attempt(state, to);
            state = outcome.state;
            expect(ORDER_STATES).toContain(state);
            expect(outcome.accepted).toBe(TRANSITIONS[before].includes(to));
            if (!outcome.accepted) expect(state).toBe(before);
            if (terminalSince !== undefined) expect(state).toBe(before);
            if (isTerminal(state) && terminalSince === undefined) terminalSince = index;
          });
        }),
        { numRuns: 500 },
      );
    });

    it('reach the exchange-reported outcome from SUBMITTING or UNKNOWN whatever the report, so a lookup can always resolve an order', () => {
      fc.assert(
        fc.property(fc.constantFrom<OrderState>('SUBMITTING', 'UNKNOWN'), fc.constantFrom(...EXCHANGE_STATUSES), fc.constantFrom('0', '0.3'), (from, status, filled) => {
          expect(canTransition(from, stateFromExchange(status, filled))).toBe(true);
        }),
      );
    });
  });

  describe('Reachability', () => {
    const reachable = (from: OrderState): Set<OrderState> => {
      const seen = new Set<OrderState>([from]);
      const queue: OrderState[] = [from];
      while (queue.length > 0) {
        const s = queue.shift() as OrderState;
        for (const n of TRANSITIONS[s]) if (!seen.has(n)) {
          seen.add(n);
          queue.push(n);
        }
      }
      return seen;
    };

    it('reaches every state from NEW', () => {
      expect([...reachable('NEW')].sort()).toEqual([...ORDER_STATES].sort());
    });

    it('lets every live state end: a terminal state is reachable from each of them (no dead ends)', () => {
      for (const s of ORDER_STATES.filter((x) => !isTerminal(x))) {
        expect([...reachable(s)].some(isTerminal), s).toBe(true);
      }
    });

    it('declares lost (FAILED) only orders that may have reached the exchange, never a NEW one', () => {
      expect(canTransition('NEW', 'FAILED')).toBe(false);
      for (const s of ['UNKNOWN', 'OPEN', 'PARTIALLY_FILLED', 'CANCEL_REQUESTED'] as const) expect(canTransition(s, 'FAILED'), s).toBe(true);
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
