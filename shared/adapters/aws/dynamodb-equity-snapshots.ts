/**
 * Equity snapshots in the state table: `EQUITY#<currency>` / `<bucket start ISO>`. One item per
 * bucket (the reconciler's interval in the container, a minute by default), so extra runs (ad hoc
 * invokes, retries) add no items; the TTL attribute lets DynamoDB drop old ones (clean-up only:
 * readers never depend on it, they read the latest N).
 */
import { PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { StorageError, ValidationError } from '../../domain/errors.js';
import type { EquitySnapshot, EquitySnapshotStore } from '../../ports/equity-snapshots.js';

export const EQUITY_PREFIX = 'EQUITY#';
/** Default bucket: one snapshot per minute at most. */
export const EQUITY_BUCKET_MS = 60_000;
/** DynamoDB may delete snapshots older than this (clean-up only). */
export const EQUITY_RETENTION_DAYS = 90;
/** Most snapshots one read returns: 1,000 one-minute points is about 17 hours. */
export const EQUITY_READ_LIMIT = 1_000;

export class DynamoDbEquitySnapshotStore implements EquitySnapshotStore {
  constructor(private readonly options: { readonly doc: DynamoDBDocumentClient; readonly table: string; readonly bucketMs?: number }) {}

  async record(snapshot: EquitySnapshot): Promise<void> {
    const at = Date.parse(snapshot.at);
    if (Number.isNaN(at)) throw new ValidationError(`equity snapshot time is not a date: ${snapshot.at}`);
    const bucketMs = this.options.bucketMs ?? EQUITY_BUCKET_MS;
    const bucket = new Date(Math.floor(at / bucketMs) * bucketMs).toISOString();
    await this.options.doc.send(
      new PutCommand({
        TableName: this.options.table,
        Item: {
          pk: `${EQUITY_PREFIX}${snapshot.currency}`,
          sk: bucket,
          ...snapshot,
          expiresAtEpoch: Math.floor(at / 1000) + EQUITY_RETENTION_DAYS * 86_400,
        },
      }),
    );
  }

  async latest(currency: string, limit: number): Promise<EquitySnapshot[]> {
    if (!Number.isInteger(limit) || limit < 1 || limit > EQUITY_READ_LIMIT) throw new ValidationError(`limit must be 1 to ${EQUITY_READ_LIMIT}`);
    const out = await this.options.doc.send(
      new QueryCommand({
        TableName: this.options.table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `${EQUITY_PREFIX}${currency}` },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return (out.Items ?? [])
      .map((item) => {
        if (typeof item.at !== 'string' || typeof item.equity !== 'string' || typeof item.realizedPnl !== 'string') {
          throw new StorageError(`equity snapshot ${String(item.sk)} is malformed`);
        }
        return { at: item.at, currency, equity: item.equity, realizedPnl: item.realizedPnl };
      })
      .reverse();
  }
}
