/**
 * PERF-2 / OPS-4 / RISK-7 on the emulator: a symbol's lease lives on the head item of the symbol's
 * audit stream, and the executor gives it back and moves the head in ONE conditional write
 * (use-cases/release-lease.ts). The lease still excludes, expires and fences; the head still only
 * moves forward; verify still tells an unacknowledged batch from a deleted tail, a head moved back
 * or a deleted head, with lease attributes on the head item.
 */
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoDbAuditLog } from '../../shared/adapters/aws/dynamodb-audit-log.js';
import { auditHeadKey, lockKey } from '../../shared/adapters/aws/dynamodb-keys.js';
import { DynamoDbLockService } from '../../shared/adapters/aws/dynamodb-lock-service.js';
import { LockHeldError } from '../../shared/domain/errors.js';
import { releaseWithHead } from '../../shared/use-cases/release-lease.js';
import { countingAuditDoc, type TestDynamo, useAuditTables } from '../support/emulators.js';

let dynamo: TestDynamo;
const tablePair = useAuditTables('headlease', (started) => (dynamo = started));

const STREAM = 'symbol:BTC/USDT';
const T0 = new Date('2026-12-01T00:00:00Z');
const LEASE_MS = 30_000;
const later = (ms: number): Date => new Date(T0.getTime() + ms);

interface Setup {
  readonly names: { audit: string; state: string };
  /** Requests by `table:Operation`. */
  readonly counts: Map<string, number>;
  readonly locks: DynamoDbLockService;
  /** An executor's audit log (one head update per batch), on the counted client. */
  readonly log: DynamoDbAuditLog;
  /** Another container's: a new executor instance (batches) or a per-record writer. */
  other(batch: boolean): DynamoDbAuditLog;
  readonly destroy: () => void;
}

async function setUp(): Promise<Setup> {
  const names = await tablePair();
  const { doc, counts, destroy } = countingAuditDoc(dynamo, names);
  const log = new DynamoDbAuditLog({ doc, auditTable: names.audit, stateTable: names.state, batchHeadUpdates: true });
  return {
    names,
    counts,
    locks: new DynamoDbLockService({ doc, table: names.state }),
    log,
    other: (batch) => new DynamoDbAuditLog({ doc: dynamo.doc, auditTable: names.audit, stateTable: names.state, batchHeadUpdates: batch }),
    destroy,
  };
}

async function headItem(s: Setup): Promise<Record<string, unknown> | undefined> {
  const { Item } = await dynamo.doc.send(new GetCommand({ TableName: s.names.state, Key: auditHeadKey(STREAM), ConsistentRead: true }));
  return Item;
}

async function appendSteps(log: DynamoDbAuditLog, from: number, count: number): Promise<{ seq: number; hash: string }> {
  let last = { seq: 0, hash: '' };
  for (let i = from; i < from + count; i += 1) last = await log.append(STREAM, { type: 'step', data: { i } }, later(i));
  return last;
}

