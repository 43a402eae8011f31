/**
 * What one run of each function costs in billable requests, measured on the embedded stack by
 * running the real handlers: DynamoDB capacity units (ConsumedCapacity as the emulator reports
 * it), SQS requests, domain events, and the custom metric series each function emits. The cost
 * model (`npm run cost`) multiplies these by runs per month. `npm run bench -- --write-usage`
 * stores them in infra/cost/measured-usage.json.
 *
 * Not counted here, because a deployment adds them: the Lambda event source's own polling of
 * the execution queue (the cost model adds it), and the exchange's API (not an AWS cost).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { MetricSeriesUsage } from '../infra/cost/cost-model.js';
import type { JobName } from '../shared/definitions/schedules.js';
import { ManualClock, startTestStack } from '../test/support/local-runtime.js';
import { marketBuys, sendIntents } from '../testkit/intent-batches.js';

/** Billable requests of one run (one scan, one executed intent, one reconcile, one health check). */
export interface RunUsage {
  /** Wall milliseconds of one run on the embedded stack (an upper bound for Lambda's billed duration). */
  readonly durationMs: number;
  readonly dynamoReadUnits: number;
  readonly dynamoWriteUnits: number;
  readonly dynamoRequests: number;
  readonly sqsRequests: number;
  readonly eventsPublished: number;
}

export interface MeasuredUsage {
  readonly measuredAt: string;
  /** Symbols watched by the measured scans. */
  readonly measuredSymbols: number;
  readonly perRun: Readonly<Record<JobName, RunUsage>>;
  /** Health's read units per run for each order in the state table (0: health does not grow with history). */
  readonly healthReadUnitsPerStoredOrder: number;
  /** Bytes written to the state and audit tables per executed intent (storage growth). */
  readonly storedBytesPerIntent: number;
  /** Custom metric series (`name|service`) with the share of measured runs that published each (CloudWatch bills a series per hour with data). */
  readonly metricSeries: readonly MetricSeriesUsage[];
}

interface Tally {
  readUnits: number;
  writeUnits: number;
  requests: number;
  storedBytes: number;
}

/** Adds ReturnConsumedCapacity to every request of a DynamoDB client and sums what comes back. */
function tallyDynamo(client: DynamoDBClient, paperTable: string): Tally {
  const tally: Tally = { readUnits: 0, writeUnits: 0, requests: 0, storedBytes: 0 };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { TableName?: string; Item?: Record<string, unknown>; ReturnConsumedCapacity?: string };
      const isRead = /^(Get|BatchGet|Query|Scan)/.test(String(context.commandName));
      // The paper exchange's table stands for the exchange's API.
      if (input.TableName === paperTable) return next(args);
      input.ReturnConsumedCapacity = 'TOTAL';
      tally.requests += 1;
      if (input.Item) tally.storedBytes += JSON.stringify(input.Item).length;
      const result = await next(args);
      const consumed = (result.output as { ConsumedCapacity?: unknown }).ConsumedCapacity;
      // The emulator reports CapacityUnits only, as DynamoDB does without a read/write split.
      for (const c of (Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) as { CapacityUnits?: number }[]) {
        if (isRead) tally.readUnits += c.CapacityUnits ?? 0;
        else tally.writeUnits += c.CapacityUnits ?? 0;
      }
      return result;
    },
    { step: 'serialize', priority: 'high', name: 'usageTally' },
  );
  return tally;
}

function tallySqs(client: SQSClient): { requests: number } {
  const tally = { requests: 0 };
  client.middlewareStack.add(
    (next) => async (args) => {
      tally.requests += 1;
      return next(args);
    },
    { step: 'initialize', name: 'usageTally' },
  );
  return tally;
}

