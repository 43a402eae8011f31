/**
 * Orders in the state table: persistence only (the order aggregate decides every change). One item per order, keyed by client order id. Non-terminal orders
 * carry the sparse `open-orders` index keys, so the reconciler pages through exactly the orders
 * that still need work.
 */
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { quoteOf } from '../../domain/drift.js';
import { ConcurrentModificationError, LockLostError } from '../../domain/errors.js';
import { feeOf } from '../../domain/fees.js';
import { isTerminal, type OrderRecord } from '../../domain/order.js';
import type { OrderStore, Page } from '../../ports/order-store.js';
import { OPEN_ORDERS_INDEX, ORDERS_BY_TIME_INDEX } from '../../definitions/tables.js';
import { isConditionFailed } from './dynamodb-errors.js';

const ORDER_SK = 'ORDER';
/** Partition of the orders-by-time index that holds every order. */
export const ORDERS_PARTITION = 'ORDER';
const OPEN_PARTITION = 'OPEN';
/** Ended orders watched for a late fill share the sparse index under their own partition. */
const WATCH_PARTITION = 'WATCH';

/** The open-orders index partition an order belongs in: live, watched, or none. */
function indexPartition(order: OrderRecord): string | undefined {
  if (!isTerminal(order.state)) return OPEN_PARTITION;
  return order.watchUntil ? WATCH_PARTITION : undefined;
}

/** The claim: only the first writer of an order id wins. */
const orderDoesNotExist = 'attribute_not_exists(pk)';
/** A save applies only to the version it was computed from, under a fence no older than the stored one. */
const versionAndFenceMatch = 'attribute_exists(pk) AND #version = :expected AND (attribute_not_exists(#fence) OR #fence <= :fence)';

/** Attributes an order may drop from one version to the next. */
const OPTIONAL_ATTRIBUTES = ['reason', 'firstNotFoundAt', 'stateBeforeCancel', 'exchangeOrderId', 'limitPrice', 'trades', 'watchUntil'] as const satisfies readonly (keyof OrderRecord)[];

const orderKey = (id: string) => ({ pk: `ORDER#${id}`, sk: ORDER_SK });

type OrderItem = OrderRecord & { pk: string; sk: string; gsi1pk: string; gsi1sk: string; openpk?: string; opensk?: string };

function toRecord(item: Record<string, unknown>): OrderRecord {
  const { pk: _pk, sk: _sk, gsi1pk: _g1, gsi1sk: _g2, openpk: _o1, opensk: _o2, fee, ...record } = item as unknown as OrderItem & { fee?: string };
  // Orders written before fees were kept per currency carry one quote amount.
  return record.fees === undefined ? { ...record, fees: feeOf(quoteOf(record.symbol), fee ?? '0') } : record;
}

export class DynamoDbOrderStore implements OrderStore {
  constructor(private readonly options: { doc: DynamoDBDocumentClient; table: string }) {}

  async create(order: OrderRecord): Promise<boolean> {
    const item: OrderItem = {
      ...order,
      ...orderKey(order.id),
      gsi1pk: ORDERS_PARTITION,
      gsi1sk: `${order.createdAt}#${order.id}`,
      ...(indexPartition(order) ? { openpk: indexPartition(order), opensk: `${order.createdAt}#${order.id}` } : {}),
    };
    try {
      await this.options.doc.send(new PutCommand({ TableName: this.options.table, Item: item, ConditionExpression: orderDoesNotExist }));
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }

  async get(id: string): Promise<OrderRecord | null> {
    const out = await this.options.doc.send(new GetCommand({ TableName: this.options.table, Key: orderKey(id), ConsistentRead: true }));
    return out.Item ? toRecord(out.Item) : null;
  }

  async save(next: OrderRecord, expected: { readonly version: number; readonly fence: number }): Promise<OrderRecord> {
    const stored: OrderRecord = { ...next, fence: expected.fence };
    const names: Record<string, string> = { '#version': 'version', '#fence': 'fence' };
    const values: Record<string, unknown> = { ':expected': expected.version, ':fence': expected.fence };
    const sets: string[] = [];
    for (const [key, value] of Object.entries(stored)) {
      if (value === undefined || key === 'id') continue;
      names[`#${key}`] = key;
      values[`:${key}`] = value;
      sets.push(`#${key} = :${key}`);
    }
    // Optional attributes the new version no longer has; the open-orders index keys follow the state.
    const removed: string[] = OPTIONAL_ATTRIBUTES.filter((key) => stored[key] === undefined);
    const partition = indexPartition(stored);
    if (!partition) removed.push('openpk', 'opensk');
    else {
      values[':openpk'] = partition;
      values[':opensk'] = `${stored.createdAt}#${stored.id}`;
      sets.push('openpk = :openpk', 'opensk = :opensk');
    }
    const remove = removed.length > 0 ? ` REMOVE ${removed.join(', ')}` : '';
    try {
      await this.options.doc.send(
        new UpdateCommand({
          TableName: this.options.table,
          Key: orderKey(next.id),
          UpdateExpression: `SET ${sets.join(', ')}${remove}`,
          ConditionExpression: versionAndFenceMatch,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      const current = await this.get(next.id);
      if (current && current.fence > expected.fence) {
        throw new LockLostError(`symbol:${next.symbol}`, { cause: error, details: { orderId: next.id, storedFence: current.fence, fence: expected.fence } });
      }
      throw new ConcurrentModificationError(`order ${next.id} changed since it was read (v${expected.version})`, {
        cause: error,
        details: { orderId: next.id, expectedVersion: expected.version, actualState: current?.state, actualVersion: current?.version },
      });
    }
    return stored;
  }

  listOpen(limit: number, cursor?: string): Promise<Page<OrderRecord>> {
    return this.listPartition(OPEN_PARTITION, limit, cursor);
  }

  listWatched(limit: number, cursor?: string): Promise<Page<OrderRecord>> {
    return this.listPartition(WATCH_PARTITION, limit, cursor);
  }

  private async listPartition(partition: string, limit: number, cursor?: string): Promise<Page<OrderRecord>> {
    const out = await this.options.doc.send(
      new QueryCommand({
        TableName: this.options.table,
        IndexName: OPEN_ORDERS_INDEX,
        KeyConditionExpression: 'openpk = :open',
        ExpressionAttributeValues: { ':open': partition },
        Limit: limit,
        ...(cursor ? { ExclusiveStartKey: JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, unknown> } : {}),
      }),
    );
    const items = (out.Items ?? []).map(toRecord);
    const next = out.LastEvaluatedKey ? Buffer.from(JSON.stringify(out.LastEvaluatedKey)).toString('base64url') : undefined;
    return next ? { items, cursor: next } : { items };
  }

  async listRecent(limit: number): Promise<OrderRecord[]> {
    const out = await this.options.doc.send(
      new QueryCommand({
        TableName: this.options.table,
        IndexName: ORDERS_BY_TIME_INDEX,
        KeyConditionExpression: 'gsi1pk = :p',
        ExpressionAttributeValues: { ':p': ORDERS_PARTITION },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return (out.Items ?? []).map(toRecord);
  }
}
