import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbTunablesStore, RISK_KEY, TUNABLES_KEY } from '../../shared/adapters/aws/dynamodb-tunables-store.js';
import { ConcurrentModificationError, StorageError, ValidationError } from '../../shared/domain/errors.js';
import { createTables } from '../../local-runtime/provision.js';
import { startTestDynamo, type TestDynamo } from '../support/emulators.js';

let dynamo: TestDynamo;
let tableSet = 0;
const AT = new Date('2026-05-01T12:00:00Z');

beforeAll(async () => {
  dynamo = await startTestDynamo();
});

afterAll(async () => {
  await dynamo.stop();
});

describe('Class: DynamoDbTunablesStore', () => {
  let table: string;
  let store: DynamoDbTunablesStore;

  beforeEach(async () => {
    tableSet += 1;
    table = (await createTables(dynamo.client, `tunables${tableSet}`))['StateTable'] ?? '';
    store = new DynamoDbTunablesStore({ doc: dynamo.doc, table });
  });

  it('reads an empty record as no overrides at version 0, then round-trips a record', async () => {
    expect(await store.getTunables()).toEqual({ tunables: {}, version: 0 });
    const tunables = { maxOpenPositions: 3, stopLossPercent: '2.5', strategies: { 'ma-crossover': { enabled: true, symbols: { 'BTC/USDT': false }, params: { fastPeriod: 5 } } } };
    await store.putTunables(tunables, 0, 'alice', AT);
    expect(await store.getTunables()).toEqual({ tunables, version: 1, updatedAt: AT.toISOString(), updatedBy: 'alice' });
  });

  it('refuses a write against a stale version and an invalid record', async () => {
    await store.putTunables({ maxOpenPositions: 3 }, 0, 'alice', AT);
    await expect(store.putTunables({ maxOpenPositions: 4 }, 0, 'bob', AT)).rejects.toBeInstanceOf(ConcurrentModificationError);
    await expect(store.putTunables({ maxOpenPositions: -1 }, 1, 'bob', AT)).rejects.toBeInstanceOf(ValidationError);
    await expect(store.putTunables({ maxOpenPositons: 4 } as never, 1, 'bob', AT)).rejects.toBeInstanceOf(ValidationError);
    expect((await store.getTunables()).tunables).toEqual({ maxOpenPositions: 3 });
  });

  it('fails loudly on a malformed stored record instead of ignoring it', async () => {
    await dynamo.doc.send(new PutCommand({ TableName: table, Item: { ...TUNABLES_KEY, tunables: { maxOpenPositions: 'lots' }, version: 1 } }));
    await expect(store.getTunables()).rejects.toBeInstanceOf(StorageError);
    await dynamo.doc.send(new PutCommand({ TableName: table, Item: { ...RISK_KEY, risk: { peakEquity: 'NaN', cooldowns: {} }, version: 1 } }));
    await expect(store.getRiskState()).rejects.toBeInstanceOf(StorageError);
  });

  it('keeps the risk record with versioned writes', async () => {
    const state = { peakEquity: '1200', day: '2026-05-01', dayStartEquity: '1100', cooldowns: { 'BTC/USDT': AT.toISOString() } };
    await store.putRiskState(state, 0, AT);
    expect(await store.getRiskState()).toEqual({ state, version: 1 });
    await expect(store.putRiskState({ cooldowns: {} }, 0, AT)).rejects.toBeInstanceOf(ConcurrentModificationError);
  });
});
