/**
 * Reads audit records back for people (the console's intent history, OPS-9). The audit table is
 * keyed by stream and sequence; one intent's records live in its symbol's stream and carry its
 * correlation id, so a history is one bounded, filtered query of that stream, newest first.
 */
import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { AuditRecord } from '../../ports/audit-log.js';

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
          FilterExpression: '#cid = :cid',
          ExpressionAttributeNames: { '#stream': 'stream', '#cid': 'correlationId' },
          ExpressionAttributeValues: { ':stream': stream, ':cid': correlationId },
          ScanIndexForward: false,
          Limit: 500,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      examined += out.ScannedCount ?? 0;
      found.push(...((out.Items ?? []) as AuditRecord[]));
      start = out.LastEvaluatedKey;
    } while (start && examined < AUDIT_HISTORY_SCAN_LIMIT);
    return found.reverse();
  }

  /** The latest `limit` records of `stream`, oldest first. */
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
    return ((out.Items ?? []) as AuditRecord[]).reverse();
  }
}
