/**
 * OPS-4 / SEC-5 / PERF-2 on the emulator: records decided at the same moment stored as ONE audit
 * item (one conditional put), each record still with its own seq, prevHash and hash
 * (domain/audit-chain.ts "Batch items", adapters/aws/dynamodb-audit-item.ts). Verify sees every
 * record and catches an edit or deletion inside an item; two writers racing from the same
 * predecessor collide on one key (no fork); the export, the console's reader and the announcing
 * log see every record of a batch item; items written one record each (deployed data) still
 * verify beside batch items.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { AnnouncingAuditLog } from '../../shared/adapters/aws/announcing-audit-log.js';
import { DynamoDbAuditLog } from '../../shared/adapters/aws/dynamodb-audit-log.js';
import { DynamoDbAuditReader } from '../../shared/adapters/aws/dynamodb-audit-reader.js';
import { DynamoDbStateExport } from '../../shared/adapters/aws/dynamodb-state-export.js';
import { auditHeadIndexKeys, auditHeadKey } from '../../shared/adapters/aws/dynamodb-keys.js';
import { hashRecord, sealRecord, type ChainHead } from '../../shared/domain/audit-chain.js';
import type { AuditEntry, AuditRecord } from '../../shared/ports/audit-log.js';
import { TEST_CREDENTIALS, TEST_REGION, type TestDynamo, useAuditTables } from '../support/emulators.js';

let dynamo: TestDynamo;
const freshTables = useAuditTables('items', (started) => (dynamo = started));

const at = (i: number) => new Date(Date.UTC(2026, 11, 2, 0, 0, i));
const STREAM = 'symbol:BTC/USDT';
const entry = (type: string, n: number, correlationId = 'c-1'): AuditEntry => ({ type, correlationId, data: { orderId: `o-${correlationId}`, n } });

async function itemsOf(audit: string, stream: string): Promise<Record<string, unknown>[]> {
  const out = await dynamo.doc.send(new QueryCommand({ TableName: audit, KeyConditionExpression: '#s = :s', ExpressionAttributeNames: { '#s': 'stream' }, ExpressionAttributeValues: { ':s': stream }, ConsistentRead: true }));
  return out.Items ?? [];
}

async function itemAt(audit: string, seq: number): Promise<Record<string, unknown>> {
  const { Item } = await dynamo.doc.send(new GetCommand({ TableName: audit, Key: { stream: STREAM, seq }, ConsistentRead: true }));
  if (!Item) throw new Error(`no item at ${seq}`);
  return Item;
}

/** Replaces a stored item as someone with write access to the table would (outside the log). */
async function overwrite(audit: string, item: Record<string, unknown>): Promise<void> {
  await dynamo.doc.send(new PutCommand({ TableName: audit, Item: item }));
}

/** Records 1, [2, 3, 4] (one item), 5 and [6, 7] (one item), the head at 7. */
async function mixedChain(): Promise<{ log: DynamoDbAuditLog; audit: string; state: string; records: AuditRecord[] }> {
  const names = await freshTables();
  const log = new DynamoDbAuditLog({ doc: dynamo.doc, auditTable: names.audit, stateTable: names.state });
  const records: AuditRecord[] = [];
  records.push(await log.append(STREAM, entry('intent.accepted', 1), at(1)));
  records.push(...(await log.appendBatch(STREAM, [entry('order.submitting', 2), entry('budget.reserved', 3), entry('order.sent', 4)], at(2))));
  records.push(await log.append(STREAM, entry('order.state', 5), at(3)));
  records.push(...(await log.appendBatch(STREAM, [entry('order.sent', 6, 'c-2'), entry('order.filled', 7, 'c-2')], at(4))));
  return { log, ...names, records };
}

