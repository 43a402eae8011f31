/**
 * The circuit breaker's state is shared by every function instance through the state table
 * (RISK-5): two adapter instances with their own DynamoDB clients see one circuit.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CircuitBreakerExchange } from '../../shared/adapters/exchange/circuit-breaker-exchange.js';
import { DynamoDbCircuitStore, circuitKey } from '../../shared/adapters/aws/dynamodb-circuit-store.js';
import { CircuitOpenError, type CircuitSettings } from '../../shared/domain/circuit.js';
import { ExchangeTransientError } from '../../shared/domain/errors.js';
import { createTables } from '../../local-runtime/provision.js';
import { FakeExchange } from '../support/fakes.js';
import { ManualClock } from '../support/local-runtime.js';
import { TEST_CREDENTIALS, TEST_REGION, startTestDynamo, type TestDynamo } from '../support/emulators.js';

const SETTINGS: CircuitSettings = { failureThreshold: 3, openMs: 30_000, probeLeaseMs: 10_000 };

let dynamo: TestDynamo;
let otherClient: DynamoDBClient;
let tableSet = 0;

beforeAll(async () => {
  dynamo = await startTestDynamo();
  otherClient = new DynamoDBClient({ endpoint: dynamo.emulator.endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS });
});

afterAll(async () => {
  otherClient.destroy();
  await dynamo.stop();
});

/** One "function instance": its own DynamoDB client, store and wrapped exchange. */
function instance(doc: DynamoDBDocumentClient, table: string, clock: ManualClock, inner: FakeExchange): CircuitBreakerExchange {
  return new CircuitBreakerExchange({
    inner,
    store: new DynamoDbCircuitStore({ doc, table, clock }),
    clock,
    settings: SETTINGS,
    onRecordError: (error) => {
      throw error;
    },
  });
}

describe('Circuit state shared through DynamoDB', () => {
  let table: string;
  let clock: ManualClock;
  let innerA: FakeExchange;
  let innerB: FakeExchange;
  let a: CircuitBreakerExchange;
  let b: CircuitBreakerExchange;
  let callsB: number;

  beforeEach(async () => {
    tableSet += 1;
    table = (await createTables(dynamo.client, `circuit${tableSet}`))['StateTable'] ?? '';
    clock = new ManualClock(new Date('2026-05-01T12:00:00Z'));
    innerA = new FakeExchange();
    innerB = new FakeExchange();
    callsB = 0;
    const realB = innerB.fetchTickers.bind(innerB);
    innerB.fetchTickers = async (symbols) => {
      callsB += 1;
      return realB(symbols);
    };
    a = instance(dynamo.doc, table, clock, innerA);
    b = instance(DynamoDBDocumentClient.from(otherClient), table, clock, innerB);
    innerA.fetchTickers = async () => {
      throw new ExchangeTransientError('503 Service Unavailable');
    };
  });

  it('opens on one instance and blocks calls on the other, then one probe closes it for both', async () => {
    // Act: instance A fails three times in a row.
    for (let i = 0; i < 3; i += 1) await expect(a.fetchTickers(['BTC/USDT'])).rejects.toBeInstanceOf(ExchangeTransientError);

    // Assess: B refuses without calling its exchange; the record is what health reads.
    await expect(b.fetchTickers(['BTC/USDT'])).rejects.toBeInstanceOf(CircuitOpenError);
    expect(callsB).toBe(0);
    const { Item } = await dynamo.doc.send(new GetCommand({ TableName: table, Key: circuitKey(innerA.id), ConsistentRead: true }));
    expect(Item).toMatchObject({ pk: 'CIRCUIT#fake', sk: 'CIRCUIT', state: 'open', consecutiveFailures: 3, retryAt: clock.now().getTime() + 30_000, lastFailure: expect.stringMatching(/503/) });

    // Act: after the cool-down, B probes and succeeds.
    clock.advance(30_000);
    expect(await b.fetchTickers(['BTC/USDT'])).toHaveLength(1);

    // Assess: closed for A too.
    innerA.fetchTickers = FakeExchange.prototype.fetchTickers.bind(innerA);
    expect(await a.fetchTickers(['BTC/USDT'])).toHaveLength(1);
    expect((await a.circuit()).status).toBe('closed');
  });

  it('lets exactly one of two concurrent instances make the half-open probe', async () => {
    for (let i = 0; i < 3; i += 1) await expect(a.fetchTickers(['BTC/USDT'])).rejects.toThrow();
    clock.advance(30_000);
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let probes = 0;
    for (const inner of [innerA, innerB]) {
      inner.fetchTickers = async () => {
        probes += 1;
        await gate;
        return [];
      };
    }

    // Act: both instances try at once while the probe is in flight.
    const results = await Promise.allSettled([
      a.fetchTickers(['BTC/USDT']),
      b.fetchTickers(['BTC/USDT']),
      (async () => {
        await new Promise((r) => setTimeout(r, 50));
        release();
      })(),
    ]);

    // Assess
    expect(probes).toBe(1);
    expect(results.slice(0, 2).filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason)).toEqual([expect.any(CircuitOpenError)]);
    expect((await b.circuit()).status).toBe('closed');
  });
});
