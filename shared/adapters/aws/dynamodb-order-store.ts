/**
 * Orders in the state table. One item per order, keyed by client order id. Non-terminal orders
 * carry the sparse `open-orders` index keys, so the reconciler pages through exactly the orders
 * that still need work.
 */
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { quoteOf } from '../../domain/drift.js';
import { ConcurrentModificationError, LockLostError } from '../../domain/errors.js';
import { feeOf } from '../../domain/fees.js';
import { assertTransition, isTerminal, type OrderRecord, type OrderState } from '../../domain/order.js';
import type { OrderPatch, OrderStore, Page } from '../../ports/order-store.js';
import { OPEN_ORDERS_INDEX, ORDERS_BY_TIME_INDEX } from '../../definitions/tables.js';
import { isConditionFailed } from './dynamodb-errors.js';

const ORDER_SK = 'ORDER';
const ORDERS_PARTITION = 'ORDER';
const OPEN_PARTITION = 'OPEN';

/** The claim: only the first writer of an order id wins. */
const orderDoesNotExist = 'attribute_not_exists(pk)';
/** A transition applies only to the state and version it was computed from, under a fence no older than the stored one. */
const stateVersionAndFenceMatch =
  '#state = :from AND #version = :version AND (attribute_not_exists(#fence) OR #fence <= :fence)';

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
      ...(isTerminal(order.state) ? {} : { openpk: OPEN_PARTITION, opensk: `${order.createdAt}#${order.id}` }),
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

  async transition(order: OrderRecord, to: OrderState, patch: OrderPatch, fence: number, at: Date): Promise<OrderRecord> {
    assertTransition(order.state, to, { orderId: order.id });
    const names: Record<string, string> = { '#state': 'state', '#version': 'version', '#fence': 'fence', '#updatedAt': 'updatedAt' };
    const values: Record<string, unknown> = {
      ':from': order.state,
      ':to': to,
      ':version': order.version,
      ':next': order.version + 1,
      ':fence': fence,
      ':updatedAt': at.toISOString(),
    };
    const sets = ['#state = :to', '#version = :next', '#fence = :fence', '#updatedAt = :updatedAt'];
    for (const [key, value] of Object.entries(patch)) {
      if (value === undefined) continue;
      names[`#${key}`] = key;
      values[`:${key}`] = value;
      sets.push(`#${key} = :${key}`);
    }
    const remove = isTerminal(to) ? ' REMOVE openpk, opensk' : '';
    try {
      await this.options.doc.send(
        new UpdateCommand({
          TableName: this.options.table,
          Key: orderKey(order.id),
          UpdateExpression: `SET ${sets.join(', ')}${remove}`,
          ConditionExpression: stateVersionAndFenceMatch,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      const current = await this.get(order.id);
      if (current && current.fence > fence) {
        throw new LockLostError(`symbol:${order.symbol}`, { cause: error, details: { orderId: order.id, storedFence: current.fence, fence } });
      }
      throw new ConcurrentModificationError(`order ${order.id} changed since it was read (${order.state} v${order.version})`, {
        cause: error,
        details: { orderId: order.id, expectedState: order.state, expectedVersion: order.version, actualState: current?.state, actualVersion: current?.version },
      });
    }
    const definedPatch = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
    return { ...order, ...definedPatch, state: to, version: order.version + 1, fence, updatedAt: at.toISOString() };
  }

  async listOpen(limit: number, cursor?: string): Promise<Page<OrderRecord>> {
    const out = await this.options.doc.send(
      new QueryCommand({
        TableName: this.options.table,
        IndexName: OPEN_ORDERS_INDEX,
        KeyConditionExpression: 'openpk = :open',
        ExpressionAttributeValues: { ':open': OPEN_PARTITION },
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
