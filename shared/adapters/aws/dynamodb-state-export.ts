/**
 * The state tables read page by page for an export, and written back by an import into a fresh
 * stack (OPS-6, OPS-8). Reads use the orders-by-time index (a key condition on the creation
 * time) and a paginated scan of the audit table, each batch item expanded into its records
 * (dynamodb-audit-item.ts); nothing is buffered beyond one page. Restores
 * are conditional puts that never replace an existing record.
 */
import { PutCommand, QueryCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AccountBook } from '../../domain/account.js';
import type { OrderRecord } from '../../domain/order.js';
import { ValidationError } from '../../domain/errors.js';
import type { AuditRecord } from '../../ports/audit-log.js';
import type { ExportSource, ImportTarget, TimeWindow } from '../../operations/ports.js';
import { ORDERS_BY_TIME_INDEX } from '../../definitions/tables.js';
import { recordsOfItem } from './dynamodb-audit-item.js';
import { isConditionFailed } from './dynamodb-errors.js';
import { auditHeadIndexKeys, auditHeadKey } from './dynamodb-keys.js';
import { DynamoDbOrderStore, ORDERS_PARTITION } from './dynamodb-order-store.js';

/** Items per page read. */
const PAGE_SIZE = 500;
/** Sorts after every ISO-8601 time. */
const END_OF_TIME = '9999';

export class DynamoDbStateExport implements ExportSource, ImportTarget {
  constructor(private readonly options: { readonly doc: DynamoDBDocumentClient; readonly stateTable: string; readonly auditTable: string }) {}

  async *orders(window: TimeWindow): AsyncIterable<OrderRecord> {
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.options.doc.send(
        new QueryCommand({
          TableName: this.options.stateTable,
          IndexName: ORDERS_BY_TIME_INDEX,
          KeyConditionExpression: 'gsi1pk = :p AND gsi1sk BETWEEN :from AND :to',
          ExpressionAttributeValues: { ':p': ORDERS_PARTITION, ':from': window.from ?? '', ':to': window.to ?? END_OF_TIME },
          Limit: PAGE_SIZE,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of page.Items ?? []) {
        const { pk: _pk, sk: _sk, gsi1pk: _g1, gsi1sk: g2, openpk: _o1, opensk: _o2, ...order } = item;
        // BETWEEN is inclusive: an order created exactly at `to` belongs to the next window.
        if (window.to && String(g2) >= window.to) continue;
        yield order as OrderRecord;
      }
      start = page.LastEvaluatedKey;
    } while (start);
  }

  async *auditRecords(window: TimeWindow): AsyncIterable<AuditRecord> {
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.options.doc.send(new ScanCommand({ TableName: this.options.auditTable, Limit: PAGE_SIZE, ...(start ? { ExclusiveStartKey: start } : {}) }));
      for (const item of page.Items ?? []) {
        const records = recordsOfItem(item);
        // Not a well-formed audit item: exported as stored, so the damage is kept for verify to report.
        if (typeof records === 'string') {
          const at = String(item['at'] ?? '');
          if (!((window.from && at < window.from) || (window.to && at >= window.to))) yield item as unknown as AuditRecord;
          continue;
        }
        // A batch item is several records, each exported on its own (an import stores them one per item).
        for (const record of records) {
          if ((window.from && record.at < window.from) || (window.to && record.at >= window.to)) continue;
          yield record;
        }
      }
      start = page.LastEvaluatedKey;
    } while (start);
  }

  async restoreBook(book: AccountBook): Promise<void> {
    const { version, ...rest } = book;
    await this.putNew(this.options.stateTable, { pk: `ACCOUNT#${book.currency}`, sk: 'BOOK', version, book: { ...rest, version } }, 'pk', `the account book ${book.currency}`);
  }

  async restoreOrder(order: OrderRecord): Promise<void> {
    // Through the order store's own create, so the index keys are the store's.
    const created = await new DynamoDbOrderStore({ doc: this.options.doc, table: this.options.stateTable }).create(order);
    if (!created) throw new ValidationError(`order ${order.id} already exists: import only into a fresh stack`);
  }

  async restoreAuditRecord(record: AuditRecord): Promise<void> {
    await this.putNew(this.options.auditTable, record as unknown as Record<string, unknown>, 'stream', `audit record ${record.stream} #${record.seq}`);
  }

  async restoreAuditHead(stream: string, head: { readonly seq: number; readonly hash: string }): Promise<void> {
    await this.putNew(this.options.stateTable, { ...auditHeadKey(stream), ...auditHeadIndexKeys(stream), stream, seq: head.seq, hash: head.hash }, 'pk', `the head of audit stream ${stream}`);
  }

  private async putNew(table: string, item: Record<string, unknown>, keyAttribute: string, what: string): Promise<void> {
    try {
      await this.options.doc.send(new PutCommand({ TableName: table, Item: item, ConditionExpression: 'attribute_not_exists(#k)', ExpressionAttributeNames: { '#k': keyAttribute } }));
    } catch (error) {
      if (isConditionFailed(error)) throw new ValidationError(`${what} already exists: import only into a fresh stack`, [], { cause: error });
      throw error;
    }
  }
}
