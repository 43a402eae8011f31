import type { OrderRecord } from '../domain/order.js';

export interface Page<T> {
  readonly items: readonly T[];
  /** Opaque cursor for the next page; absent on the last page. */
  readonly cursor?: string;
}

/**
 * Orders, keyed by client order id. Persistence only: what an order becomes is decided by the
 * order aggregate (domain/order-aggregate.ts), never here. `create` is the idempotent claim of
 * an intent: a conditional put that only the first writer wins. `save` writes the aggregate's
 * `next`, conditional on the version it was computed from and on the fencing token (EXE-5, RISK-7).
 */
export interface OrderStore {
  /** @returns false when an order with this id already exists (nothing is written then). */
  create(order: OrderRecord): Promise<boolean>;
  get(id: string): Promise<OrderRecord | null>;
  /**
   * Replaces the stored order by `next` if its version is still `expectedVersion` and no newer
   * fencing token than `fence` wrote it. Returns `next` as stored (with `fence`).
   * @throws ConcurrentModificationError, LockLostError
   */
  save(next: OrderRecord, expected: { readonly version: number; readonly fence: number }): Promise<OrderRecord>;
  /** Non-terminal orders, oldest first, in pages. */
  listOpen(limit: number, cursor?: string): Promise<Page<OrderRecord>>;
  /** Ended orders still watched for a late fill (`watchUntil` set), oldest first, in pages. */
  listWatched(limit: number, cursor?: string): Promise<Page<OrderRecord>>;
  /** Most recent orders first. */
  listRecent(limit: number): Promise<OrderRecord[]>;
}
