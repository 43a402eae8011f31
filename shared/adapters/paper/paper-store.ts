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
import type { DecimalString } from '../../domain/money.js';
import { ORDER_SK, PAPER_OPEN_ORDERS_INDEX, isConditionFailed, orderPk, paperInternal, toItem, type Assets, type BalancesItem, type OrderItem, type PaperBooks } from './paper-books.js';

export * from './paper-books.js';

const BALANCES_KEY = { pk: 'BALANCES', sk: 'BALANCES' } as const;

const itemDoesNotExist = 'attribute_not_exists(pk)';
const versionUnchanged = '#version = :expected';

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
