/**
 * Whole-state snapshots, to prove that an operation changed nothing: every item of every table
 * and the depth of every queue.
 */
import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Config } from '../../shared/runtime/config.js';
import type { QueueInspector } from '../../shared/ports/intent-queue.js';

export async function snapshotState(
  doc: DynamoDBDocumentClient,
  config: Config,
  queues: QueueInspector,
  ignore: (item: Record<string, unknown>) => boolean = () => false,
): Promise<string> {
  const tables = [config.stateTable, config.auditTable, config.idempotencyTable, config.paperTable];
  const out: Record<string, unknown[]> = {};
  for (const table of tables) {
    const items: unknown[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await doc.send(new ScanCommand({ TableName: table, ConsistentRead: true, ...(start ? { ExclusiveStartKey: start } : {}) }));
      items.push(...(page.Items ?? []).filter((i) => !ignore(i)));
      start = page.LastEvaluatedKey;
    } while (start);
    out[table] = items.map((i) => JSON.stringify(i)).sort();
  }
  return JSON.stringify({ tables: out, queues: await queues.depths() });
}
