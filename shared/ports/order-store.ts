import type { OrderRecord, OrderState } from '../domain/order.js';

/** Fields a transition may change besides the state. */
export type OrderPatch = Partial<
  Pick<OrderRecord, 'exchangeOrderId' | 'filled' | 'cost' | 'fees' | 'reason' | 'notFoundCount' | 'firstNotFoundAt'>
>;

export interface Page<T> {
  readonly items: readonly T[];
  /** Opaque cursor for the next page; absent on the last page. */
  readonly cursor?: string;
}

/**
 * Orders, keyed by client order id. `create` is the idempotent claim of an intent: a conditional
 * put that only the first writer wins. `transition` is conditional on the previous state, the
 * version and the fencing token (EXE-5, RISK-7).
 */
export interface OrderStore {
  /** @returns false when an order with this id already exists (nothing is written then). */
  create(order: OrderRecord): Promise<boolean>;
  get(id: string): Promise<OrderRecord | null>;
  /**
   * Moves `order` (as last read) to `to`. Validates the move against the transition table.
   * @throws IllegalTransitionError, ConcurrentModificationError, LockLostError
   */
  transition(order: OrderRecord, to: OrderState, patch: OrderPatch, fence: number, at: Date): Promise<OrderRecord>;
  /** Non-terminal orders, oldest first, in pages. */
  listOpen(limit: number, cursor?: string): Promise<Page<OrderRecord>>;
  /** Most recent orders first. */
  listRecent(limit: number): Promise<OrderRecord[]>;
}