/** Runs each function a few times on the default settings and measures one run of each. */
export async function measureUsage(runs = 5): Promise<MeasuredUsage> {
  const symbols = ['BTC/USDT', 'ETH/USDT', 'SOL/USDT'];
  const t = await startTestStack({ TW_WATCHLIST: symbols.join(','), TW_PAPER_INITIAL_QUOTE: '100000000', TW_MAX_EXPOSURE_PER_SYMBOL: '100000000' });
  /** Publications per series while a job's runs are measured, and how many runs that was. */
  const published = new Map<string, number>();
  const measuredRuns: Partial<Record<JobName, number>> = {};
  let measuring: JobName | undefined;
  const original = Object.getOwnPropertyDescriptor(Metrics.prototype, 'addMetric');
  try {
    const clock = new ManualClock(new Date(Date.now() - (Date.now() % 60_000) + 30_000));
    const runtime = t.runtime({ clock });
    const serviceOf = new Map<object, string>(Object.entries(runtime.containers).map(([job, c]) => [c.observability.metrics, job]));
    // Every metric series a function emits, with the service dimension Powertools adds.
    const addMetric = Metrics.prototype.addMetric;
    Metrics.prototype.addMetric = function (this: Metrics, name: string, ...rest: unknown[]) {
      const job = serviceOf.get(this) ?? 'cold-start';
      if (job === measuring) published.set(`${name}|${job}`, (published.get(`${name}|${job}`) ?? 0) + 1);
      return (addMetric as (...a: unknown[]) => void).call(this, name, ...rest);
    } as Metrics['addMetric'];

    const tallies = Object.fromEntries(
      (Object.keys(runtime.containers) as JobName[]).map((job) => {
        const c = runtime.containers[job];
        let events = 0;
        const publish = c.events.publish.bind(c.events);
        (c.events as { publish: typeof publish }).publish = async (...a) => {
          events += 1;
          return publish(...a);
        };
        return [job, { dynamo: tallyDynamo(c.ddb, t.config.paperTable), sqs: tallySqs(c.sqs), events: () => events }];
      }),
    ) as Record<JobName, { dynamo: Tally; sqs: { requests: number }; events: () => number }>;
    const snapshot = (job: JobName) => ({ ...tallies[job].dynamo, sqs: tallies[job].sqs.requests, events: tallies[job].events(), at: performance.now() });
    const perRunOf = (job: JobName, before: ReturnType<typeof snapshot>, count: number): RunUsage => {
      const after = snapshot(job);
      return {
        durationMs: Math.round(((after.at - before.at) / count) * 10) / 10,
        dynamoReadUnits: (after.readUnits - before.readUnits) / count,
        dynamoWriteUnits: (after.writeUnits - before.writeUnits) / count,
        dynamoRequests: (after.requests - before.requests) / count,
        sqsRequests: (after.sqs - before.sqs) / count,
        eventsPublished: (after.events - before.events) / count,
      };
    };

    // Warm-up: markets, the account book, one of each.
    await runtime.scan(clock.now());
    await sendIntents(t.sqs, t.config.executionQueueUrl, marketBuys('usage', 3, clock.now(), symbols, 'warm'));
    await runtime.drain();
    await runtime.reconcile();
    await runtime.health();

    const perRun: Partial<Record<JobName, RunUsage>> = {};
    let before = snapshot('scanner');
    measuring = 'scanner';
    measuredRuns.scanner = runs;
    for (let i = 0; i < runs; i += 1) {
      clock.advance(60_000);
      await runtime.scan(clock.now());
    }
    perRun.scanner = perRunOf('scanner', before, runs);
    measuring = undefined;
    await runtime.drain();
    // Measure the executor on intents only: the scans' own intents are executed above.

    before = snapshot('executor');
    const executed = runs * 4;
    await sendIntents(t.sqs, t.config.executionQueueUrl, marketBuys('usage', executed, clock.now(), symbols, 'measured'));
    measuring = 'executor';
    measuredRuns.executor = executed;
    await runtime.drain();
    measuring = undefined;
    perRun.executor = perRunOf('executor', before, executed);
    const storedBytesPerIntent = (snapshot('executor').storedBytes - before.storedBytes) / executed;

    before = snapshot('reconciler');
    measuring = 'reconciler';
    measuredRuns.reconciler = runs;
    for (let i = 0; i < runs; i += 1) {
      clock.advance(300_000);
      await runtime.reconcile();
    }
    measuring = undefined;
    perRun.reconciler = perRunOf('reconciler', before, runs);

    before = snapshot('health');
    measuring = 'health';
    measuredRuns.health = runs;
    for (let i = 0; i < runs; i += 1) await runtime.health();
    measuring = undefined;
    perRun.health = perRunOf('health', before, runs);

    // Does health read more as orders accumulate? Add orders and measure again.
    const extraOrders = 60;
    await sendIntents(t.sqs, t.config.executionQueueUrl, marketBuys('usage', extraOrders, clock.now(), symbols, 'history'));
    await runtime.drain();
    before = snapshot('health');
    for (let i = 0; i < runs; i += 1) await runtime.health();
    const later = perRunOf('health', before, runs);
    const healthReadUnitsPerStoredOrder = Math.max(0, (later.dynamoReadUnits - perRun.health.dynamoReadUnits) / extraOrders);

    return {
      measuredAt: new Date().toISOString(),
      measuredSymbols: symbols.length,
      perRun: perRun as Record<JobName, RunUsage>,
      healthReadUnitsPerStoredOrder,
      storedBytesPerIntent,
      metricSeries: [...published]
        .map(([series, count]) => ({ series, share: Math.min(1, count / (measuredRuns[series.split('|')[1] as JobName] ?? count)) }))
        .sort((a, b) => a.series.localeCompare(b.series)),
    };
  } finally {
    if (original) Object.defineProperty(Metrics.prototype, 'addMetric', original);
    await t.stop();
  }
}
