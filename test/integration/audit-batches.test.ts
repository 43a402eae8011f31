/**
 * OPS-4 / PERF-2 on the emulator: the audit log that moves each stream's head once per batch (the
 * executor's mode, `batchHeadUpdates`). Appends write only their records; `settle()` moves the
 * head, one update per stream. An unacknowledged batch (its writer died before settling) verifies
 * and is healed by the next writer; a batch truncated after its head update does not verify.
 */
import { DeleteCommand, GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { batchingReads } from '../../shared/adapters/aws/batching-reads.js';
import { DynamoDbAuditLog } from '../../shared/adapters/aws/dynamodb-audit-log.js';
import { auditHeadKey } from '../../shared/adapters/aws/dynamodb-keys.js';
import { MAX_UNACKNOWLEDGED } from '../../shared/domain/audit-chain.js';
import { countingAuditDoc, type TestDynamo, useAuditTables } from '../support/emulators.js';

let dynamo: TestDynamo;
const freshTables = useAuditTables('batches', (started) => (dynamo = started));

const countingDoc = (names: { audit: string; state: string }) => countingAuditDoc(dynamo, names);

const at = (i: number) => new Date(Date.UTC(2026, 11, 1, 0, 0, i));

async function headOf(state: string, stream: string): Promise<number | undefined> {
  const { Item } = await dynamo.doc.send(new GetCommand({ TableName: state, Key: auditHeadKey(stream), ConsistentRead: true }));
  return Item?.['seq'] as number | undefined;
}

describe('Class: DynamoDbAuditLog (batchHeadUpdates)', () => {
  it('writes one put per record and one head update per stream when settled', async () => {
    // Prepare
    const names = await freshTables();
    const counting = countingDoc(names);
    const log = new DynamoDbAuditLog({ doc: counting.doc, auditTable: names.audit, stateTable: names.state, batchHeadUpdates: true });

    // Act: five records on one stream and two on another, as one intent's invocation would
    for (let i = 0; i < 5; i += 1) await log.append('symbol:BTC/USDT', { type: 'step', data: { i } }, at(i));
    for (let i = 0; i < 2; i += 1) await log.append('symbol:ETH/USDT', { type: 'step', data: { i } }, at(10 + i));
    const headsBeforeSettle = [await headOf(names.state, 'symbol:BTC/USDT'), await headOf(names.state, 'symbol:ETH/USDT')];
    await log.settle();

    // Assess: the first append of each stream read its (missing) head; no head update before settle
    expect(headsBeforeSettle).toEqual([undefined, undefined]);
    expect(Object.fromEntries(counting.counts)).toEqual({ 'audit:PutItem': 7, 'state:GetItem': 2, 'state:UpdateItem': 2 });
    expect([await headOf(names.state, 'symbol:BTC/USDT'), await headOf(names.state, 'symbol:ETH/USDT')]).toEqual([5, 2]);
    expect(await log.verify()).toMatchObject({ valid: true, records: 7 });
    counting.destroy();
  });

  it('names in each record the head it followed, and chains the next batch without reading the head', async () => {
    // Prepare
    const names = await freshTables();
    const counting = countingDoc(names);
    const log = new DynamoDbAuditLog({ doc: counting.doc, auditTable: names.audit, stateTable: names.state, batchHeadUpdates: true });
    const first = [await log.append('s', { type: 'a', data: {} }, at(1)), await log.append('s', { type: 'b', data: {} }, at(2))];
    await log.settle();
    counting.counts.clear();

    // Act
    const second = [await log.append('s', { type: 'c', data: {} }, at(3)), await log.append('s', { type: 'd', data: {} }, at(4))];
    await log.settle();

    // Assess
    expect([...first, ...second].map((r) => [r.seq, r.batch])).toEqual([[1, 0], [2, 0], [3, 2], [4, 2]]);
    expect(Object.fromEntries(counting.counts)).toEqual({ 'audit:PutItem': 2, 'state:UpdateItem': 1 });
    counting.destroy();
  });

  it('accepts a batch whose writer died before settling, and the next writer heals the head', async () => {
    // Prepare: a batch of three records, never settled (the container died)
    const names = await freshTables();
    const dead = new DynamoDbAuditLog({ doc: dynamo.doc, auditTable: names.audit, stateTable: names.state, batchHeadUpdates: true });
    await dead.append('s', { type: 'a', data: {} }, at(1));
    await dead.settle();
    for (let i = 2; i <= 4; i += 1) await dead.append('s', { type: 'step', data: { i } }, at(i));
    const unacknowledged = await dead.verify();

    // Act: another writer (each mode) appends to the stream
    const next = new DynamoDbAuditLog({ doc: dynamo.doc, auditTable: names.audit, stateTable: names.state, batchHeadUpdates: true });
    const healed = await next.append('s', { type: 'after', data: {} }, at(5));
    await next.settle();
    const plain = new DynamoDbAuditLog({ doc: dynamo.doc, auditTable: names.audit, stateTable: names.state });
    await plain.append('s', { type: 'plain', data: {} }, at(6));

    // Assess
    expect(unacknowledged).toMatchObject({ valid: true, records: 4 });
    expect(healed).toMatchObject({ seq: 5, batch: 4 });
    expect(await headOf(names.state, 's')).toBe(6);
    expect(await plain.verify()).toMatchObject({ valid: true, records: 6, problems: [] });
  });

  it('fails verify when the tail of a settled batch is deleted (a truncated batch)', async () => {
    // Prepare
    const names = await freshTables();
    const log = new DynamoDbAuditLog({ doc: dynamo.doc, auditTable: names.audit, stateTable: names.state, batchHeadUpdates: true });
    for (let i = 1; i <= 4; i += 1) await log.append('s', { type: 'step', data: { i } }, at(i));
    await log.settle();

    // Act
    await dynamo.doc.send(new DeleteCommand({ TableName: names.audit, Key: { stream: 's', seq: 4 } }));
    const verification = await log.verify();

    // Assess
    expect(verification.problems).toEqual([{ stream: 's', seq: 4, problem: expect.stringMatching(/^tail-missing/) }]);
  });

  it('moves the head itself before a stream would hold more than a batch past it', async () => {
    // Prepare
    const names = await freshTables();
    const log = new DynamoDbAuditLog({ doc: dynamo.doc, auditTable: names.audit, stateTable: names.state, batchHeadUpdates: true });

    // Act: more records than one batch may hold, never settled
    for (let i = 1; i <= MAX_UNACKNOWLEDGED + 3; i += 1) await log.append('s', { type: 'step', data: { i } }, at(i));

    // Assess
    expect(await headOf(names.state, 's')).toBe(MAX_UNACKNOWLEDGED);
    expect(await log.verify()).toMatchObject({ valid: true, records: MAX_UNACKNOWLEDGED + 3 });
    const { Items } = await dynamo.doc.send(new ScanCommand({ TableName: names.audit, ConsistentRead: true }));
    const last = Items?.find((item) => item['seq'] === MAX_UNACKNOWLEDGED + 3);
    expect(last?.['batch']).toBe(MAX_UNACKNOWLEDGED);
  });

  it('throws a failed head update from settle and keeps the batch to acknowledge on the next settle', async () => {
    // Prepare: the head update of the first settle is refused
    const names = await freshTables();
    const counting = countingDoc(names);
    let refuse = true;
    counting.doc.middlewareStack.add(
      (next, context) => async (args) => {
        if (refuse && String(context.commandName).startsWith('Update')) {
          refuse = false;
          throw Object.assign(new Error('throttled'), { name: 'ThrottlingException' });
        }
        return next(args);
      },
      { step: 'initialize', name: 'refuseFirstHeadUpdate' },
    );
    const log = new DynamoDbAuditLog({ doc: counting.doc, auditTable: names.audit, stateTable: names.state, batchHeadUpdates: true });
    await log.append('s', { type: 'a', data: {} }, at(1));
    await log.append('s', { type: 'b', data: {} }, at(2));

    // Act & Assess
    await expect(log.settle()).rejects.toThrow('throttled');
    expect(await headOf(names.state, 's')).toBeUndefined();
    await log.settle();
    expect(await headOf(names.state, 's')).toBe(2);
    counting.destroy();
  });

  it('reads the head ahead (prepare) beside other reads, and the append then reads nothing itself', async () => {
    // Prepare: the log on the executor's batching client; a stream with two records
    const names = await freshTables();
    const counting = countingDoc(names);
    const reads = batchingReads(counting.doc, { tables: [names.state] });
    await new DynamoDbAuditLog({ doc: dynamo.doc, auditTable: names.audit, stateTable: names.state }).append('s', { type: 'a', data: {} }, at(1));
    const log = new DynamoDbAuditLog({ doc: reads, auditTable: names.audit, stateTable: names.state, batchHeadUpdates: true });

    // Act: the head read ahead in the same turn as another state read, then the append
    log.prepare('s');
    await reads.send(new GetCommand({ TableName: names.state, Key: { pk: 'ANY#x', sk: 'X' }, ConsistentRead: true }));
    const record = await log.append('s', { type: 'b', data: {} }, at(2));
    await log.settle();

    // Assess
    expect(record).toMatchObject({ seq: 2, batch: 1 });
    expect(Object.fromEntries(counting.counts)).toEqual({ 'state:BatchGetItem': 1, 'audit:PutItem': 1, 'state:UpdateItem': 1 });
    expect(await log.verify()).toMatchObject({ valid: true, records: 2 });
    counting.destroy();
  });

  it('chains correctly onto a head read ahead that another writer outdated meanwhile', async () => {
    // Prepare
    const names = await freshTables();
    const log = new DynamoDbAuditLog({ doc: dynamo.doc, auditTable: names.audit, stateTable: names.state, batchHeadUpdates: true });
    const other = new DynamoDbAuditLog({ doc: dynamo.doc, auditTable: names.audit, stateTable: names.state });
    await other.append('s', { type: 'a', data: {} }, at(1));
    log.prepare('s');
    await new Promise((resolve) => setTimeout(resolve, 50));

    // Act: the other writer appends after the read ahead
    await other.append('s', { type: 'b', data: {} }, at(2));
    const record = await log.append('s', { type: 'c', data: {} }, at(3));
    await log.settle();

    // Assess
    expect(record.seq).toBe(3);
    expect(await headOf(names.state, 's')).toBe(3);
    expect(await log.verify()).toMatchObject({ valid: true, records: 3 });
  });
});