describe('Audit batch items (OPS-4, PERF-2)', () => {
  it('stores a batch as one item of consecutive chained records, written with one put, that verifies', async () => {
    // Prepare
    const names = await freshTables();
    const client = new DynamoDBClient({ endpoint: dynamo.emulator.endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS });
    const puts: string[] = [];
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if ((args.input as { TableName?: string }).TableName === names.audit) puts.push(String(context.commandName));
        return next(args);
      },
      { step: 'initialize', name: 'countAuditRequests' },
    );
    const log = new DynamoDbAuditLog({ doc: DynamoDBDocumentClient.from(client), auditTable: names.audit, stateTable: names.state });

    // Act
    const first = await log.append(STREAM, entry('intent.accepted', 1), at(1));
    const last = await log.append(STREAM, [entry('order.sent', 2), entry('order.filled', 3)], at(2));

    // Assess: two items, two puts; the batch item is keyed by its first record's seq
    expect(puts).toEqual(['PutItemCommand', 'PutItemCommand']);
    const items = await itemsOf(names.audit, STREAM);
    expect(items.map((i) => i['seq'])).toEqual([1, 2]);
    const batch = items[1]?.['records'] as AuditRecord[];
    expect(batch.map((r) => [r.seq, r.type])).toEqual([
      [2, 'order.sent'],
      [3, 'order.filled'],
    ]);
    expect(batch[0]?.prevHash).toBe(first.hash);
    expect(batch[1]?.prevHash).toBe(batch[0]?.hash);
    for (const r of batch) expect(hashRecord({ ...r, stream: STREAM })).toBe(r.hash);
    expect(last).toMatchObject({ seq: 3, type: 'order.filled', hash: batch[1]?.hash });
    // The head names the batch's last record; the next append follows it.
    const { Item: head } = await dynamo.doc.send(new GetCommand({ TableName: names.state, Key: auditHeadKey(STREAM), ConsistentRead: true }));
    expect(head).toMatchObject({ seq: 3, hash: last.hash });
    expect(await log.verify()).toEqual({ valid: true, streams: 1, records: 3, checkpoints: 0, problems: [] });
    client.destroy();
  });

  it('refuses an empty batch and one larger than a batch may hold, writing nothing', async () => {
    const names = await freshTables();
    const log = new DynamoDbAuditLog({ doc: dynamo.doc, auditTable: names.audit, stateTable: names.state });
    await expect(log.append(STREAM, [], at(1))).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(log.append(STREAM, Array.from({ length: 33 }, (_, i) => entry('step', i)), at(1))).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(await itemsOf(names.audit, STREAM)).toEqual([]);
  });

  describe('verify detects tampering inside a batch item', () => {
    it('an edited record inside a batch item: edited at its seq', async () => {
      const { log, audit } = await mixedChain();
      const item = await itemAt(audit, 2);
      const records = item['records'] as Record<string, unknown>[];
      await overwrite(audit, { ...item, records: records.map((r) => (r['seq'] === 3 ? { ...r, data: { ...(r['data'] as object), n: 999 } } : r)) });
      expect((await log.verify()).problems).toEqual([{ stream: STREAM, seq: 3, problem: expect.stringMatching(/^edited/) as unknown }]);
    });

    it('a record deleted from the middle of a batch item: the item no longer holds consecutive records', async () => {
      const { log, audit } = await mixedChain();
      const item = await itemAt(audit, 2);
      await overwrite(audit, { ...item, records: (item['records'] as Record<string, unknown>[]).filter((r) => r['seq'] !== 3) });
      const { valid, problems } = await log.verify();
      expect(valid).toBe(false);
      expect(problems).toEqual([{ stream: STREAM, seq: 2, problem: expect.stringContaining('not consecutive') as unknown }]);
    });

    it('the last record deleted from the last batch item: the head pointer is past the chain (tail-missing)', async () => {
      const { log, audit } = await mixedChain();
      const item = await itemAt(audit, 6);
      await overwrite(audit, { ...item, records: (item['records'] as Record<string, unknown>[]).slice(0, 1) });
      expect((await log.verify()).problems).toEqual([{ stream: STREAM, seq: 7, problem: expect.stringMatching(/^tail-missing/) as unknown }]);
    });

    it('a whole batch item deleted: its records are missing', async () => {
      const { log, audit } = await mixedChain();
      await dynamo.doc.send(new DeleteCommand({ TableName: audit, Key: { stream: STREAM, seq: 2 } }));
      expect((await log.verify()).problems).toEqual([{ stream: STREAM, seq: 2, problem: 'missing: records 2..4 are missing: deleted' }]);
    });

    it('a batch item moved to another key, or a record re-chained into a second item: refused as misplaced', async () => {
      // A record written outside the log after the middle of a batch item (seq 3 stored twice)
      const { log, audit, records } = await mixedChain();
      const second = records[1] as ChainHead;
      await overwrite(audit, { ...sealRecord(STREAM, second, { type: 'order.sent', data: { forged: true } }, at(9).toISOString()) });
      const forked = await log.verify();
      expect(forked.valid).toBe(false);
      expect(forked.problems[0]).toMatchObject({ stream: STREAM, seq: 3 });

      // A batch item whose key is not its first record's seq
      const other = await mixedChain();
      const item = await itemAt(other.audit, 6);
      await dynamo.doc.send(new DeleteCommand({ TableName: other.audit, Key: { stream: STREAM, seq: 6 } }));
      await overwrite(other.audit, { ...item, seq: 8 });
      expect((await other.log.verify()).problems[0]).toMatchObject({ stream: STREAM, seq: 6 });
    });
  });

  it('anchors batch items in checkpoints like single items: a consistent rewrite inside a batch item before the checkpoint fails verify (SEC-5)', async () => {
    // Prepare: the chain, and a checkpoint of its head
    const { log, audit, state, records } = await mixedChain();
    const checkpointed = records.at(-1) as AuditRecord;
    const checkpoint = { id: 'cp-1', at: at(5).toISOString(), heads: { [STREAM]: { seq: checkpointed.seq, hash: checkpointed.hash } } };

    // Act: record 3 (inside the item at 2) rewritten, every later record re-sealed in the same
    // item layout and the head moved: a rewrite the chain alone cannot tell
    const rewritten: AuditRecord[] = [records[0] as AuditRecord];
    for (const original of records.slice(1)) {
      const data = original.seq === 3 ? { ...original.data, n: 333 } : original.data;
      rewritten.push(sealRecord(STREAM, rewritten.at(-1) ?? null, { type: original.type, ...(original.correlationId ? { correlationId: original.correlationId } : {}), data }, original.at, original.batch));
    }
    const strip = (r: AuditRecord) => Object.fromEntries(Object.entries(r).filter(([k]) => k !== 'stream'));
    await overwrite(audit, { stream: STREAM, seq: 2, records: rewritten.slice(1, 4).map(strip) });
    await overwrite(audit, { ...rewritten[4] });
    await overwrite(audit, { stream: STREAM, seq: 6, records: rewritten.slice(5, 7).map(strip) });
    const newHead = rewritten.at(-1) as AuditRecord;
    await dynamo.doc.send(new PutCommand({ TableName: state, Item: { ...auditHeadKey(STREAM), ...auditHeadIndexKeys(STREAM), stream: STREAM, seq: newHead.seq, hash: newHead.hash } }));

    // Assess: the chain alone verifies; against the checkpoint it does not, at the rewritten record
    expect(await log.verify()).toMatchObject({ valid: true, records: 7 });
    const anchored = await log.verify({ checkpoints: [checkpoint] });
    expect(anchored.valid).toBe(false);
    expect(anchored.problems[0]).toMatchObject({ stream: STREAM, problem: expect.stringMatching(/^checkpoint-mismatch/) as unknown });
  });

  it('lets exactly one of two writers racing from the same predecessor take the key; the other chains after the whole winning item (no fork)', async () => {
    // Prepare: record 1 and its head; two fresh writers that will both read head 1 before either puts
    const names = await freshTables();
    await new DynamoDbAuditLog({ doc: dynamo.doc, auditTable: names.audit, stateTable: names.state }).append(STREAM, entry('intent.accepted', 1), at(1));
    let headReads = 0;
    let bothRead!: () => void;
    const gate = new Promise<void>((resolve) => (bothRead = resolve));
    const refused: string[] = [];
    const clients: DynamoDBClient[] = [];
    const writer = (name: string) => {
      const client = new DynamoDBClient({ endpoint: dynamo.emulator.endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS });
      client.middlewareStack.add(
        (next, context) => async (args) => {
          const input = args.input as { TableName?: string };
          if (context.commandName === 'GetItemCommand' && input.TableName === names.state) {
            const out = await next(args);
            headReads += 1;
            if (headReads === 2) bothRead();
            return out;
          }
          if (context.commandName === 'PutItemCommand' && input.TableName === names.audit) {
            await gate;
            try {
              return await next(args);
            } catch (error) {
              refused.push(`${name}:${(error as Error).name}`);
              throw error;
            }
          }
          return next(args);
        },
        { step: 'initialize', name: 'raceGate' },
      );
      clients.push(client);
      return new DynamoDbAuditLog({ doc: DynamoDBDocumentClient.from(client), auditTable: names.audit, stateTable: names.state, baseDelayMs: 1 });
    };
    const a = writer('a');
    const b = writer('b');

    // Act: a batch of two and a single record, both chained onto record 1
    const [lastOfA, lastOfB] = await Promise.all([a.append(STREAM, [entry('order.sent', 2, 'a'), entry('order.filled', 3, 'a')], at(2)), b.append(STREAM, entry('order.state', 2, 'b'), at(2))]);

    // Assess: one conditional put refused; four records, each seq once, one chain
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatch(/ConditionalCheckFailed/);
    // The loser chained after the winner's LAST record: a lost the key to b's single record
    // ([2], then a's [3, 4]), or b lost it to a's batch ([2, 3], then b's [4]).
    const aLost = refused[0]?.startsWith('a:') ?? false;
    const items = await itemsOf(names.audit, STREAM);
    expect(items.map((i) => i['seq'])).toEqual(aLost ? [1, 2, 3] : [1, 2, 4]);
    expect({ a: lastOfA.seq, b: lastOfB.seq }).toEqual(aLost ? { a: 4, b: 2 } : { a: 3, b: 4 });
    expect(await a.verify()).toEqual({ valid: true, streams: 1, records: 4, checkpoints: 0, problems: [] });
    for (const client of clients) client.destroy();
  });

  it('shows every record of a batch item to the export, the console reader and the announcing log (notifier)', async () => {
    // Prepare
    const names = await freshTables();
    const published: string[] = [];
    const log = new AnnouncingAuditLog({
      doc: dynamo.doc,
      auditTable: names.audit,
      stateTable: names.state,
      events: { publish: async (detailType, detail) => void published.push(`${detailType}:${String(detail['orderId'])}`) },
      onPublishError: (error) => {
        throw error;
      },
    });

    // Act
    await log.append(STREAM, entry('intent.accepted', 1, 'c-1'), at(1));
    await log.append(STREAM, [entry('order.unknown', 2, 'c-1'), { type: 'order.filled', correlationId: 'c-1', data: { orderId: 'o-c-1', filled: '1', to: 'FILLED' } }], at(2));
    await log.append(STREAM, [entry('order.sent', 4, 'c-2'), { type: 'order.rejected', correlationId: 'c-2', data: { orderId: 'o-c-2', reason: 'test' } }], at(3));

    // Assess: each record of a batch announced, in order
    expect(published).toEqual(['OrderUnknown:o-c-1', 'OrderFilled:o-c-1', 'OrderRejected:o-c-2']);
    // The export: one record per record, each alone (an import stores them one per item)
    const exported: AuditRecord[] = [];
    for await (const record of new DynamoDbStateExport({ doc: dynamo.doc, stateTable: names.state, auditTable: names.audit }).auditRecords({})) exported.push(record);
    expect(exported.map((r) => [r.seq, r.type])).toEqual([
      [1, 'intent.accepted'],
      [2, 'order.unknown'],
      [3, 'order.filled'],
      [4, 'order.sent'],
      [5, 'order.rejected'],
    ]);
    // A time window applies to each record
    const windowed: AuditRecord[] = [];
    for await (const record of new DynamoDbStateExport({ doc: dynamo.doc, stateTable: names.state, auditTable: names.audit }).auditRecords({ from: at(2).toISOString(), to: at(3).toISOString() })) windowed.push(record);
    expect(windowed.map((r) => r.seq)).toEqual([2, 3]);
    // The console's reader: one intent's history, and the latest records
    const reader = new DynamoDbAuditReader({ doc: dynamo.doc, table: names.audit });
    expect((await reader.byCorrelation(STREAM, 'c-1')).map((r) => r.type)).toEqual(['intent.accepted', 'order.unknown', 'order.filled']);
    expect((await reader.byCorrelation(STREAM, 'c-2')).map((r) => r.type)).toEqual(['order.sent', 'order.rejected']);
    expect((await reader.latest(STREAM, 3)).map((r) => r.seq)).toEqual([3, 4, 5]);
    expect((await reader.latest(STREAM, 50)).map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it('verifies items written one record each (deployed data, no migration) followed by batch items, and an export re-imported one record per item', async () => {
    // Prepare: three records as deployed before batch items existed, stored item by item with their head
    const names = await freshTables();
    let prev: ChainHead | null = null;
    for (let i = 1; i <= 3; i += 1) {
      const record = sealRecord(STREAM, prev, { type: 'order.state', correlationId: 'old', data: { i } }, at(i).toISOString());
      await dynamo.doc.send(new PutCommand({ TableName: names.audit, Item: { ...record }, ConditionExpression: 'attribute_not_exists(#s)', ExpressionAttributeNames: { '#s': 'stream' } }));
      prev = record;
    }
    await dynamo.doc.send(new PutCommand({ TableName: names.state, Item: { ...auditHeadKey(STREAM), ...auditHeadIndexKeys(STREAM), stream: STREAM, seq: 3, hash: prev?.hash } }));
    const log = new DynamoDbAuditLog({ doc: dynamo.doc, auditTable: names.audit, stateTable: names.state, batchHeadUpdates: true });
    expect(await log.verify()).toMatchObject({ valid: true, records: 3 });

    // Act: a batch and a single record after them, head moved once
    await log.append(STREAM, [entry('order.sent', 4), entry('order.filled', 5)], at(4));
    await log.append(STREAM, entry('budget.released', 6), at(5));
    await log.settle();

    // Assess
    expect(await log.verify()).toEqual({ valid: true, streams: 1, records: 6, checkpoints: 0, problems: [] });
    expect((await itemsOf(names.audit, STREAM)).map((i) => i['seq'])).toEqual([1, 2, 3, 4, 6]);
    // Exported and imported into fresh tables: one item per record, the same chain, verified
    const target = await freshTables();
    const source = new DynamoDbStateExport({ doc: dynamo.doc, stateTable: names.state, auditTable: names.audit });
    const into = new DynamoDbStateExport({ doc: dynamo.doc, stateTable: target.state, auditTable: target.audit });
    let last: AuditRecord | undefined;
    for await (const record of source.auditRecords({})) {
      await into.restoreAuditRecord(record);
      last = record;
    }
    if (last) await into.restoreAuditHead(STREAM, last);
    const imported = new DynamoDbAuditLog({ doc: dynamo.doc, auditTable: target.audit, stateTable: target.state });
    expect(await imported.verify()).toEqual({ valid: true, streams: 1, records: 6, checkpoints: 0, problems: [] });
  });
});
