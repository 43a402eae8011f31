/**
 * Reads audit records back for people (the console's intent history, OPS-9). The audit table is
 * keyed by stream and sequence; one intent's records live in its symbol's stream and carry its
 * correlation id, so a history is one bounded, filtered query of that stream, newest first. A
 * batch item (several records in one item, PERF-2) is expanded into its records.
 */
import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AuditRecord } from '../../ports/audit-log.js';
import { BATCH_RECORDS, expandAuditItems } from './dynamodb-audit-item.js';

/** Records of a stream examined for one history, at most (newest first). */
export const AUDIT_HISTORY_SCAN_LIMIT = 5_000;

export class DynamoDbAuditReader {
  constructor(private readonly options: { readonly doc: DynamoDBDocumentClient; readonly table: string }) {}

  /** Records of `stream` with `correlationId`, oldest first, among its latest AUDIT_HISTORY_SCAN_LIMIT records. */
  async byCorrelation(stream: string, correlationId: string): Promise<AuditRecord[]> {
    const found: AuditRecord[] = [];
    let examined = 0;
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.options.doc.send(
        new QueryCommand({
          TableName: this.options.table,
          KeyConditionExpression: '#stream = :stream',
          // A batch item carries its records' correlation ids inside: it is read and filtered here.
          FilterExpression: '#cid = :cid OR attribute_exists(#records)',
          ExpressionAttributeNames: { '#stream': 'stream', '#cid': 'correlationId', '#records': BATCH_RECORDS },
          ExpressionAttributeValues: { ':stream': stream, ':cid': correlationId },
          ScanIndexForward: false,
          Limit: 500,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      examined += out.ScannedCount ?? 0;
      // Newest first: each item's records reversed too.
      found.push(...(out.Items ?? []).flatMap((item) => expandAuditItems([item]).reverse()).filter((r) => r.correlationId === correlationId));
      start = out.LastEvaluatedKey;
    } while (start && examined < AUDIT_HISTORY_SCAN_LIMIT);
    return found.reverse();
  }

  /** The latest `limit` records of `stream`, oldest first (`limit` items hold at least `limit` records). */
  async latest(stream: string, limit: number): Promise<AuditRecord[]> {
    const out = await this.options.doc.send(
      new QueryCommand({
        TableName: this.options.table,
        KeyConditionExpression: '#stream = :stream',
        ExpressionAttributeNames: { '#stream': 'stream' },
        ExpressionAttributeValues: { ':stream': stream },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return expandAuditItems([...(out.Items ?? [])].reverse()).slice(-limit);
  }
}
