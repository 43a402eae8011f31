/**
 * The order record and its states (EXE-5). Which event may move an order from which state, and
 * to where, is decided in one place: `applyOrderEvent` in order-aggregate.ts. Stores persist the
 * result conditional on the version it was computed from and the fencing token, so two writers
 * can never both move an order.
 */
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

export function isTerminal(state: OrderState): boolean {
  return TERMINAL_STATES.has(state);
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
  /** The live state a cancel request left, restored when the exchange refuses the cancel. */
  readonly stateBeforeCancel?: OrderState;
  /**
   * Exchange trades booked into `filled`/`cost`/`fees`, by trade id, where the exchange reports
   * them: a trade reported twice is counted once (EXE-11). Absent when only cumulative amounts
   * were reported.
   */
  readonly trades?: readonly OrderTrade[];
  /**
   * Until when (ISO) the reconciler keeps looking up an order that ended without a fill report
   * from the exchange (canceled, lost, expired after it was sent), for a late fill (EXE-10).
   */
  readonly watchUntil?: string;
  /** The most recent events applied to the order (bounded, oldest first) and how many there were in all. */
  readonly events: readonly OrderEventSummary[];
  readonly eventCount: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  /**
   * When the intent behind the order expires (EXE-14: the earlier of its `expiresAt` and its
   * `createdAt` plus the TTL), recorded at the claim: a later delivery cannot extend it by carrying
   * another expiry. Absent on orders claimed before it was recorded, and on adopted orders. (Not
   * `expiresAt`: the state table's held-locks index keys on a numeric attribute of that name.)
   */
  readonly intentExpiresAt?: string;
  /**
   * The fingerprint of the intent's trade fields (domain/intent.ts `intentFingerprint`), recorded at
   * the claim: a delivery of the same intent id with other content is refused, not answered with
   * this order. Absent on orders claimed before it was recorded, and on adopted orders.
   */
  readonly intentFingerprint?: string;
}

/** One exchange trade (execution) of an order, with its fees per currency, like the order's. */
export interface OrderTrade {
  readonly id: string;
  readonly amount: DecimalString;
  readonly cost: DecimalString;
  readonly fees: readonly FeeAmount[];
}

/** What the order keeps of an event applied to it. */
export interface OrderEventSummary {
  readonly type: string;
  readonly at: string;
  readonly from: OrderState | null;
  readonly to: OrderState;
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
