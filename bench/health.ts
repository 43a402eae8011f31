/**
 * Health's DynamoDB read units per run at 1k and 100k stored orders (PERF-4: flat with history).
 * Health runs on the embedded DynamoDB (dynalite), which reports consumed capacity like DynamoDB;
 * every read health sends asks for it, and the units are summed per run. For comparison the
 * figure of the table scan health used to list locks is measured on the same table.
 */
import { BatchWriteCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDbControlStore } from '../shared/adapters/aws/dynamodb-control-store.js';
import { DynamoDbHeartbeatStore } from '../shared/adapters/aws/dynamodb-heartbeat-store.js';
import { DynamoDbLockService } from '../shared/adapters/aws/dynamodb-lock-service.js';
import { LOCK_PREFIX } from '../shared/adapters/aws/dynamodb-keys.js';
import { DynamoDbCircuitStateReader } from '../functions/health/circuit-states.js';
import { checkHealth } from '../shared/use-cases/check-health.js';
import { CollectingQueue } from '../test/support/fakes.js';
import { startTestDynamo } from '../test/support/emulators.js';

export interface HealthBench {
  readonly storedOrders: number;
  readonly readUnitsPerRun: number;
  readonly readRequestsPerRun: number;
  /** What the former lock listing (a consistent, filtered table scan) read on the same table. */
  readonly tableScanReadUnits: number;
}

const READS = new Set(['GetItemCommand', 'BatchGetItemCommand', 'QueryCommand', 'ScanCommand']);
const BATCH = 25;
const WRITERS = 8;

export async function benchHealth(orderCounts: readonly number[], runs = 3): Promise<HealthBench[]> {
  const dynamo = await startTestDynamo();
  const results: HealthBench[] = [];
  const usage = { units: 0, requests: 0 };
  dynamo.client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = context.commandName ?? '';
      const input = args.input as { ReturnConsumedCapacity?: string };
      if (READS.has(command)) input.ReturnConsumedCapacity ??= 'TOTAL';
      const out = await next(args);
      if (READS.has(command)) {
        usage.requests += 1;
        const consumed = (out.output as { ConsumedCapacity?: { CapacityUnits?: number } | { CapacityUnits?: number }[] }).ConsumedCapacity;
        for (const c of Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) usage.units += c.CapacityUnits ?? 0;
      }
      return out;
    },
    { step: 'initialize', name: 'countReadUnits' },
  );
  try {
    const table = dynamo.tables.state;
    const clock = { now: () => new Date('2026-06-01T12:00:00Z') };
    const locks = new DynamoDbLockService({ doc: dynamo.doc, table });
    // A few locks, one held past its lease.
    await locks.acquire('reconciler', 'reconciler:1', 60_000, new Date('2026-06-01T11:00:00Z'));
    await locks.release(await locks.acquire('symbol:ETH/USDT', 'executor:2', 60_000, clock.now()));
    let stored = 0;
    for (const target of orderCounts) {
      await addOrders(dynamo.doc, table, stored, target);
      stored = target;
      const deps = {
        heartbeats: new DynamoDbHeartbeatStore({ doc: dynamo.doc, table }),
        control: new DynamoDbControlStore({ doc: dynamo.doc, table, clock }),
        queues: new CollectingQueue(),
        locks,
        events: { publish: async () => undefined },
        clock,
        circuits: new DynamoDbCircuitStateReader({ doc: dynamo.doc, table, names: ['binance'] }),
        settings: {
          schedules: { scanner: 60, reconciler: 300, health: 60 },
          staleAfterIntervals: 2,
          staleDataSeconds: 90,
          maxPauseAgeSeconds: 3600,
          deadLetterQueues: ['execution-dlq'],
          dlqFailingDepth: 10,
          executorLatencySeconds: 60,
          intentTtlSeconds: 120,
          mode: 'paper' as const,
        },
      };
      usage.units = 0;
      usage.requests = 0;
      for (let i = 0; i < runs; i += 1) await checkHealth(deps);
      const perRun = { units: usage.units / runs, requests: usage.requests / runs };
      usage.units = 0;
      let startKey: Record<string, unknown> | undefined;
      do {
        const page = await dynamo.doc.send(
          new ScanCommand({
            TableName: table,
            ConsistentRead: true,
            ExclusiveStartKey: startKey,
            FilterExpression: 'begins_with(#pk, :prefix)',
            ExpressionAttributeNames: { '#pk': 'pk' },
            ExpressionAttributeValues: { ':prefix': LOCK_PREFIX },
          }),
        );
        startKey = page.LastEvaluatedKey;
      } while (startKey);
      results.push({ storedOrders: target, readUnitsPerRun: perRun.units, readRequestsPerRun: perRun.requests, tableScanReadUnits: usage.units });
    }
  } finally {
    await dynamo.stop();
  }
  return results;
}

/** Orders `from`..`to` as the order store writes them (every fifth one still open). */
async function addOrders(doc: DynamoDBDocumentClient, table: string, from: number, to: number): Promise<void> {
  let next = from;
  const writer = async () => {
    while (next < to) {
      const start = next;
      next = Math.min(to, next + BATCH);
      const items = [];
      for (let i = start; i < next; i += 1) {
        const id = `tw-${String(i).padStart(32, '0')}`;
        const createdAt = new Date(Date.parse('2026-01-01T00:00:00Z') + i * 1000).toISOString();
        const open = i % 5 === 0 && i < 50;
        items.push({
          pk: `ORDER#${id}`,
          sk: 'ORDER',
          id,
          intentId: id.slice(3),
          symbol: 'BTC/USDT',
          side: 'buy',
          type: 'market',
          state: open ? 'OPEN' : 'FILLED',
          amount: '0.002',
          filled: open ? '0' : '0.002',
          cost: open ? '0' : '100.1',
          fee: '0.1',
          createdAt,
          updatedAt: createdAt,
          version: 3,
          gsi1pk: 'ORDERS',
          gsi1sk: `${createdAt}#${id}`,
          ...(open ? { openpk: 'OPEN', opensk: `${createdAt}#${id}` } : {}),
        });
      }
      let request: Record<string, { PutRequest: { Item: Record<string, unknown> } }[]> | undefined = { [table]: items.map((Item) => ({ PutRequest: { Item } })) };
      while (request && Object.keys(request).length > 0) {
        const out = await doc.send(new BatchWriteCommand({ RequestItems: request }));
        request = out.UnprocessedItems as typeof request;
      }
    }
  };
  await Promise.all(Array.from({ length: WRITERS }, writer));
}
