import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTables } from '../../local-runtime/provision.js';
import { DynamoDbControlStore } from '../../shared/adapters/aws/dynamodb-control-store.js';
import { DynamoDbHeartbeatStore } from '../../shared/adapters/aws/dynamodb-heartbeat-store.js';
import { PAUSE_KEY } from '../../shared/adapters/aws/dynamodb-keys.js';
import { ConcurrentModificationError, StorageError } from '../../shared/domain/errors.js';
import type { Clock } from '../../shared/ports/clock.js';
import { startTestDynamo, type TestDynamo } from '../support/emulators.js';

let dynamo: TestDynamo;
let tableSet = 0;

beforeAll(async () => {
  dynamo = await startTestDynamo();
});

afterAll(async () => {
  await dynamo.stop();
});

/** A fresh state table, so each test starts with no heartbeat or control record. */
async function freshStateTable(): Promise<string> {
  tableSet += 1;
  const names = await createTables(dynamo.client, `control${tableSet}`);
  return names['StateTable'] ?? '';
}

const at = (iso: string): Date => new Date(iso);

describe('Class: DynamoDbHeartbeatStore', () => {
  it('lists every job, a job that never ran as its name alone', async () => {
    // Prepare
    const heartbeats = new DynamoDbHeartbeatStore({ doc: dynamo.doc, table: await freshStateTable() });
    await heartbeats.recordStart('scanner', at('2025-01-01T00:00:00Z'));

    // Act
    const listed = await heartbeats.list();

    // Assess
    expect(listed).toEqual([
      { job: 'scanner', lastStart: '2025-01-01T00:00:00.000Z' },
      { job: 'executor' },
      { job: 'reconciler' },
      { job: 'health' },
    ]);
  });

  it('records a failure with its code, then a success that clears the code and keeps the last failure', async () => {
    // Prepare
    const heartbeats = new DynamoDbHeartbeatStore({ doc: dynamo.doc, table: await freshStateTable() });
    await heartbeats.recordStart('reconciler', at('2025-01-01T00:00:00Z'));
    await heartbeats.recordEnd('reconciler', at('2025-01-01T00:00:02Z'), 2000, 'failure', 'EXCHANGE_TRANSIENT');
    const afterFailure = (await heartbeats.list()).find((h) => h.job === 'reconciler');

    // Act
    await heartbeats.recordStart('reconciler', at('2025-01-01T00:05:00Z'));
    await heartbeats.recordEnd('reconciler', at('2025-01-01T00:05:01Z'), 1000, 'success');
    const afterSuccess = (await heartbeats.list()).find((h) => h.job === 'reconciler');

    // Assess
    expect(afterFailure).toEqual({
      job: 'reconciler',
      lastStart: '2025-01-01T00:00:00.000Z',
      lastFailure: '2025-01-01T00:00:02.000Z',
      lastDurationMs: 2000,
      lastOutcome: 'failure',
      lastErrorCode: 'EXCHANGE_TRANSIENT',
    });
    expect(afterSuccess).toEqual({
      job: 'reconciler',
      lastStart: '2025-01-01T00:05:00.000Z',
      lastSuccess: '2025-01-01T00:05:01.000Z',
      lastFailure: '2025-01-01T00:00:02.000Z',
      lastDurationMs: 1000,
      lastOutcome: 'success',
    });
  });

  it('keeps the newer heartbeat when an older invocation reports late', async () => {
    // Prepare
    const heartbeats = new DynamoDbHeartbeatStore({ doc: dynamo.doc, table: await freshStateTable() });
    await heartbeats.recordStart('executor', at('2025-01-01T00:01:00Z'));
    await heartbeats.recordEnd('executor', at('2025-01-01T00:01:05Z'), 5000, 'success');

    // Act
    await heartbeats.recordStart('executor', at('2025-01-01T00:00:00Z'));
    await heartbeats.recordEnd('executor', at('2025-01-01T00:01:04Z'), 64_000, 'failure', 'INTERNAL');

    // Assess
    expect((await heartbeats.list()).find((h) => h.job === 'executor')).toEqual({
      job: 'executor',
      lastStart: '2025-01-01T00:01:00.000Z',
      lastSuccess: '2025-01-01T00:01:05.000Z',
      lastDurationMs: 5000,
      lastOutcome: 'success',
    });
  });
});