describe('Symbol lease on the audit head item', () => {
  it('keeps the lease on the head item: the head is untouched by acquire, the lease excludes, lists and expires', async () => {
    // Prepare: a stream with a head already
    const s = await setUp();
    const last = await appendSteps(s.log, 0, 2);
    await s.log.settle();

    // Act
    const lease = await s.locks.acquire(STREAM, 'executor:a', LEASE_MS, T0);

    // Assess: one item holds both; no LOCK# item; the head is where it was and verifies
    expect(await headItem(s)).toMatchObject({ seq: last.seq, hash: last.hash, owner: 'executor:a', token: lease.token, expiresAt: T0.getTime() + LEASE_MS });
    const { Item: lockItem } = await dynamo.doc.send(new GetCommand({ TableName: s.names.state, Key: lockKey(STREAM), ConsistentRead: true }));
    expect(lockItem).toBeUndefined();
    expect(await s.log.verify()).toMatchObject({ valid: true, problems: [] });
    await expect(s.locks.acquire(STREAM, 'executor:b', LEASE_MS, later(LEASE_MS - 1))).rejects.toBeInstanceOf(LockHeldError);
    expect(await s.locks.list()).toEqual([{ name: STREAM, owner: 'executor:a', token: lease.token, expiresAt: lease.expiresAt }]);
    // A holder that died keeps the lease only until it expires; the token grows by one.
    const next = await s.locks.acquire(STREAM, 'executor:b', LEASE_MS, later(LEASE_MS));
    expect(next.token).toBe(lease.token + 1);
    s.destroy();
  });

  it('has exactly one winner among concurrent acquisitions while the head moves', async () => {
    // Prepare: a stream whose records another writer is settling meanwhile
    const s = await setUp();
    await appendSteps(s.log, 0, 3);

    // Act
    const [results] = await Promise.all([Promise.allSettled(Array.from({ length: 20 }, (_, i) => s.locks.acquire(STREAM, `executor:${i}`, LEASE_MS, T0))), s.log.settle()]);

    // Assess: one lease, the others refused; the head moved all the same
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected' && r.reason instanceof LockHeldError)).toHaveLength(19);
    expect(await headItem(s)).toMatchObject({ seq: 3, owner: (won[0] as PromiseFulfilledResult<{ owner: string }>).value.owner });
    s.destroy();
  });

  it('starts the tokens of a head-item lease above any token a LOCK# item handed out', async () => {
    // Prepare: the lease's former item, at a high token
    const s = await setUp();
    await dynamo.doc.send(new PutCommand({ TableName: s.names.state, Item: { ...lockKey(STREAM), owner: 'old-executor', token: 9_000, expiresAt: 0, name: STREAM } }));

    // Act
    const lease = await s.locks.acquire(STREAM, 'executor:a', LEASE_MS, T0);

    // Assess: an order fenced at 9000 is not refused to the new holder
    expect(lease.token).toBe(T0.getTime() + 1);
    expect(lease.token).toBeGreaterThan(9_000);
    s.destroy();
  });

  it('gives back the lease and moves the head in one write, and settle writes no head update after it', async () => {
    // Prepare: the first intent of a stream, under the lease
    const s = await setUp();
    const lease = await s.locks.acquire(STREAM, 'executor:a', LEASE_MS, T0);
    const last = await appendSteps(s.log, 0, 5);
    s.counts.clear();

    // Act
    await releaseWithHead({ locks: s.locks, audit: s.log }, lease);
    await s.log.settle();

    // Assess
    expect(Object.fromEntries(s.counts)).toEqual({ 'state:UpdateItem': 1 });
    const item = await headItem(s);
    expect(item).toMatchObject({ seq: last.seq, hash: last.hash, expiresAt: 0, headpk: 'AUDITHEAD', headsk: STREAM, stream: STREAM });
    expect(item?.['owner']).toBeUndefined();
    expect(item?.['heldpk']).toBeUndefined();
    expect(await s.log.heads()).toEqual({ [STREAM]: { seq: last.seq, hash: last.hash } });
    expect(await s.log.verify()).toMatchObject({ valid: true, records: 5 });
    expect(await s.locks.acquire(STREAM, 'executor:b', LEASE_MS, later(1))).toMatchObject({ owner: 'executor:b' });
    s.destroy();
  });

  it('leaves records past the head after a crash between them and the release; verify accepts them and the next holder moves the head', async () => {
    // Prepare: a settled first intent, then a holder that appends and dies (no release, no settle)
    const s = await setUp();
    const first = await s.locks.acquire(STREAM, 'executor:a', LEASE_MS, T0);
    const settled = await appendSteps(s.log, 0, 2);
    await releaseWithHead({ locks: s.locks, audit: s.log }, first);
    const dying = await s.locks.acquire(STREAM, 'executor:dies', LEASE_MS, later(1));
    const dead = s.other(true);
    await appendSteps(dead, 10, 4);

    // Assess: an unacknowledged batch, accepted; the lease is held until it expires
    expect(await headItem(s)).toMatchObject({ seq: settled.seq, owner: 'executor:dies', token: dying.token });
    expect(await s.log.verify()).toMatchObject({ valid: true, records: 6 });
    await expect(s.locks.acquire(STREAM, 'executor:next', LEASE_MS, later(2))).rejects.toBeInstanceOf(LockHeldError);

    // Act: another container takes the expired lease, appends and gives it back
    const next = await s.locks.acquire(STREAM, 'executor:next', LEASE_MS, later(1 + LEASE_MS));
    const nextLog = s.other(true);
    const last = await appendSteps(nextLog, 20, 2);
    await releaseWithHead({ locks: s.locks, audit: nextLog }, next);
    await nextLog.settle();

    // Assess: its records follow the dead holder's, and the head is at its last record
    expect(last.seq).toBe(settled.seq + 4 + 2);
    expect(await headItem(s)).toMatchObject({ seq: last.seq, hash: last.hash, expiresAt: 0 });
    expect(await s.log.verify()).toMatchObject({ valid: true, records: 8, problems: [] });
    s.destroy();
  });

  it('lets a holder whose lease was taken move neither the head nor the new holder lease', async () => {
    // Prepare: A appends under a lease that expires; B takes it
    const s = await setUp();
    const stale = await s.locks.acquire(STREAM, 'executor:a', LEASE_MS, T0);
    await appendSteps(s.log, 0, 3);
    const current = await s.locks.acquire(STREAM, 'executor:b', LEASE_MS, later(LEASE_MS));
    const before = await headItem(s);

    // Act: A gives back its lease carrying its head
    const moved = await s.locks.release(stale, s.log.pendingHead(STREAM)?.head);

    // Assess: nothing written; B still holds the lease, and its token fences A's
    expect(moved).toBe(false);
    expect(await headItem(s)).toEqual(before);
    expect(before?.['seq']).toBeUndefined();
    await expect(s.locks.acquire(STREAM, 'executor:c', LEASE_MS, later(LEASE_MS + 1))).rejects.toBeInstanceOf(LockHeldError);
    expect(current.token).toBeGreaterThan(stale.token);
    // A's records stay unacknowledged for its own settle (the head update of every writer: forward only).
    expect(s.log.pendingHead(STREAM)?.head.seq).toBe(3);
    s.destroy();
  });

  it('falls back to the separate head update when another writer moved the head past the records', async () => {
    // Prepare: the holder's records, then a writer without the lease (the reservation sweep)
    // appends after them and moves the head past them
    const s = await setUp();
    const lease = await s.locks.acquire(STREAM, 'executor:a', LEASE_MS, T0);
    const mine = await appendSteps(s.log, 0, 3);
    const sweep = s.other(false);
    const theirs = await sweep.append(STREAM, { type: 'budget.released', data: {} }, later(5));
    expect(theirs.seq).toBe(mine.seq + 1);
    s.counts.clear();

    // Act
    await releaseWithHead({ locks: s.locks, audit: s.log }, lease);
    await s.log.settle();

    // Assess: the combined write failed, the lease was released alone, the log's own head update
    // was a no-op (the head stays at the later record), and the chain verifies
    expect(Object.fromEntries(s.counts)).toEqual({ 'state:UpdateItem': 3 });
    expect(await headItem(s)).toMatchObject({ seq: theirs.seq, hash: theirs.hash, expiresAt: 0 });
    expect(s.log.pendingHead(STREAM)).toBeUndefined();
    expect(await s.log.verify()).toMatchObject({ valid: true, records: 4 });
    expect(await s.locks.acquire(STREAM, 'executor:b', LEASE_MS, later(1))).toMatchObject({ owner: 'executor:b' });
    s.destroy();
  });

  it('falls back when the lease was superseded: the lease stays, and settle moves the head', async () => {
    // Prepare: records under the lease; the combined write is refused for the lease (a holder
    // that re-acquired: the first lease is superseded)
    const s = await setUp();
    const lease = await s.locks.acquire(STREAM, 'executor:a', LEASE_MS, T0);
    const mine = await appendSteps(s.log, 0, 2);
    const again = await s.locks.acquire(STREAM, 'executor:a', LEASE_MS, later(1));

    // Act
    await releaseWithHead({ locks: s.locks, audit: s.log }, lease);
    await s.log.settle();

    // Assess: the head moved by the log's own update, the current lease untouched
    expect(await headItem(s)).toMatchObject({ seq: mine.seq, hash: mine.hash, owner: 'executor:a', token: again.token });
    expect(await s.log.verify()).toMatchObject({ valid: true, records: 2 });
    s.destroy();
  });
});

