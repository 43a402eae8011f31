/**
 * PERF-2 through the real executor handler on the emulators: the reads of the first round trip
 * (order, pause, book, entry limits, circuit) and of the send's checks (pause, circuit) go out as
 * BatchGetItems, no single-item read of them is left, and the audit's head pointer moves once per
 * intent and stream, in the same write that gives back the symbol lease (which lives on the
 * stream's head item), while every record of the intent is still written (and verifies): 14
 * requests per executed intent. Request counts, not times: the bench measures those
 * (bench/executor.ts).
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../local-runtime/runtime.js';
import { auditHeadKey } from '../../shared/adapters/aws/dynamodb-keys.js';
import { clientOrderIdFor } from '../../shared/domain/order.js';
import type { ExecutionResult } from '../../shared/use-cases/execute-intent.js';
import { ManualClock, type TestStack } from '../support/local-runtime.js';
import { T0, auditRecords, buyIntent, useExecStack } from './exec-support.js';

interface Request {
  readonly operation: string;
  readonly table: string;
  /** The kind of item (the partition key's prefix) of a single-item request. */
  readonly kind: string;
  /** The attributes an UpdateItem sets or removes (names, sorted), to tell its writes apart. */
  readonly updates?: string;
}

function recordRequests(runtime: LocalRuntime, tables: Readonly<Record<string, string>>): Request[] {
  const byName = new Map(Object.entries(tables).map(([kind, name]) => [name, kind]));
  const requests: Request[] = [];
  runtime.containers.executor.ddb.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as {
        TableName?: string;
        RequestItems?: Record<string, unknown>;
        Key?: Record<string, unknown>;
        Item?: Record<string, unknown>;
        UpdateExpression?: string;
        ExpressionAttributeNames?: Record<string, string>;
      };
      const table = input.TableName ?? Object.keys(input.RequestItems ?? {})[0] ?? '?';
      // Marshalled ({ S: ... }) or not, depending on where the document client converts.
      const raw = (input.Key ?? input.Item)?.['pk'];
      const pk = typeof raw === 'string' ? raw : ((raw as { S?: string } | undefined)?.S ?? '');
      const names = input.ExpressionAttributeNames ?? {};
      const updated = [...(input.UpdateExpression ?? '').matchAll(/(#\w+)\s*=|REMOVE\s+([^]*)$/g)].flatMap((m) => (m[1] ? [m[1]] : (m[2] ?? '').split(',').map((n) => n.trim())));
      const updates = updated.length > 0 ? updated.map((n) => names[n] ?? n).sort().join(',') : undefined;
      requests.push({ operation: String(context.commandName).replace(/Command$/, ''), table: byName.get(table) ?? table, kind: pk.split('#')[0] ?? '', ...(updates ? { updates } : {}) });
      return next(args);
    },
    { step: 'initialize', name: 'executorRequests' },
  );
  return requests;
}

describe('Executor requests per intent (PERF-2)', () => {
  let t: TestStack;
  const clock = new ManualClock(T0);

  useExecStack((stack) => (t = stack));

  it('reads in batches and moves the audit head in the write that gives back the lease, every record written and verified', async () => {
    // Prepare: a warm executor (markets loaded, account book opened) on another symbol's stream
    const runtime = t.runtime({ clock });
    const warm = (await runtime.invoke('executor', { intent: buyIntent('requests-warm', clock.now()) })) as ExecutionResult;
    expect(warm.outcome).toBe('executed');
    const requests = recordRequests(runtime, { state: t.config.stateTable, audit: t.config.auditTable, idempotency: t.config.idempotencyTable, paper: t.config.paperTable });
    const intent = buyIntent('requests-1', clock.now(), { symbol: 'ETH/USDT' });

    // Act
    const result = (await runtime.invoke('executor', { intent })) as ExecutionResult;

    // Assess
    expect(result).toMatchObject({ outcome: 'executed', state: 'FILLED' });
    const ofIntent = requests.filter((r) => r.table !== 'paper' && r.kind !== 'HEARTBEAT');
    const state = requests.filter((r) => r.table === 'state');
    const count = (operation: string, kind?: string) => state.filter((r) => r.operation === operation && (kind === undefined || r.kind === kind)).length;
    // The first round trip's reads and the send's checks: two batches, no single read of them.
    expect(count('BatchGetItem')).toBe(2);
    for (const kind of ['ORDER', 'ACCOUNT', 'CONTROL', 'CIRCUIT']) expect(count('GetItem', kind), `GetItem ${kind}`).toBe(0);
    // The new stream's head too is read in the first batch (prepare), not by the first append.
    expect(count('GetItem'), 'single-item reads').toBe(0);
    // The fill's book write starts from the book the reservation wrote: the book is written
    // three times (reservation, fill, release) and never read alone.
    expect(count('PutItem', 'ACCOUNT')).toBe(3);
    const records = (await auditRecords(runtime.containers.executor)).filter((r) => r.stream === 'symbol:ETH/USDT');
    // The claim carries SUBMITTING: `order.submitting` is written beside it, `budget.reserved` after the reservation.
    expect(records.map((r) => r.type)).toEqual(['intent.accepted', 'order.submitting', 'budget.reserved', 'order.sent', 'order.filled']);
    expect(requests.filter((r) => r.table === 'audit' && r.operation === 'PutItem')).toHaveLength(records.length);
    expect(await runtime.containers.executor.audit.verify()).toMatchObject({ valid: true, problems: [] });
    expect((await runtime.containers.executor.orders.get(clientOrderIdFor(intent.id)))?.state).toBe('FILLED');
    // The head moved to the intent's last record (verify above checks its hash), and the lease (on
    // the same item) was given back.
    const { Item: headItem } = await runtime.containers.executor.stateDoc.send(new GetCommand({ TableName: t.config.stateTable, Key: auditHeadKey('symbol:ETH/USDT'), ConsistentRead: true }));
    expect(headItem).toMatchObject({ seq: Math.max(...records.map((r) => r.seq)), expiresAt: 0 });
    expect(headItem?.['owner']).toBeUndefined();
    // No idempotency record: the order record answers duplicates and refuses changed content.
    expect(requests.filter((r) => r.table === 'idempotency')).toEqual([]);
    // In all (the invocation's heartbeats aside), in this order: the lease (on the stream's head
    // item) beside the first batch of reads; `intent.accepted`; the claim into SUBMITTING and
    // `order.submitting`; the reservation and `budget.reserved`; the send's checks; `order.sent`;
    // the fill's book write and `order.filled`; the order's final write; the release of the
    // budget; and ONE write that gives back the lease and moves the head (no separate head update).
    const lease = 'UpdateItem state AUDITHEAD expiresAt,heldpk,name,owner,token';
    const releaseAndHead = 'UpdateItem state AUDITHEAD expiresAt,hash,headpk,headsk,heldpk,owner,seq,stream';
    const record = 'PutItem audit ';
    const shown = ofIntent.map((r) => [r.operation, r.table, r.kind, ...(r.kind === 'AUDITHEAD' ? [r.updates] : [])].join(' '));
    expect(shown).toEqual([
      lease,
      'BatchGetItem state ',
      record,
      'PutItem state ORDER',
      record,
      'PutItem state ACCOUNT',
      record,
      'BatchGetItem state ',
      record,
      'PutItem state ACCOUNT',
      record,
      'UpdateItem state ORDER',
      'PutItem state ACCOUNT',
      releaseAndHead,
    ]);
    expect(ofIntent).toHaveLength(14);
    expect(count('UpdateItem', 'LOCK'), 'no lease item of its own').toBe(0);
  });

  it('gives back the symbol lease when the order record answers a duplicate', async () => {
    // Prepare: an executed intent
    const runtime = t.runtime({ clock });
    const intent = buyIntent('requests-duplicate', clock.now(), { symbol: 'SOL/USDT' });
    expect(await runtime.invoke('executor', { intent })).toMatchObject({ outcome: 'executed' });

    // Act: the same intent again (answered from the order record), then another container
    // executes the next intent of the symbol at once
    const duplicate = await runtime.invoke('executor', { intent });
    const next = await t.runtime({ clock }).invoke('executor', { intent: buyIntent('requests-after-duplicate', clock.now(), { symbol: 'SOL/USDT' }) });

    // Assess: a lease left held by the duplicate would refuse the next intent (LOCK_HELD)
    expect(duplicate).toMatchObject({ outcome: 'already-processed', state: 'FILLED' });
    expect(next).toMatchObject({ outcome: 'executed', state: 'FILLED' });
  });
});
