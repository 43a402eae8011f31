/**
 * The order state machine (EXE-5). Every state change goes through `assertTransition`; stores
 * persist a change with a condition on the previous state and version, so two writers can never
 * both move an order.
 */
import { IllegalTransitionError } from './errors.js';
import type { FeeAmount } from './fees.js';
import type { DecimalString } from './money.js';

export const ORDER_STATES = [
  'NEW',
  'SUBMITTING',
  'OPEN',
  'PARTIALLY_FILLED',
  'CANCEL_REQUESTED',
  'UNKNOWN',
  'FILLED',
  'CANCELED',
  'REJECTED',
  'EXPIRED',
  'FAILED',
] as const;
export type OrderState = (typeof ORDER_STATES)[number];

export const TERMINAL_STATES: ReadonlySet<OrderState> = new Set(['FILLED', 'CANCELED', 'REJECTED', 'EXPIRED', 'FAILED']);

/**
 * The complete transition table. Recovery transitions:
 * - SUBMITTING/UNKNOWN -> SUBMITTING: a re-send with the SAME client order id after the order was
 *   looked up and not found (exchange-side deduplication makes it safe);
 * - SUBMITTING -> UNKNOWN: the request may have reached the exchange;
 * - UNKNOWN -> any outcome found by lookup, or FAILED when the exchange said "not found"
 *   repeatedly over the grace period (REC-2);
 * - OPEN/PARTIALLY_FILLED/CANCEL_REQUESTED -> FAILED when the order vanished from the exchange.
 * Self-transitions of live states record progress without a state change (a partial fill, a
 * "not found" count).
 */
export const TRANSITIONS: Readonly<Record<OrderState, readonly OrderState[]>> = {
  NEW: ['SUBMITTING', 'REJECTED', 'EXPIRED'],
  SUBMITTING: ['SUBMITTING', 'OPEN', 'PARTIALLY_FILLED', 'FILLED', 'CANCELED', 'REJECTED', 'EXPIRED', 'UNKNOWN'],
  UNKNOWN: ['UNKNOWN', 'SUBMITTING', 'OPEN', 'PARTIALLY_FILLED', 'FILLED', 'CANCELED', 'REJECTED', 'EXPIRED', 'FAILED'],
  OPEN: ['OPEN', 'PARTIALLY_FILLED', 'FILLED', 'CANCEL_REQUESTED', 'CANCELED', 'EXPIRED', 'FAILED'],
  PARTIALLY_FILLED: ['PARTIALLY_FILLED', 'FILLED', 'CANCEL_REQUESTED', 'CANCELED', 'EXPIRED', 'FAILED'],
  CANCEL_REQUESTED: ['CANCEL_REQUESTED', 'PARTIALLY_FILLED', 'FILLED', 'CANCELED', 'EXPIRED', 'FAILED'],
  FILLED: [],
  CANCELED: [],
  REJECTED: [],
  EXPIRED: [],
  FAILED: [],
};

export function isTerminal(state: OrderState): boolean {
  return TERMINAL_STATES.has(state);
}

export function canTransition(from: OrderState, to: OrderState): boolean {
  return TRANSITIONS[from].includes(to);
}

/** @throws IllegalTransitionError when the table does not allow `from -> to`. */
export function assertTransition(from: OrderState, to: OrderState, details: Record<string, unknown> = {}): void {
  if (!canTransition(from, to)) throw new IllegalTransitionError(from, to, details);
}

export type Side = 'buy' | 'sell';
export type OrderType = 'market' | 'limit';

/** The order as Tradewarden records it. `id` is also the client order id sent to the exchange. */
export interface OrderRecord {
  readonly id: string;
  readonly intentId: string;
  readonly correlationId: string;
  readonly strategy: string;
  readonly symbol: string;
  readonly side: Side;
  readonly type: OrderType;
  /** Base amount, already rounded to the market's step. */
  readonly amount: DecimalString;
  readonly limitPrice?: DecimalString;
  /** Quote reserved from the budget for this order (buys). */
  readonly reservedQuote: DecimalString;
  readonly state: OrderState;
  readonly version: number;
  /** Fencing token of the symbol lock under which it was last written. */
  readonly fence: number;
  readonly exchangeOrderId?: string;
  /** Cumulative filled base amount, cost (quote) and fees per currency, as the exchange reports them. */
  readonly filled: DecimalString;
  readonly cost: DecimalString;
  readonly fees: readonly FeeAmount[];
  readonly reason?: string;
  /** Consecutive "not found" answers from the exchange and when the first came (REC-2). */
  readonly notFoundCount: number;
  readonly firstNotFoundAt?: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** Derives the client order id from the intent id (EXE-2). The prefix lets the reconciler adopt orphans (REC-3). */
export const CLIENT_ORDER_ID_PREFIX = 'tw-';
export function clientOrderIdFor(intentId: string): string {
  return `${CLIENT_ORDER_ID_PREFIX}${intentId}`;
}

/** Maps an exchange order status to the local state it implies, given fill progress. */
export function stateFromExchange(status: ExchangeOrderStatus, filled: DecimalString): OrderState {
  const anyFill = filled !== '0' && !/^0(\.0+)?$/.test(filled);
  switch (status) {
    case 'open':
      return anyFill ? 'PARTIALLY_FILLED' : 'OPEN';
    case 'closed':
      return 'FILLED';
    case 'canceled':
      return 'CANCELED';
    case 'rejected':
      return 'REJECTED';
    case 'expired':
      return 'EXPIRED';
    default: {
      const exhaustive: never = status;
      return exhaustive;
    }
  }
}

export type ExchangeOrderStatus = 'open' | 'closed' | 'canceled' | 'rejected' | 'expired';
