/**
 * The paper exchange's books as data: the order and balances items, their index keys, the
 * PaperBooks contract both stores keep (PaperStore in DynamoDB, MemoryPaperStore in memory), and
 * the helpers the matching and settlement code share. No storage client here: the backtest and
 * the in-memory books use these without loading the AWS SDK. Item layout: paper-store.ts.
 */
import { PAPER_TABLE } from '../../definitions/tables.js';
import { ErrorCode, TradewardenError } from '../../domain/errors.js';
import type { FeeAmount } from '../../domain/fees.js';
import type { DecimalString } from '../../domain/money.js';
import type { ExchangeOrderStatus, OrderType, Side } from '../../domain/order.js';

/** The sparse index of PAPER_TABLE on openpk/opensk. */
export const PAPER_OPEN_ORDERS_INDEX = PAPER_TABLE.indexes[0]?.indexName ?? 'paper-open-orders';
/** Index partitions: open orders, and orders that are not open but still settling. */
export const OPEN_PARTITION = 'OPEN';
export const UNSETTLED_PARTITION = 'UNSETTLED';
export const ORDER_SK = 'ORDER';

/** A balance change per asset (signed decimal strings). */
export type Deltas = Record<string, { free: DecimalString; used: DecimalString }>;

export type EffectKind = 'place' | 'fill' | 'release';

/** One balance movement of one order; its id is unique forever. */
export interface Effect {
  readonly id: string;
  readonly kind: EffectKind;
  /** Only a placement may be refused when the funds no longer cover it; anything else must apply. */
  readonly rejectable: boolean;
  readonly deltas: Deltas;
}

export type Outcome = 'applied' | 'rejected';

export interface OrderItem {
  readonly pk: string;
  readonly sk: string;
  readonly id: string;
  readonly clientOrderId: string;
  readonly symbol: string;
  readonly base: string;
  readonly quote: string;
  readonly side: Side;
  readonly type: OrderType;
  readonly status: ExchangeOrderStatus;
  readonly amount: DecimalString;
  /** Limit price, or the fill price of a market order. */
  readonly price?: DecimalString;
  readonly filled: DecimalString;
  readonly cost: DecimalString;
  /** Fees charged so far, per currency. */
  readonly fees: readonly FeeAmount[];
  /** Fee rate in force when the order was placed; its fills use it. */
  readonly feeRate: DecimalString;
  /** Funds held in `used` while the order rests. */
  readonly reserved?: { readonly asset: string; readonly amount: DecimalString };
  /** The fee a resting order pays when it fills, decided when it was placed. */
  readonly feeDue?: FeeAmount;
  /** A third-asset fee held in `used` while the order rests. */
  readonly feeHeld?: { readonly asset: string; readonly amount: DecimalString };
  readonly timestamp: number;
  /** A resting order was matched against the market up to this time (epoch ms; exchange-paper-market.ts). */
  readonly matchedUntil?: number;
  /** Effects created so far; the next effect is number effectCount + 1. */
  readonly effectCount: number;
  readonly pending?: Effect;
  readonly version: number;
  readonly openpk?: string;
  readonly opensk?: string;
}

export type Assets = Record<string, { free: DecimalString; used: DecimalString }>;

export interface BalancesItem {
  readonly pk: string;
  readonly sk: string;
  readonly assets: Assets;
  readonly outcomes: Record<string, Outcome>;
  readonly version: number;
}

/**
 * The paper exchange's books, item by item, every write conditional: in DynamoDB (PaperStore)
 * or in memory (MemoryPaperStore, for a backtest) with the same conditions.
 */
export interface PaperBooks {
  getOrder(clientOrderId: string): Promise<OrderItem | null>;
  /** @returns false when an order with its client order id exists. */
  createOrder(order: OrderItem): Promise<boolean>;
  /** @throws an error named ConditionalCheckFailedException when the order is not at `expectedVersion`. */
  putOrder(order: OrderItem, expectedVersion: number): Promise<void>;
  readBalances(): Promise<BalancesItem>;
  /** The assets held, without creating the books (a reader that may not write them). */
  peekAssets(): Promise<Assets>;
  /** @throws an error named ConditionalCheckFailedException when the balances are not at `books.version`. */
  putBalances(books: BalancesItem): Promise<void>;
  /** Client order ids in one partition of the open-orders index, by symbol and id. */
  queryIndex(partition: string, sortPrefix?: string): Promise<Array<{ clientOrderId: string }>>;
}

/** Index keys follow the state: open orders under OPEN, other orders still settling under UNSETTLED. */
export function withIndexKeys(order: OrderItem): OrderItem {
  const partition = order.status === 'open' ? OPEN_PARTITION : order.pending ? UNSETTLED_PARTITION : undefined;
  return partition === undefined
    ? { ...order, openpk: undefined, opensk: undefined }
    : { ...order, openpk: partition, opensk: `${order.symbol}#${order.clientOrderId}` };
}

/** The item `books` stores: undefined attributes dropped, as the document client does. */
export function storedOrder(order: OrderItem): OrderItem {
  return toItem(order) as unknown as OrderItem;
}

export function orderPk(clientOrderId: string): string {
  return `ORDER#${clientOrderId}`;
}

export function isConditionFailed(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

/** A broken invariant of the paper books: never retried blindly. */
export function paperInternal(message: string, details: Record<string, unknown> = {}): TradewardenError {
  return new TradewardenError(ErrorCode.Internal, `paper exchange: ${message}`, false, { details });
}

/** Drops undefined attributes: the document client refuses them unless told otherwise. */
export function toItem(order: OrderItem): Record<string, unknown> {
  return Object.fromEntries(Object.entries(order).filter(([, value]) => value !== undefined));
}
