/**
 * Executor throughput on the embedded emulators: DynamoDB requests per executed intent, the
 * sequential DynamoDB round trips between an intent's delivery and the exchange call, intents
 * per second with 1 and 8 concurrent workers, and the emulator's own conditional-write rate in
 * the same run for comparison.
 *
 * Requests are counted by a middleware on the executor's real DynamoDB client, once per HTTP
 * attempt (an SDK retry counts again). Requests to the paper exchange's own table are left out
 * of the per-intent count: they stand for the exchange's HTTP API, which a live deployment calls
 * instead; they are reported apart.
 */
import { PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Exchange } from '../shared/ports/exchange.js';
import type { LocalRuntime } from '../local-runtime/runtime.js';
import { startTestStack, type TestStack } from '../test/support/local-runtime.js';
import { marketBuys, sendIntents } from '../testkit/intent-batches.js';

/** Symbols traded by the bench: many FIFO groups, so 8 workers can run in parallel. */
const SYMBOLS = Array.from({ length: 32 }, (_, i) => `B${String(i).padStart(2, '0')}X/USDT`);

export interface ExecutorBench {
  readonly intents: number;
  /** DynamoDB requests per executed intent, 1 worker, the paper exchange's table left out. */
  readonly dynamoRequestsPerIntent: number;
  /** The same split by table and operation (`state:UpdateItem`, ...). */
  readonly requestsPerIntentByOperation: Record<string, number>;
  /** DynamoDB requests of the paper exchange itself (its stand-in for the exchange API). */
  readonly paperExchangeRequestsPerIntent: number;
  /**
   * Sequential DynamoDB round trips from the invocation's start to the exchange's createOrder,
   * for an intent delivered alone (median of several); requests in flight together count once.
   */
  readonly roundTripsBeforeSend: number;
  readonly intentsPerSecond: Record<number, number>;
  readonly conditionalWritesPerSecond: number;
}

interface RequestRecord {
  readonly key: string;
  /** The kind of item addressed (the partition key's prefix: ORDER, ACCOUNT, LOCK, ...), for the trace. */
  readonly what: string;
  readonly startedAt: number;
  endedAt: number;
}

/** Records every HTTP attempt of a DynamoDB client: table kind, operation, start and end. */
class RequestRecorder {
  records: RequestRecord[] = [];
  constructor(client: DynamoDBClient, tables: Readonly<Record<string, string>>) {
    const kindOf = new Map(Object.entries(tables).map(([kind, name]) => [name, kind]));
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { TableName?: string; RequestItems?: Record<string, unknown>; TransactItems?: readonly Record<string, { TableName?: string }>[]; Key?: Record<string, { S?: string }>; Item?: Record<string, { S?: string }> };
        const table = input.TableName ?? Object.keys(input.RequestItems ?? {})[0] ?? Object.values(input.TransactItems?.[0] ?? {})[0]?.TableName ?? '?';
        const operation = String(context.commandName ?? 'Command').replace(/Command$/, '');
        const pk = (input.Key ?? input.Item)?.['pk']?.S ?? (input.Key ?? input.Item)?.['stream']?.S ?? '';
        const record: RequestRecord = { key: `${kindOf.get(table) ?? table}:${operation}`, what: pk.split('#')[0] ?? '', startedAt: performance.now(), endedAt: Number.NaN };
        this.records.push(record);
        try {
          return await next(args);
        } finally {
          record.endedAt = performance.now();
        }
      },
      // Inside the retry middleware: once per attempt.
      { step: 'deserialize', name: 'benchRequestRecorder' },
    );
  }
  reset(): void {
    this.records = [];
  }
}

/** Requests that overlap in time form one round trip; returns how many round trips `records` took. */
function roundTrips(records: readonly RequestRecord[]): number {
  const sorted = [...records].sort((a, b) => a.startedAt - b.startedAt);
  let trips = 0;
  let busyUntil = Number.NEGATIVE_INFINITY;
  for (const r of sorted) {
    if (r.startedAt >= busyUntil) trips += 1;
    busyUntil = Math.max(busyUntil, r.endedAt);
  }
  return trips;
}

/** The requests of one invocation in start order, `+` for those started while another was in flight, `|` at the send. */
function traceOf(records: readonly RequestRecord[], sentAt: number): string {
  const sorted = [...records].sort((a, b) => a.startedAt - b.startedAt);
  let busyUntil = Number.NEGATIVE_INFINITY;
  let sent = false;
  const lines: string[] = [];
  for (const r of sorted) {
    if (!sent && r.startedAt >= sentAt) {
      lines.push('| createOrder');
      sent = true;
    }
    lines.push(`${r.startedAt < busyUntil ? '+' : ' '} ${r.key} ${r.what}`);
    busyUntil = Math.max(busyUntil, r.endedAt);
  }
  return lines.join('\n');
}

