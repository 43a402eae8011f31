/**
 * The audit table's item format (OPS-4, PERF-2). Two kinds of item, both immutable:
 * - a single record: the record's own attributes (`stream`, `seq`, `at`, `type`,
 *   `correlationId`, `data`, `prevHash`, `hash`, `batch`), as every item written before batch
 *   items existed (those still read and verify as they are: no migration);
 * - a batch item: several records decided at the same moment and written with ONE conditional
 *   put. Keyed by the stream and the sequence number of its FIRST record; `records` holds each
 *   record (without `stream`, which the item names) with its own `seq`, `prevHash` and `hash`,
 *   consecutive, so the chain is exactly what single items would have made.
 * Where the next append goes and why two writers from the same predecessor cannot fork the
 * chain: domain/audit-chain.ts ("Batch items").
 *
 * Every reader of the audit table expands items through `recordsOfItem` (verify, the state
 * export, the console's reader, test helpers): a batch item is several records.
 */
import type { ChainHead } from '../../domain/audit-chain.js';
import type { AuditRecord } from '../../ports/audit-log.js';

/** The attribute of a batch item that holds its records. */
export const BATCH_RECORDS = 'records';

const RECORD_ATTRIBUTES = new Set(['stream', 'seq', 'at', 'type', 'correlationId', 'data', 'prevHash', 'hash', 'batch']);
const BATCH_ITEM_ATTRIBUTES = new Set(['stream', 'seq', BATCH_RECORDS]);

/** The item that stores `records` (one stream, consecutive, non-empty): a single record as itself, several as a batch item. */
export function auditItemOf(records: readonly AuditRecord[]): Record<string, unknown> {
  const [first] = records;
  if (!first) throw new TypeError('an audit item holds at least one record');
  if (records.length === 1) return { ...first };
  return { stream: first.stream, seq: first.seq, [BATCH_RECORDS]: records.map(({ stream: _stream, ...rest }) => rest) };
}

/** True for a batch item (several records in one item). */
export function isBatchItem(item: Record<string, unknown>): boolean {
  return BATCH_RECORDS in item;
}

/**
 * The records a stored item holds, oldest first, or why it is not a well-formed audit item (a
 * missing or mistyped attribute, an added one, a batch item whose key is not its first record's
 * sequence number or whose records are not consecutive). Never throws.
 */
export function recordsOfItem(item: Record<string, unknown>): AuditRecord[] | string {
  if (!isBatchItem(item)) {
    const record = parseRecord(item);
    return typeof record === 'string' ? record : [record];
  }
  const extra = Object.keys(item).filter((key) => !BATCH_ITEM_ATTRIBUTES.has(key));
  if (extra.length > 0) return `unexpected attribute(s) ${extra.join(', ')}`;
  const { stream, seq } = item;
  const list = item[BATCH_RECORDS];
  if (typeof stream !== 'string' || typeof seq !== 'number' || !Array.isArray(list) || list.length === 0) return 'a batch item without its stream, sequence number or records';
  const records: AuditRecord[] = [];
  for (const [i, member] of (list as unknown[]).entries()) {
    if (member === null || typeof member !== 'object' || Array.isArray(member)) return `record ${i + 1} of the batch item is not a record`;
    if ('stream' in member) return `record ${i + 1} of the batch item names its own stream`;
    const record = parseRecord({ ...(member as Record<string, unknown>), stream });
    if (typeof record === 'string') return `record ${i + 1} of the batch item: ${record}`;
    if (record.seq !== seq + i) return `the batch item at ${seq} holds record ${record.seq} in place ${i + 1}: not its first record's key or not consecutive`;
    records.push(record);
  }
  return records;
}

/** The last record an item holds (where the chain goes on after it), or null when the item is not a well-formed audit item. */
export function lastLinkOfItem(item: Record<string, unknown>): ChainHead | null {
  const records = recordsOfItem(item);
  if (typeof records === 'string') return null;
  const last = records.at(-1);
  return last ? { seq: last.seq, hash: last.hash } : null;
}

/** Every record of `items`, expanded, oldest first within each item; items that are not audit items are skipped. */
export function expandAuditItems(items: readonly Record<string, unknown>[]): AuditRecord[] {
  return items.flatMap((item) => {
    const records = recordsOfItem(item);
    return typeof records === 'string' ? [] : records;
  });
}

/** The stored single item as a record, or why it is not one (a wrong type or an added attribute). */
function parseRecord(item: Record<string, unknown>): AuditRecord | string {
  const extra = Object.keys(item).filter((key) => !RECORD_ATTRIBUTES.has(key));
  if (extra.length > 0) return `unexpected attribute(s) ${extra.join(', ')}`;
  const { stream, seq, at, type, correlationId, data, prevHash, hash, batch } = item;
  if (
    typeof stream !== 'string' ||
    typeof seq !== 'number' ||
    typeof at !== 'string' ||
    typeof type !== 'string' ||
    (correlationId !== undefined && typeof correlationId !== 'string') ||
    data === null ||
    typeof data !== 'object' ||
    Array.isArray(data) ||
    typeof prevHash !== 'string' ||
    typeof hash !== 'string' ||
    (batch !== undefined && typeof batch !== 'number')
  ) {
    return 'an attribute is missing or has the wrong type';
  }
  return {
    stream,
    seq,
    at,
    type,
    ...(correlationId === undefined ? {} : { correlationId }),
    data: data as Record<string, unknown>,
    prevHash,
    hash,
    ...(batch === undefined ? {} : { batch }),
  };
}