describe('Verify with lease attributes on the head item', () => {
  /** A stream of two settled intents, its lease held again: records 1..4, head at 4. */
  async function twoIntents(s: Setup): Promise<void> {
    for (const i of [0, 1]) {
      const lease = await s.locks.acquire(STREAM, `executor:${i}`, LEASE_MS, later(i));
      await appendSteps(s.log, i * 10, 2);
      await releaseWithHead({ locks: s.locks, audit: s.log }, lease);
    }
    await s.locks.acquire(STREAM, 'executor:holding', LEASE_MS, later(5));
  }

  it('accepts a lease taken before the stream has any record or head', async () => {
    const s = await setUp();
    await s.locks.acquire(STREAM, 'executor:a', LEASE_MS, T0);
    expect(await s.log.verify()).toMatchObject({ valid: true, streams: 0, problems: [] });
    // The first append finds no head (the item holds only the lease) and starts the chain.
    expect(await s.log.append(STREAM, { type: 'step', data: {} }, T0)).toMatchObject({ seq: 1 });
    s.destroy();
  });

  it('detects a deleted tail (tail-missing)', async () => {
    const s = await setUp();
    await twoIntents(s);
    const { Items } = await dynamo.doc.send(new QueryCommand({ TableName: s.names.audit, KeyConditionExpression: '#s = :s', ExpressionAttributeNames: { '#s': 'stream' }, ExpressionAttributeValues: { ':s': STREAM }, ScanIndexForward: false, Limit: 1, ConsistentRead: true }));
    const lastItem = Items?.[0];
    expect(lastItem).toBeDefined();
    await dynamo.doc.send(new DeleteCommand({ TableName: s.names.audit, Key: { stream: STREAM, seq: lastItem?.['seq'] } }));

    const verdict = await s.log.verify();

    expect(verdict.valid).toBe(false);
    expect(verdict.problems).toEqual([expect.objectContaining({ stream: STREAM, problem: expect.stringMatching(/^tail-missing/) })]);
    s.destroy();
  });

  it('detects a head moved back (head-behind)', async () => {
    const s = await setUp();
    await twoIntents(s);
    await dynamo.doc.send(new UpdateCommand({ TableName: s.names.state, Key: auditHeadKey(STREAM), UpdateExpression: 'SET #seq = :seq', ExpressionAttributeNames: { '#seq': 'seq' }, ExpressionAttributeValues: { ':seq': 1 } }));

    const verdict = await s.log.verify();

    expect(verdict.problems).toEqual([expect.objectContaining({ stream: STREAM, problem: expect.stringMatching(/^head-behind/) })]);
    s.destroy();
  });

  it('detects a deleted head whose item still holds the lease (head-missing)', async () => {
    const s = await setUp();
    await twoIntents(s);
    await dynamo.doc.send(new UpdateCommand({ TableName: s.names.state, Key: auditHeadKey(STREAM), UpdateExpression: 'REMOVE #seq, #hash', ExpressionAttributeNames: { '#seq': 'seq', '#hash': 'hash' } }));

    const verdict = await s.log.verify();

    expect(verdict.problems).toEqual([expect.objectContaining({ stream: STREAM, problem: expect.stringMatching(/^head-missing/) })]);
    expect((await headItem(s))?.['owner']).toBe('executor:holding');
    s.destroy();
  });
});