describe('Class: DynamoDbControlStore', () => {
  const pause = {
    paused: true,
    reason: 'drift above hard limit',
    author: 'ops@example.com',
    since: '2025-01-01T00:00:00.000Z',
    until: '2025-01-01T06:00:00.000Z',
  };

  describe('Method: getPause', () => {
    it('reads "not paused" when no pause was ever written', async () => {
      const control = new DynamoDbControlStore({ doc: dynamo.doc, table: await freshStateTable() });
      expect(await control.getPause()).toEqual({ paused: false });
    });

    it('propagates a read failure instead of reading "not paused"', async () => {
      const control = new DynamoDbControlStore({ doc: dynamo.doc, table: 'no-such-table' });
      await expect(control.getPause()).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    });

    it('refuses an unreadable pause record with StorageError', async () => {
      // Prepare
      const table = await freshStateTable();
      await dynamo.doc.send(new PutCommand({ TableName: table, Item: { ...PAUSE_KEY, paused: 'yes', version: 1 } }));

      // Act & Assess
      await expect(new DynamoDbControlStore({ doc: dynamo.doc, table }).getPause()).rejects.toBeInstanceOf(StorageError);
    });
  });

  describe('Method: setPause', () => {
    it('round-trips a pause and a resume, replacing the whole record at the next version', async () => {
      // Prepare
      const control = new DynamoDbControlStore({ doc: dynamo.doc, table: await freshStateTable() });

      // Act
      await control.setPause(pause);
      const paused = await control.readPause();
      await control.setPause({ paused: false, author: 'ops@example.com' });
      const resumed = await control.readPause();

      // Assess
      expect(paused).toEqual({ state: pause, version: 1 });
      expect(resumed).toEqual({ state: { paused: false, author: 'ops@example.com' }, version: 2 });
    });

    it('refuses a write made against a stale version with ConcurrentModificationError', async () => {
      // Prepare
      const control = new DynamoDbControlStore({ doc: dynamo.doc, table: await freshStateTable() });
      await control.setPause(pause, 0);
      const { version } = await control.readPause();
      await control.setPause({ paused: false }, version);

      // Act
      const stale = control.setPause({ ...pause, reason: 'stale writer' }, version);

      // Assess
      await expect(stale).rejects.toBeInstanceOf(ConcurrentModificationError);
      expect(await control.readPause()).toEqual({ state: { paused: false }, version: 2 });
    });

    it('refuses to create a first record when one already exists', async () => {
      const control = new DynamoDbControlStore({ doc: dynamo.doc, table: await freshStateTable() });
      await control.setPause(pause, 0);
      await expect(control.setPause({ paused: false }, 0)).rejects.toBeInstanceOf(ConcurrentModificationError);
    });

    it('lets only one of two concurrent writers succeed', async () => {
      const control = new DynamoDbControlStore({ doc: dynamo.doc, table: await freshStateTable() });
      const results = await Promise.allSettled([control.setPause(pause, 0), control.setPause({ ...pause, author: 'other' }, 0)]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    });
  });

  describe('Method: putReport / getReport', () => {
    it('returns null for a kind never reported and the stored report otherwise', async () => {
      // Prepare
      const table = await freshStateTable();
      const control = new DynamoDbControlStore({ doc: dynamo.doc, table, clock: { now: () => at('2025-01-01T00:00:00Z') } });
      const report = { status: 'DEGRADED', reasons: ['scanner stale'], counts: { open: 3 }, note: '', nested: { list: [] } };

      // Act
      const before = await control.getReport('health');
      await control.putReport('health', report);

      // Assess
      expect(before).toBeNull();
      expect(await control.getReport('health')).toEqual(report);
      expect(await control.getReport('scan')).toBeNull();
    });

    it('keeps the newer report when an older one arrives late', async () => {
      // Prepare
      const table = await freshStateTable();
      let now = at('2025-01-01T00:10:00Z');
      const clock: Clock = { now: () => now };
      const control = new DynamoDbControlStore({ doc: dynamo.doc, table, clock });
      await control.putReport('reconciliation', { run: 'newer' });

      // Act
      now = at('2025-01-01T00:05:00Z');
      await control.putReport('reconciliation', { run: 'older' });

      // Assess
      expect(await control.getReport('reconciliation')).toEqual({ run: 'newer' });
    });
  });
});