/** Notes when the exchange's createOrder is called (after the circuit breaker admitted it). */
function markingSends(inner: Exchange, onSend: () => void): Exchange {
  return new Proxy(inner, {
    get(target, property, receiver) {
      if (property === 'createOrder') {
        return (...args: Parameters<Exchange['createOrder']>) => {
          onSend();
          return target.createOrder(...args);
        };
      }
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
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

/** Intents delivered one at a time to measure the round trips before the exchange call. */
const ROUND_TRIP_SAMPLES = 7;

export async function benchExecutor(intentsPerRun: number): Promise<ExecutorBench> {
  // Entry limits out of the way (EXE-13 has its own suite): every intent of the bench is executed,
  // none refused for the open positions of its 32 symbols.
  const t = await startTestStack({ TW_WATCHLIST: SYMBOLS.join(','), TW_PAPER_INITIAL_QUOTE: '100000000', TW_MAX_EXPOSURE_PER_SYMBOL: '100000000', TW_MAX_OPEN_POSITIONS: '1000' });
  const tables = { state: t.config.stateTable, audit: t.config.auditTable, idempotency: t.config.idempotencyTable, paper: t.config.paperTable };
  try {
    const intentsPerSecond: Record<number, number> = {};
    let requestsPerIntent = 0;
    let paperRequestsPerIntent = 0;
    const byOperation: Record<string, number> = {};
    for (const workers of [1, 8]) {
      const runtimes = Array.from({ length: workers }, () => t.runtime());
      const recorders = runtimes.map((r) => new RequestRecorder(r.containers.executor.ddb, tables));
      // Warm-up: markets loaded, book opened, clients connected.
      await sendIntents(t.sqs, t.config.executionQueueUrl, marketBuys('bench', workers, new Date(), SYMBOLS, `warm-${workers}`));
      await drainWith(runtimes);
      for (const r of recorders) r.reset();
      await sendIntents(t.sqs, t.config.executionQueueUrl, marketBuys('bench', intentsPerRun, new Date(), SYMBOLS, `run-${workers}`));
      const started = performance.now();
      const done = await drainWith(runtimes);
      const seconds = (performance.now() - started) / 1000;
      intentsPerSecond[workers] = done / seconds;
      if (workers === 1) {
        const records = recorders[0]?.records ?? [];
        const paper = records.filter((r) => r.key.startsWith('paper:')).length;
        requestsPerIntent = (records.length - paper) / done;
        paperRequestsPerIntent = paper / done;
        for (const r of records.filter((x) => !x.key.startsWith('paper:'))) byOperation[r.key] = (byOperation[r.key] ?? 0) + 1 / done;
      }
    }
    const roundTripsBeforeSend = await measureRoundTripsBeforeSend(t, tables);
    const conditionalWritesPerSecond = await conditionalWriteRate(t, 2000);
    return {
      intents: intentsPerRun,
      dynamoRequestsPerIntent: requestsPerIntent,
      requestsPerIntentByOperation: Object.fromEntries(Object.entries(byOperation).map(([k, v]) => [k, Math.round(v * 100) / 100])),
      paperExchangeRequestsPerIntent: paperRequestsPerIntent,
      roundTripsBeforeSend,
      intentsPerSecond,
      conditionalWritesPerSecond,
    };
  } finally {
    await t.stop();
  }
}

/**
 * Delivers intents one by one to a warm executor and counts the sequential DynamoDB round trips
 * from the start of each invocation to its createOrder call; returns the median.
 */
async function measureRoundTripsBeforeSend(t: TestStack, tables: Readonly<Record<string, string>>): Promise<number> {
  let sentAt: number | undefined;
  const runtime = t.runtime({ exchange: ({ paper }) => markingSends(paper as Exchange, () => (sentAt ??= performance.now())) });
  const recorder = new RequestRecorder(runtime.containers.executor.ddb, tables);
  await sendIntents(t.sqs, t.config.executionQueueUrl, marketBuys('bench', 1, new Date(), SYMBOLS, 'trips-warm'));
  await drainWith([runtime]);
  const samples: number[] = [];
  for (const intent of marketBuys('bench', ROUND_TRIP_SAMPLES, new Date(), SYMBOLS, 'trips')) {
    await sendIntents(t.sqs, t.config.executionQueueUrl, [intent]);
    recorder.reset();
    sentAt = undefined;
    await runtime.deliverOnce();
    if (sentAt === undefined) throw new Error(`intent ${intent.id} was not sent to the exchange`);
    const before = recorder.records.filter((r) => !r.key.startsWith('paper:') && r.startedAt < (sentAt ?? 0));
    samples.push(roundTrips(before));
    if (process.env.BENCH_TRACE) console.error(traceOf(recorder.records, sentAt));
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)] ?? Number.NaN;
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
