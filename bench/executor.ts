/**
 * Executor throughput on the embedded emulators: DynamoDB requests per executed intent, intents
 * per second with 1 and 8 concurrent workers, and the emulator's own conditional-write rate in
 * the same run for comparison.
 */
import { PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { intentIdFor, type Intent } from '../shared/domain/intent.js';
import type { LocalRuntime } from '../local-runtime/runtime.js';
import { startTestStack, type TestStack } from '../test/support/local-runtime.js';

/** Symbols traded by the bench: many FIFO groups, so 8 workers can run in parallel. */
const SYMBOLS = Array.from({ length: 32 }, (_, i) => `B${String(i).padStart(2, '0')}X/USDT`);

export interface ExecutorBench {
  readonly intents: number;
  readonly dynamoRequestsPerIntent: number;
  readonly intentsPerSecond: Record<number, number>;
  readonly conditionalWritesPerSecond: number;
}

function countRequests(client: DynamoDBClient): { count: number } {
  const counter = { count: 0 };
  client.middlewareStack.add(
    (next) => async (args) => {
      counter.count += 1;
      return next(args);
    },
    { step: 'initialize', name: 'benchRequestCounter' },
  );
  return counter;
}

function intentsFor(batch: string, count: number, now: Date): Intent[] {
  return Array.from({ length: count }, (_, i) => {
    const symbol = SYMBOLS[i % SYMBOLS.length] ?? 'B00X/USDT';
    const id = intentIdFor({ strategy: 'bench', symbol, side: 'buy', slot: `${batch}-${i}` });
    return {
      id,
      strategy: 'bench',
      symbol,
      side: 'buy',
      type: 'market',
      quoteAmount: '20',
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + 3_600_000).toISOString(),
    };
  });
}

async function enqueue(t: TestStack, intents: readonly Intent[]): Promise<void> {
  for (let i = 0; i < intents.length; i += 10) {
    await t.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: t.config.executionQueueUrl,
        Entries: intents.slice(i, i + 10).map((intent, n) => ({ Id: String(n), MessageBody: JSON.stringify(intent), MessageGroupId: intent.symbol, MessageDeduplicationId: intent.id })),
      }),
    );
  }
}

async function drainWith(workers: readonly LocalRuntime[]): Promise<number> {
  let done = 0;
  await Promise.all(
    workers.map(async (w) => {
      for (let idle = 0; idle < 3; ) {
        const d = await w.deliverOnce();
        done += d.succeeded;
        idle = d.received === 0 ? idle + 1 : 0;
      }
    }),
  );
  return done;
}

export async function benchExecutor(intentsPerRun: number): Promise<ExecutorBench> {
  const t = await startTestStack({ TW_WATCHLIST: SYMBOLS.join(','), TW_PAPER_INITIAL_QUOTE: '100000000', TW_MAX_EXPOSURE_PER_SYMBOL: '100000000' });
  try {
    const intentsPerSecond: Record<number, number> = {};
    let requestsPerIntent = 0;
    for (const workers of [1, 8]) {
      const runtimes = Array.from({ length: workers }, () => t.runtime());
      const counters = runtimes.map((r) => countRequests(r.containers.executor.ddb));
      // Warm-up: markets loaded, book opened, clients connected.
      await enqueue(t, intentsFor(`warm-${workers}`, workers, new Date()));
      await drainWith(runtimes);
      for (const c of counters) c.count = 0;
      await enqueue(t, intentsFor(`run-${workers}`, intentsPerRun, new Date()));
      const started = performance.now();
      const done = await drainWith(runtimes);
      const seconds = (performance.now() - started) / 1000;
      intentsPerSecond[workers] = done / seconds;
      if (workers === 1) requestsPerIntent = (counters[0]?.count ?? 0) / done;
    }
    const conditionalWritesPerSecond = await conditionalWriteRate(t, 2000);
    return { intents: intentsPerRun, dynamoRequestsPerIntent: requestsPerIntent, intentsPerSecond, conditionalWritesPerSecond };
  } finally {
    await t.stop();
  }
}

/** The emulator's raw rate of conditional puts (attribute_not_exists), 8 in flight. */
async function conditionalWriteRate(t: TestStack, writes: number): Promise<number> {
  const client = t.runtime().containers.executor.ddb;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < writes) {
        const i = next;
        next += 1;
        await client.send(
          new PutItemCommand({
            TableName: t.config.stateTable,
            Item: { pk: { S: `BENCH#${i}` }, sk: { S: 'BENCH' } },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
      }
    }),
  );
  return writes / ((performance.now() - started) / 1000);
}
