/**
 * The paper exchange's storage (PAPER_TABLE): order items and the balances item, read and written
 * one item at a time, every write conditional (on absence, or on the version that was read).
 *
 * Items:
 * - `ORDER#<clientOrderId>` / `ORDER`: one per client order id, never deleted (ids are unique
 *   forever). Open orders carry `openpk = 'OPEN'`, `opensk = '<symbol>#<clientOrderId>'`; an order
 *   that is not open but still has a balance effect to settle carries `openpk = 'UNSETTLED'`, so
 *   every unfinished settlement can be found through the sparse `paper-open-orders` index.
 * - `BALANCES` / `BALANCES`: `assets` (asset -> {free, used}, decimal strings), `outcomes`
 *   (effect id -> 'applied' | 'rejected', only for effects still being settled) and `version`.
 *   Created lazily from the initial balances; every write is conditional on `version`.
 */
import { GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
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
const BALANCES_KEY = { pk: 'BALANCES', sk: 'BALANCES' } as const;

const itemDoesNotExist = 'attribute_not_exists(pk)';
const versionUnchanged = '#version = :expected';

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

/** The order and balances items of one paper table. */
export class PaperStore implements PaperBooks {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    /** Opening free balances, written once when the balances item is first needed. */
    private readonly initialBalances: Readonly<Record<string, DecimalString>>,
  ) {}

  async getOrder(clientOrderId: string): Promise<OrderItem | null> {
    const result = await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk: orderPk(clientOrderId), sk: ORDER_SK }, ConsistentRead: true }));
    return (result.Item as OrderItem | undefined) ?? null;
  }

  /** Writes a new order. @returns false when an order with its client order id exists. */
  async createOrder(order: OrderItem): Promise<boolean> {
    try {
      await this.doc.send(new PutCommand({ TableName: this.table, Item: toItem(order), ConditionExpression: itemDoesNotExist }));
      return true;
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      return false;
    }
  }

  /** Replaces the order if it is still at `expectedVersion`. @throws ConditionalCheckFailedException otherwise. */
  async putOrder(order: OrderItem, expectedVersion: number): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: toItem(order),
        ConditionExpression: versionUnchanged,
        ExpressionAttributeNames: { '#version': 'version' },
        ExpressionAttributeValues: { ':expected': expectedVersion },
      }),
    );
  }

  /** The assets held, read only (no opening write): the opening balances while the item does not exist yet. */
  async peekAssets(): Promise<Assets> {
    const result = await this.doc.send(new GetCommand({ TableName: this.table, Key: BALANCES_KEY, ConsistentRead: true }));
    if (result.Item) return (result.Item as BalancesItem).assets;
    return Object.fromEntries(Object.entries(this.initialBalances).map(([asset, free]) => [asset, { free, used: '0' }]));
  }

  /** Reads the books, creating them from the initial balances on first use. */
  async readBalances(): Promise<BalancesItem> {
    const result = await this.doc.send(new GetCommand({ TableName: this.table, Key: BALANCES_KEY, ConsistentRead: true }));
    if (result.Item) return result.Item as BalancesItem;
    const opening: BalancesItem = {
      ...BALANCES_KEY,
      assets: Object.fromEntries(Object.entries(this.initialBalances).map(([asset, free]) => [asset, { free, used: '0' }])),
      outcomes: {},
      version: 0,
    };
    try {
      await this.doc.send(new PutCommand({ TableName: this.table, Item: opening, ConditionExpression: itemDoesNotExist }));
      return opening;
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
    }
    const created = await this.doc.send(new GetCommand({ TableName: this.table, Key: BALANCES_KEY, ConsistentRead: true }));
    if (!created.Item) throw paperInternal('the balances item exists but cannot be read');
    return created.Item as BalancesItem;
  }

  /** Writes `books` with the next version, conditional on the version it was read at. @throws ConditionalCheckFailedException otherwise. */
  async putBalances(books: BalancesItem): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: { ...books, version: books.version + 1 },
        ConditionExpression: versionUnchanged,
        ExpressionAttributeNames: { '#version': 'version' },
        ExpressionAttributeValues: { ':expected': books.version },
      }),
    );
  }

  /** Client order ids in one partition of the sparse index (eventually consistent in AWS). */
  async queryIndex(partition: string, sortPrefix?: string): Promise<Array<{ clientOrderId: string }>> {
    const found: Array<{ clientOrderId: string }> = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: PAPER_OPEN_ORDERS_INDEX,
          KeyConditionExpression: sortPrefix === undefined ? 'openpk = :p' : 'openpk = :p AND begins_with(opensk, :s)',
          ExpressionAttributeValues: sortPrefix === undefined ? { ':p': partition } : { ':p': partition, ':s': sortPrefix },
          ProjectionExpression: 'clientOrderId',
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of page.Items ?? []) found.push({ clientOrderId: String(item.clientOrderId) });
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return found;
  }
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
function toItem(order: OrderItem): Record<string, unknown> {
  return Object.fromEntries(Object.entries(order).filter(([, value]) => value !== undefined));
}
