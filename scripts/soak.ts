/**
 * `npm run soak -- --intents N --crash-rate R --fault-rate F --seed S [--store-fault-rate G]
 *                 [--workers W] [--duplicate-rate D] [--fee-asset quote|base|<ASSET>] [--json]`
 *
 * The whole system under sustained chaos on the embedded stack (in memory), then proof that
 * nothing was lost, duplicated or unbalanced (TST-3, EXE-1, EXE-7, OPS-2, OPS-4):
 *
 * 1. Run. N intents (seeded mix of market buys and sells and marketable limit buys over 16
 *    symbols, a fraction D sent twice) go through the FIFO queue, plus real scanner cycles,
 *    reconciler passes and health checks on their schedules. W executor "Lambda containers"
 *    poll the queue the way the event source does: batches of ten, the production handler with
 *    its retry scheduler (exponential backoff on retryable failures), the queue's visibility
 *    timeout for the rest, DLQ after maxReceiveCount. Chaos meanwhile:
 *    - a fraction R of executor invocations is killed at a random ExecutorStep of a random
 *      record (the afterStep hook throws, and from then on the container is dead: no more
 *      steps, no lock release, no retry scheduling, no deletes; the whole batch comes back
 *      after the visibility timeout, as after a Lambda timeout);
 *    - a fraction F of exchange calls fails like Binance does (local-runtime/chaos.ts);
 *    - optionally a fraction G of DynamoDB calls is throttled or loses its response.
 * 2. Quiesce. Faults stop; the queue is drained, the DLQ redriven (locally: receive, send,
 *    delete), the reconciler run past every grace period, until nothing changes.
 * 3. Measure, through clean clients: exchange orders, duplicates (more than one exchange order
 *    for a client order id, or a createOrder reaching the exchange twice for one), lost intents
 *    (no local order, or one still in flight), the ledger (checkBook, leftover reservations,
 *    cash and every asset against the paper exchange's balances), the audit chain, the DLQ.
 * Exit 1 when anything is duplicated, lost, unbalanced or unverifiable.
 *
 * Time is simulated: one ManualClock drives the functions, and `Date.now` (which the SQS
 * emulator and Powertools Idempotency read) moves with it, so backoffs, leases, grace periods
 * and visibility timeouts pass in seconds of real time. With several workers the interleaving,
 * and so the exact figures, vary from run to run; the seed fixes the intents, the crash plan
 * draws and the fault draws.
 */
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { Worker as Thread } from 'node:worker_threads';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import { Chaos, parseFraction } from '../local-runtime/chaos.js';
import { toSqsEvent } from '../local-runtime/sqs-event.js';
import { createTables } from '../local-runtime/provision.js';
import { LOCAL_CREDENTIALS, LOCAL_PREFIX, LOCAL_REGION, localContext, startLocalStack } from '../local-runtime/stack.js';
import { SqsRetryScheduler } from '../shared/adapters/aws/sqs-retry-scheduler.js';
import { seededRandom } from '../testkit/fault-injecting-exchange.js';
import { checkBook } from '../shared/domain/account.js';
import { ValidationError } from '../shared/domain/errors.js';
import { intentIdFor, type Intent } from '../shared/domain/intent.js';
import { Decimal, dec, str } from '../shared/domain/money.js';
import { clientOrderIdFor, isTerminal, type OrderState } from '../shared/domain/order.js';
import type { Clock } from '../shared/ports/clock.js';
import { ENV, loadConfig, type Config } from '../shared/runtime/config.js';
import type { Container } from '../shared/runtime/container.js';
import type { ExecutorStep } from '../shared/use-cases/execute-intent.js';
import { runAsScript } from './run-as-script.js';

/**
 * The functions and the local runtime, loaded when a soak starts rather than with this module,
 * so the environment `main` sets (tracing off, metrics off) is in place before they load.
 */
async function loadFunctions() {
  const [app, runtime, container, ops] = await Promise.all([
    import('../functions/executor/app.js'),
    import('../local-runtime/runtime.js'),
    import('../shared/runtime/container.js'),
    import('./ops.js'),
  ]);
  return {
    createExecutorHandler: app.createExecutorHandler,
    LocalRuntime: runtime.LocalRuntime,
    EXECUTOR_BATCH_SIZE: runtime.EXECUTOR_BATCH_SIZE,
    LOCAL_TIMEOUT_MS: runtime.LOCAL_TIMEOUT_MS,
    createContainer: container.createContainer,
    redriveLocally: ops.redriveLocally,
  };
}
type Functions = Awaited<ReturnType<typeof loadFunctions>>;

/**
 * dynalite on its own thread (a second core): the functions, fauxqs and the soak share the main
 * thread. fauxqs stays there because it reads the simulated `Date.now`; dynalite keeps no time.
 * Its answers carry no Date header: the SDK compares that header with the (simulated) local
 * clock, and a "skew" of more than five minutes makes it retry every error answer, the
 * conditional-check failures included, as if the clock had been corrected.
 */
const DYNALITE_THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const server = require(workerData.dynalite)({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
server.on('request', (req, res) => { res.sendDate = false; });
server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
`;

async function startDynamoThread(): Promise<{ endpoint: string; stop: () => Promise<void> }> {
  const thread = new Thread(DYNALITE_THREAD, { eval: true, workerData: { dynalite: createRequire(import.meta.url).resolve('dynalite') } });
  const [port] = (await once(thread, 'message')) as [number];
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: async () => {
      await thread.terminate();
    },
  };
}

/**
 * Symbols traded by the soak: 48 FIFO message groups. A failed message holds its group until
 * its retry (that is FIFO), so many groups keep the workers busy while some are backing off.
 */
export const SOAK_SYMBOLS = [
  ...['BTC', 'ETH', 'SOL', 'XRP', 'ADA', 'DOGE', 'LINK', 'AVAX', 'DOT', 'LTC', 'BCH', 'ATOM', 'TRX', 'NEAR', 'UNI', 'XLM'],
  ...Array.from({ length: 32 }, (_, i) => `SYN${String(i).padStart(2, '0')}`),
].map((b) => `${b}/USDT`);
/** Deliveries one worker makes per round before the round's clock step and scheduled jobs. */
const DELIVERIES_PER_ROUND = 4;
const EXECUTOR_STEPS: readonly ExecutorStep[] = ['before-claim', 'after-claim', 'after-reserve', 'after-submitting', 'after-exchange-accepted', 'after-record'];
const SOAK_START = new Date('2026-06-01T00:00:00.000Z');
const SECOND = 1000;
/** Simulated time of one round of deliveries, and of a round that found nothing visible. */
const BUSY_STEP_MS = 2 * SECOND;
const IDLE_STEP_MS = 10 * SECOND;
/** Schedules, in simulated time (as on AWS: scanner and health every minute, reconciler every five). */
const SCAN_EVERY_MS = 60 * SECOND;
const RECONCILE_EVERY_MS = 300 * SECOND;
const HEALTH_EVERY_MS = 60 * SECOND;
/** Messages kept queued ahead of the workers. */
const QUEUE_AHEAD_PER_WORKER = 40;
/** Generated intents live this long: an hour, like an operator's replay, longer than any backoff. */
const GENERATED_TTL_MS = 3_600 * SECOND;
/** Past every lease (60 s), the re-send grace (30 s), the settle time (15 s) and the lost-order grace (120 s). */
const PAST_GRACE_MS = 181 * SECOND;
/** Past the stale-reservation bound (900 s by default). */
const PAST_RESERVATION_AGE_MS = 901 * SECOND;
/** Scanner cycles on a calm exchange at the start of quiescence. */
const QUIET_SCANS = 3;
/** Quiescence passes before giving up on "nothing changes". */
const MAX_QUIESCENCE_PASSES = 12;
/** Largest soak accepted on the command line. */
const MAX_INTENTS = 1_000_000;
const MAX_WORKERS = 32;

export interface SoakOptions {
  readonly intents: number;
  readonly crashRate: number;
  readonly faultRate: number;
  readonly storeFaultRate: number;
  readonly seed: string;
  readonly workers: number;
  readonly duplicateRate: number;
  /** What the paper exchange charges fees in (TW_PAPER_FEE_ASSET). */
  readonly feeAsset: string;
  readonly json: boolean;
}

export const DEFAULT_SOAK_OPTIONS: SoakOptions = {
  intents: 1000,
  crashRate: 0.1,
  faultRate: 0.2,
  storeFaultRate: 0,
  seed: 'soak',
  workers: 8,
  duplicateRate: 0.05,
  json: false,
  feeAsset: 'quote',
};

export interface SoakReport {
  readonly ok: boolean;
  readonly options: Omit<SoakOptions, 'json'>;
  readonly machine: { readonly node: string };
  readonly intents: { readonly generated: number; readonly fromScanner: number; readonly total: number; readonly sentTwice: number };
  readonly outcomes: Readonly<Record<string, number>>;
  readonly exchangeOrders: number;
  /** Client order ids with more than one exchange order, or a createOrder that reached the exchange twice. */
  readonly duplicateOrders: number;
  readonly lostOrders: number;
  readonly lostExamples: readonly string[];
  /** Limit orders still resting on the exchange (followed, not lost). */
  readonly resting: number;
  readonly ledger: {
    readonly imbalance: number;
    readonly problems: readonly string[];
    readonly cash: string;
    readonly exchangeCash: string;
    readonly assetsCompared: number;
  };
  readonly audit: { readonly valid: boolean; readonly records: number; readonly streams: number; readonly problems: readonly string[] };
  readonly dlq: { readonly deadLettered: number; readonly left: number };
  readonly queueLeft: number;
  readonly executor: { readonly invocations: number; readonly received: number; readonly failedRecords: number; readonly crashes: number };
  /**
   * Scanner cycles under chaos: `partial` completed with some symbols skipped (failed candles) or
   * not reached; `completedPercent` counts full and partial ones (DATA-7).
   */
  readonly scanner: { readonly cycles: number; readonly failed: number; readonly partial: number; readonly symbolsSkipped: number; readonly completedPercent: number };
  /** Reconciler runs: `completedPercent` counts the runs that did not fail as a whole. */
  readonly reconciler: { readonly runs: number; readonly failed: number; readonly completedPercent: number };
  readonly health: { readonly last?: string; readonly reasons: readonly string[]; readonly failed: number };
  readonly faults: { readonly exchange: number; readonly exchangeByKind: Readonly<Record<string, number>>; readonly store: number; readonly storeByKind: Readonly<Record<string, number>> };
  readonly timing: {
    readonly runSeconds: number;
    readonly quiescenceSeconds: number;
    readonly totalSeconds: number;
    readonly intentsPerSecond: number;
    readonly simulatedSeconds: number;
    /** Where the run's real time went, in seconds: feeding the queue, executor rounds, each scheduled job. */
    readonly runPhases: Readonly<Record<string, number>>;
  };
}

/** Parses `npm run soak` arguments. @throws ValidationError naming the bad option. */
export function parseSoakArgs(argv: readonly string[]): SoakOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        intents: { type: 'string' },
        'crash-rate': { type: 'string' },
        'fault-rate': { type: 'string' },
        'store-fault-rate': { type: 'string' },
        'duplicate-rate': { type: 'string' },
        seed: { type: 'string' },
        workers: { type: 'string' },
        'fee-asset': { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    }));
  } catch (error) {
    throw new ValidationError(`${error instanceof Error ? error.message : String(error)}; usage: npm run soak -- --intents N --crash-rate R --fault-rate F --seed S [--store-fault-rate G] [--workers W] [--duplicate-rate D] [--fee-asset quote|base|<ASSET>] [--json]`, [], { cause: error });
  }
  const int = (option: string, text: string | undefined, fallback: number, max: number) => {
    if (text === undefined) return fallback;
    if (!/^\d{1,7}$/.test(text) || Number(text) < 1 || Number(text) > max) throw new ValidationError(`--${option} must be a whole number from 1 to ${max}, got ${JSON.stringify(text)}`);
    return Number(text);
  };
  const seed = values.seed ?? DEFAULT_SOAK_OPTIONS.seed;
  if (seed.length === 0 || seed.length > 100) throw new ValidationError('--seed must be 1 to 100 characters');
  const feeAsset = values['fee-asset'] ?? DEFAULT_SOAK_OPTIONS.feeAsset;
  if (feeAsset !== 'quote' && feeAsset !== 'base' && !/^[A-Z0-9]{2,15}$/.test(feeAsset)) throw new ValidationError(`--fee-asset must be quote, base or an asset code such as BNB, got ${JSON.stringify(feeAsset)}`);
  return {
    intents: int('intents', values.intents, DEFAULT_SOAK_OPTIONS.intents, MAX_INTENTS),
    crashRate: parseFraction('--crash-rate', values['crash-rate'], DEFAULT_SOAK_OPTIONS.crashRate),
    faultRate: parseFraction('--fault-rate', values['fault-rate'], DEFAULT_SOAK_OPTIONS.faultRate),
    storeFaultRate: parseFraction('--store-fault-rate', values['store-fault-rate'], DEFAULT_SOAK_OPTIONS.storeFaultRate),
    duplicateRate: parseFraction('--duplicate-rate', values['duplicate-rate'], DEFAULT_SOAK_OPTIONS.duplicateRate),
    seed,
    workers: int('workers', values.workers, DEFAULT_SOAK_OPTIONS.workers, MAX_WORKERS),
    feeAsset,
    json: values.json ?? false,
  };
}

/** The simulated clock of the functions, with `Date.now` moving along with it while installed. */
class SoakClock implements Clock {
  private offset = 0;
  private readonly realNow = Date.now.bind(Date);
  private readonly originalNow = Date.now;

  now(): Date {
    return new Date(SOAK_START.getTime() + this.offset);
  }
  advance(ms: number): void {
    this.offset += ms;
  }
  get elapsedMs(): number {
    return this.offset;
  }
  /** From now on `Date.now()` is real time plus the simulated time that has passed. */
  install(): void {
    Date.now = () => this.realNow() + this.offset;
  }
  uninstall(): void {
    Date.now = this.originalNow;
  }
}

/** The error a killed invocation dies with: not a TradewardenError, so it is retried like a crash. */
class SimulatedCrash extends Error {
  constructor(step: ExecutorStep) {
    super(`simulated crash at ${step}`);
    this.name = 'SimulatedCrash';
  }
}

/** One executor "Lambda container": its own clients, the production handler, a crash plan. */
interface Worker {
  readonly container: Container;
  invoke(event: SQSEvent): Promise<unknown>;
  /** Kill the coming invocation at this step of this intent. */
  plan?: { intentId: string; step: ExecutorStep };
  dead: boolean;
}

function makeWorker(fx: Functions, config: Config, clock: Clock, chaos: Chaos, sqs: SQSClient, stats: { crashes: number }): Worker {
  const container = fx.createContainer('executor', config, { clock, credentials: LOCAL_CREDENTIALS, ...chaos.runtimeOptions() });
  chaos.store.attach(container.ddb);
  const worker: Worker = { container, dead: false, invoke: async () => undefined };
  // A dead process runs no `finally`: its lease stays until it expires.
  const release = container.locks.release.bind(container.locks);
  container.locks.release = async (lease) => {
    if (!worker.dead) await release(lease);
  };
  const scheduler = new SqsRetryScheduler({ sqs, queueUrl: config.executionQueueUrl });
  const handler = fx.createExecutorHandler(container, {
    afterStep: (step, intent) => {
      if (worker.dead) throw new SimulatedCrash(step);
      if (worker.plan && worker.plan.intentId === intent.id && worker.plan.step === step) {
        worker.dead = true;
        stats.crashes += 1;
        throw new SimulatedCrash(step);
      }
    },
    retryScheduler: { retryLater: async (requests) => (worker.dead ? undefined : scheduler.retryLater(requests)) },
  });
  worker.invoke = (event) => (handler as unknown as (e: unknown, c: unknown) => Promise<unknown>)(event, localContext('tradewarden-executor', fx.LOCAL_TIMEOUT_MS.executor));
  return worker;
}

/** A seeded intent mix: market buys and sells, and limit buys far enough above the ask to fill at once. */
function makeIntent(n: number, options: SoakOptions, random: () => number, at: Date, price: (symbol: string) => string): Intent {
  const symbol = SOAK_SYMBOLS[Math.floor(random() * SOAK_SYMBOLS.length)] ?? 'BTC/USDT';
  const kind = random();
  const quote = str(new Decimal(10 + Math.floor(random() * 19_000)).div(100));
  const side = kind < 0.65 || kind >= 0.9 ? 'buy' : 'sell';
  const type = kind >= 0.9 ? 'limit' : 'market';
  const base = {
    id: intentIdFor({ strategy: 'soak', symbol, side, slot: `${options.seed}-${n}` }),
    strategy: 'soak',
    symbol,
    side,
    type,
    createdAt: at.toISOString(),
    expiresAt: new Date(at.getTime() + GENERATED_TTL_MS).toISOString(),
  } as const;
  if (type === 'market') return { ...base, quoteAmount: quote };
  const limitPrice = dec(price(symbol)).times('1.05');
  return { ...base, limitPrice: str(limitPrice), amount: str(dec(quote).div(limitPrice).toSignificantDigits(6, Decimal.ROUND_DOWN)) };
}

async function queueCounts(sqs: SQSClient, url: string): Promise<number> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'] }),
  );
  const a = out.Attributes ?? {};
  return Number(a.ApproximateNumberOfMessages ?? '0') + Number(a.ApproximateNumberOfMessagesNotVisible ?? '0') + Number(a.ApproximateNumberOfMessagesDelayed ?? '0');
}

async function scanAll(container: Container, table: string, filter?: { expression: string; values: Record<string, unknown> }): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await container.doc.send(
      new ScanCommand({
        TableName: table,
        ConsistentRead: true,
        ...(filter ? { FilterExpression: filter.expression, ExpressionAttributeValues: filter.values } : {}),
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

/** `part` of `whole` in percent, one decimal; 100 when there was nothing to do. */
function percentOf(part: number, whole: number): number {
  return whole === 0 ? 100 : Math.round((part / whole) * 1000) / 10;
}

/** Runs a soak and returns its report. `log` gets progress lines. */
export async function runSoak(options: SoakOptions, log: (line: string) => void = () => undefined): Promise<SoakReport> {
  const fx = await loadFunctions();
  const started = performance.now();
  const clock = new SoakClock();
  const random = seededRandom(`${options.seed}:intents`);
  const crashRandom = seededRandom(`${options.seed}:crashes`);
  const stack = await startLocalStack({
    userEnv: {
      TW_WATCHLIST: SOAK_SYMBOLS.join(','),
      TW_PAPER_SEED: `soak-${options.seed}`,
      TW_PAPER_INITIAL_QUOTE: String(Math.max(100_000, options.intents * 100)),
      TW_PAPER_FEE_ASSET: options.feeAsset,
      // A third fee asset needs a holding to pay from; generous, so the fees never fall back to quote for want of it.
      ...(options.feeAsset === 'quote' || options.feeAsset === 'base' ? {} : { TW_PAPER_INITIAL_FEE_ASSET: String(Math.max(1000, options.intents)) }),
      // Health judges freshness by the schedules the soak keeps (simulated time).
      TW_SCANNER_EVERY_SECONDS: String(SCAN_EVERY_MS / SECOND),
      TW_RECONCILER_EVERY_SECONDS: String(RECONCILE_EVERY_MS / SECOND),
      TW_HEALTH_EVERY_SECONDS: String(HEALTH_EVERY_MS / SECOND),
      // The soak proves exactly-once under chaos, buying the same symbols over and over: the entry
      // limits (EXE-13, test/integration/risk-limits-executor.test.ts) are set out of its way.
      TW_MAX_OPEN_POSITIONS: '1000',
      // Its intents live an hour (GENERATED_TTL_MS) over much simulated time; the executor's expiry
      // is the earlier of expiresAt and createdAt + this TTL (EXE-14), so it gets the longest TTL.
      TW_INTENT_TTL_SECONDS: '3600',
      TW_MAX_EXPOSURE_PER_SYMBOL: String(Math.max(100_000, options.intents * 100)),
    },
  });
  const dynamo = await startDynamoThread();
  const tableClient = new DynamoDBClient({ endpoint: dynamo.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  await createTables(tableClient, LOCAL_PREFIX);
  tableClient.destroy();
  const config = loadConfig({ ...stack.env, [ENV.dynamodbEndpoint]: dynamo.endpoint, POWERTOOLS_LOG_LEVEL: 'SILENT' });
  const sqs = new SQSClient({ endpoint: stack.sqs.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const chaos = new Chaos({ seed: options.seed, faultRate: options.faultRate, storeFaultRate: options.storeFaultRate, sleep: async () => undefined });
  // Clean clients for measuring: no faults, no circuit breaker, the plain paper exchange. Its
  // paper exchange is also the one every function reaches through the chaos chain.
  const inspector = fx.createContainer('health', config, { clock, credentials: LOCAL_CREDENTIALS, circuitBreaker: false });
  chaos.wrap(inspector.exchange);
  const runtime = new fx.LocalRuntime(config, sqs, { clock, ...chaos.runtimeOptions() });
  chaos.attachStore(runtime, ['scanner', 'reconciler', 'health']);
  const stats = { crashes: 0, invocations: 0, received: 0, failedRecords: 0, scans: 0, scansFailed: 0, scansPartial: 0, symbolsSkipped: 0, reconciles: 0, reconcilesFailed: 0, healthFailed: 0, deadLettered: 0 };
  const workers = Array.from({ length: options.workers }, () => makeWorker(fx, config, clock, chaos, sqs, stats));
  const intentIds = new Set<string>();
  const scannerIds = new Set<string>();
  let sentTwice = 0;
  let lastHealth: string | undefined;
  clock.install();

  /** One poll and one invocation, as the event source does; a dead invocation deletes nothing. */
  const deliver = async (worker: Worker): Promise<number> => {
    const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: config.executionQueueUrl, MaxNumberOfMessages: fx.EXECUTOR_BATCH_SIZE, MessageSystemAttributeNames: ['All'] }));
    const messages = out.Messages ?? [];
    if (messages.length === 0) return 0;
    stats.invocations += 1;
    stats.received += messages.length;
    worker.dead = false;
    delete worker.plan;
    if (chaos.running && crashRandom() < options.crashRate) {
      const victim = messages[Math.floor(crashRandom() * messages.length)];
      const step = EXECUTOR_STEPS[Math.floor(crashRandom() * EXECUTOR_STEPS.length)] ?? 'after-claim';
      try {
        worker.plan = { intentId: (JSON.parse(victim?.Body ?? '{}') as { id?: string }).id ?? '', step };
      } catch {
        // Not an intent: nothing to kill it at.
      }
    }
    let failed: Set<string>;
    try {
      const response = (await worker.invoke(toSqsEvent(messages, config.executionQueueUrl))) as { batchItemFailures?: { itemIdentifier: string }[] } | undefined;
      failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
    } catch {
      failed = new Set(messages.map((m) => m.MessageId ?? ''));
    }
    if (worker.dead) {
      // The process died: no answer, so the event source deletes nothing and every message
      // comes back after the queue's visibility timeout.
      stats.failedRecords += messages.length;
      worker.dead = false;
      return messages.length;
    }
    stats.failedRecords += failed.size;
    const done = messages.filter((m) => !failed.has(m.MessageId ?? ''));
    if (done.length > 0) {
      await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: config.executionQueueUrl, Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })) }));
    }
    return messages.length;
  };

  const send = async (intents: readonly Intent[], copy: string): Promise<void> => {
    for (let i = 0; i < intents.length; i += 10) {
      const chunk = intents.slice(i, i + 10);
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: config.executionQueueUrl,
          Entries: chunk.map((intent, n) => ({ Id: String(n), MessageBody: JSON.stringify(intent), MessageGroupId: intent.symbol, MessageDeduplicationId: `${intent.id}${copy}` })),
        }),
      );
    }
  };

  const tickers = new Map<string, string>();
  const refreshPrices = async () => {
    for (const t of await inspector.exchange.fetchTickers(SOAK_SYMBOLS)) tickers.set(t.symbol, t.ask);
  };

  /** Real time spent per phase of the run, in ms. */
  const phases = { feed: 0, deliver: 0, scanner: 0, reconciler: 0, health: 0 };
  const timed = async <T>(phase: keyof typeof phases, work: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await work();
    } finally {
      phases[phase] += performance.now() - t0;
    }
  };

  const jobs = async (due: { scan: number; reconcile: number; health: number }) => {
    const now = clock.elapsedMs;
    if (now >= due.scan) {
      due.scan = now + SCAN_EVERY_MS;
      stats.scans += 1;
      try {
        const scan = await timed('scanner', () => runtime.scan(clock.now()));
        for (const i of scan.intents) scannerIds.add(i.id);
        const skipped = (scan.failedSymbols?.length ?? 0) + (scan.unreached?.length ?? 0);
        if (skipped > 0) stats.scansPartial += 1;
        stats.symbolsSkipped += skipped;
      } catch {
        stats.scansFailed += 1;
      }
    }
    if (now >= due.reconcile) {
      due.reconcile = now + RECONCILE_EVERY_MS;
      stats.reconciles += 1;
      await timed('reconciler', () => runtime.reconcile()).catch(() => (stats.reconcilesFailed += 1));
    }
    if (now >= due.health) {
      due.health = now + HEALTH_EVERY_MS;
      try {
        lastHealth = (await timed('health', () => runtime.health())).status;
      } catch {
        stats.healthFailed += 1;
      }
    }
  };

  try {
    // 1. Run.
    const due = { scan: 0, reconcile: RECONCILE_EVERY_MS, health: 0 };
    let generated = 0;
    const duplicates: Intent[] = [];
    let lastProgress = performance.now();
    while (generated < options.intents || (await queueCounts(sqs, config.executionQueueUrl)) > 0) {
      const feedStarted = performance.now();
      if (generated < options.intents) {
        await refreshPrices();
        const ahead = options.workers * QUEUE_AHEAD_PER_WORKER;
        const queued = await queueCounts(sqs, config.executionQueueUrl);
        const batch: Intent[] = [];
        while (generated < options.intents && queued + batch.length < ahead) {
          const intent = makeIntent(generated, options, random, clock.now(), (s) => tickers.get(s) ?? '1');
          generated += 1;
          batch.push(intent);
          intentIds.add(intent.id);
          if (random() < options.duplicateRate) duplicates.push(intent);
        }
        await send(batch, '');
        if (duplicates.length >= 10 || generated >= options.intents) {
          sentTwice += duplicates.length;
          await send(duplicates.splice(0), '-copy');
        }
      }
      phases.feed += performance.now() - feedStarted;
      const deliverStarted = performance.now();
      const received = await Promise.all(
        workers.map(async (w) => {
          let total = 0;
          for (let i = 0; i < DELIVERIES_PER_ROUND; i += 1) {
            const n = await deliver(w);
            if (n === 0) break;
            total += n;
            clock.advance(BUSY_STEP_MS / options.workers);
          }
          return total;
        }),
      );
      phases.deliver += performance.now() - deliverStarted;
      if (received.every((n) => n === 0)) clock.advance(IDLE_STEP_MS);
      await jobs(due);
      if (performance.now() - lastProgress > 10_000) {
        lastProgress = performance.now();
        log(`  ${generated}/${options.intents} intents sent, ${stats.invocations} invocations, ${stats.crashes} crashes, simulated ${Math.round(clock.elapsedMs / 1000)} s`);
      }
    }
    const runSeconds = (performance.now() - started) / 1000;
    log(`run done in ${runSeconds.toFixed(1)} s; quiescing`);

    // 2. Quiesce: faults off; drain, redrive, reconcile past every grace period until nothing changes.
    chaos.stop();
    const quiesceStarted = performance.now();
    const drain = async () => {
      for (let idle = 0; idle < 30 && (await queueCounts(sqs, config.executionQueueUrl)) > 0; ) {
        const received = await Promise.all(workers.map((w) => deliver(w)));
        if (received.every((n) => n === 0)) {
          idle += 1;
          clock.advance(IDLE_STEP_MS * 6);
        } else clock.advance(BUSY_STEP_MS);
      }
    };
    // A few scanner cycles on a calm exchange: their intents go through the same checks.
    for (let cycle = 0; cycle < QUIET_SCANS; cycle += 1) {
      clock.advance(SCAN_EVERY_MS);
      await jobs({ scan: 0, reconcile: Number.POSITIVE_INFINITY, health: Number.POSITIVE_INFINITY });
      await drain();
    }
    let previous = '';
    for (let pass = 0; pass < MAX_QUIESCENCE_PASSES; pass += 1) {
      await drain();
      const moved = await fx.redriveLocally(sqs, { queueUrl: config.executionQueueUrl, dlqUrl: config.executionDlqUrl });
      stats.deadLettered += moved;
      clock.advance(PAST_GRACE_MS);
      let report = await runtime.reconcile();
      for (let again = 0; again < 5 && report.status !== 'completed'; again += 1) {
        clock.advance(PAST_GRACE_MS);
        report = await runtime.reconcile();
      }
      const open = await inspector.orders.listOpen(1000);
      const fingerprint = JSON.stringify({ moved, updated: report.updated, released: report.releasedReservations, open: open.items.map((o) => `${o.id}:${o.version}`) });
      if (moved === 0 && fingerprint === previous && (await queueCounts(sqs, config.executionQueueUrl)) === 0) break;
      previous = fingerprint;
    }
    // Reservations without a live order are released once past their bound (EXE-7).
    clock.advance(PAST_RESERVATION_AGE_MS);
    await runtime.reconcile();
    // One ordinary cycle, so health judges fresh heartbeats (its own included).
    clock.advance(SCAN_EVERY_MS);
    await jobs({ scan: 0, reconcile: 0, health: 0 });
    await drain();
    const health = await runtime.health();
    lastHealth = health.status;
    const quiescenceSeconds = (performance.now() - quiesceStarted) / 1000;
    log(`quiescent after ${quiescenceSeconds.toFixed(1)} s; measuring`);

    // 3. Measure, through clean clients.
    const allIds = new Set([...intentIds, ...scannerIds]);
    const orders = new Map(
      (await scanAll(inspector, config.stateTable, { expression: 'sk = :o', values: { ':o': 'ORDER' } })).map((o) => [String(o.id), o as unknown as { id: string; state: OrderState; reason?: string }]),
    );
    const paper = await scanAll(inspector, config.paperTable, { expression: 'sk = :o', values: { ':o': 'ORDER' } });
    const paperPerId = new Map<string, number>();
    for (const p of paper) paperPerId.set(String(p.clientOrderId), (paperPerId.get(String(p.clientOrderId)) ?? 0) + 1);
    const exchangeOpen = new Set((await inspector.exchange.fetchOpenOrders()).map((o) => o.clientOrderId));
    const outcomes: Record<string, number> = {};
    const lost: string[] = [];
    let resting = 0;
    for (const intentId of allIds) {
      const id = clientOrderIdFor(intentId);
      const order = orders.get(id);
      if (!order) {
        lost.push(`${id}: no order`);
        continue;
      }
      const key = order.state === 'EXPIRED' && order.reason?.includes('never sent') ? 'EXPIRED (claimed, never sent)' : order.state;
      outcomes[key] = (outcomes[key] ?? 0) + 1;
      if (isTerminal(order.state)) continue;
      if ((order.state === 'OPEN' || order.state === 'PARTIALLY_FILLED') && exchangeOpen.has(id)) resting += 1;
      else lost.push(`${id}: ${order.state} after quiescence`);
    }
    // More than one exchange order for a client order id, or an order sent again after the
    // exchange had accepted it (a second order on an exchange that forgets filled ids).
    const duplicated = new Set([...[...paperPerId].filter(([, n]) => n > 1).map(([id]) => id), ...(chaos.counter?.sentAfterAccept.keys() ?? [])]);
    const duplicateOrders = duplicated.size;

    const book = await inspector.accounts.get(config.quoteCurrency);
    const problems: string[] = [];
    const balances = await inspector.exchange.fetchBalances();
    let assetsCompared = 0;
    if (!book) problems.push('no account book');
    else {
      problems.push(...checkBook(book));
      for (const orderId of Object.keys(book.orders)) problems.push(`reservation left for ${orderId}`);
      const cash = dec(book.available).plus(book.reserved);
      const exchangeCash = dec(balances[config.quoteCurrency]?.total ?? '0');
      if (!cash.eq(exchangeCash)) problems.push(`cash ${str(cash)} != exchange ${config.quoteCurrency} ${str(exchangeCash)}`);
      const bases = new Set([
        ...Object.keys(balances).filter((a) => a !== config.quoteCurrency),
        ...Object.values(book.positions).map((p) => p.symbol.split('/')[0] ?? ''),
        ...Object.keys(book.holdings ?? {}),
      ]);
      for (const base of bases) {
        assetsCompared += 1;
        // What the book holds of the asset: its position, plus its fee-asset holding (BNB).
        const qty = dec(Object.values(book.positions).find((p) => p.symbol.split('/')[0] === base)?.qty ?? '0').plus(book.holdings?.[base]?.qty ?? '0');
        const held = dec(balances[base]?.total ?? '0');
        if (!qty.eq(held)) problems.push(`position ${base} ${str(qty)} != exchange ${str(held)}`);
      }
    }
    const verification = await inspector.audit.verify();
    const dlqLeft = await queueCounts(sqs, config.executionDlqUrl);
    const queueLeft = await queueCounts(sqs, config.executionQueueUrl);
    const summary = chaos.summary();
    const totalSeconds = (performance.now() - started) / 1000;
    const ok = duplicateOrders === 0 && lost.length === 0 && problems.length === 0 && verification.valid && dlqLeft === 0 && queueLeft === 0;
    return {
      ok,
      options: { intents: options.intents, crashRate: options.crashRate, faultRate: options.faultRate, storeFaultRate: options.storeFaultRate, seed: options.seed, workers: options.workers, duplicateRate: options.duplicateRate, feeAsset: options.feeAsset },
      machine: { node: process.version },
      intents: { generated: intentIds.size, fromScanner: scannerIds.size, total: allIds.size, sentTwice },
      outcomes,
      exchangeOrders: paper.length,
      duplicateOrders,
      lostOrders: lost.length,
      lostExamples: lost.slice(0, 10),
      resting,
      ledger: {
        imbalance: problems.length,
        problems: problems.slice(0, 20),
        cash: book ? str(dec(book.available).plus(book.reserved)) : '0',
        exchangeCash: balances[config.quoteCurrency]?.total ?? '0',
        assetsCompared,
      },
      audit: { valid: verification.valid, records: verification.records, streams: verification.streams, problems: verification.problems.map((p) => `${p.stream} #${p.seq}: ${p.problem}`) },
      dlq: { deadLettered: stats.deadLettered, left: dlqLeft },
      queueLeft,
      executor: { invocations: stats.invocations, received: stats.received, failedRecords: stats.failedRecords, crashes: stats.crashes },
      scanner: {
        cycles: stats.scans,
        failed: stats.scansFailed,
        partial: stats.scansPartial,
        symbolsSkipped: stats.symbolsSkipped,
        completedPercent: percentOf(stats.scans - stats.scansFailed, stats.scans),
      },
      reconciler: { runs: stats.reconciles, failed: stats.reconcilesFailed, completedPercent: percentOf(stats.reconciles - stats.reconcilesFailed, stats.reconciles) },
      health: { ...(lastHealth ? { last: lastHealth } : {}), reasons: health.reasons, failed: stats.healthFailed },
      faults: { exchange: summary.exchangeFaults, exchangeByKind: summary.exchangeFaultsByKind, store: summary.storeFaults, storeByKind: summary.storeFaultsByKind },
      timing: {
        runSeconds: round1(runSeconds),
        quiescenceSeconds: round1(quiescenceSeconds),
        totalSeconds: round1(totalSeconds),
        intentsPerSecond: round1(allIds.size / runSeconds),
        simulatedSeconds: Math.round(clock.elapsedMs / 1000),
        runPhases: Object.fromEntries(Object.entries(phases).map(([k, ms]) => [k, round1(ms / 1000)])),
      },
    };
  } finally {
    clock.uninstall();
    for (const w of workers) {
      w.container.ddb.destroy();
      w.container.sqs.destroy();
    }
    inspector.ddb.destroy();
    inspector.sqs.destroy();
    runtime.close();
    sqs.destroy();
    await stack.stop();
    await dynamo.stop();
  }
}

const round1 = (n: number) => Math.round(n * 10) / 10;

/** The human-readable report. */
export function formatSoakReport(r: SoakReport): string {
  const kinds = (byKind: Readonly<Record<string, number>>) =>
    Object.entries(byKind)
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
  const o = r.options;
  return [
    `soak: ${r.intents.generated} intents (+${r.intents.fromScanner} from ${r.scanner.cycles} scanner cycles, ${r.scanner.failed} failed, ${r.scanner.partial} partial, ${r.scanner.completedPercent}% completed; ${r.intents.sentTwice} sent twice), crash rate ${o.crashRate}, exchange fault rate ${o.faultRate}, store fault rate ${o.storeFaultRate}, seed ${o.seed}, fees in ${o.feeAsset}, ${o.workers} workers, node ${r.machine.node}`,
    `  time      run ${r.timing.runSeconds} s (${r.timing.intentsPerSecond} intents/s; ${Object.entries(r.timing.runPhases).map(([k, v]) => `${k} ${v} s`).join(', ')}), quiescence ${r.timing.quiescenceSeconds} s, total ${r.timing.totalSeconds} s; simulated ${r.timing.simulatedSeconds} s`,
    `  outcomes  ${Object.entries(r.outcomes).map(([k, n]) => `${k} ${n}`).join(' | ')}${r.resting ? ` | resting on the exchange ${r.resting}` : ''}`,
    `  exchange  ${r.exchangeOrders} orders; duplicate orders ${r.duplicateOrders}`,
    `  lost      ${r.lostOrders}${r.lostExamples.length ? ` (${r.lostExamples.join('; ')})` : ''}`,
    `  ledger    imbalance ${r.ledger.imbalance}${r.ledger.problems.length ? ` (${r.ledger.problems.join('; ')})` : ''}; cash ${r.ledger.cash} vs exchange ${r.ledger.exchangeCash}; ${r.ledger.assetsCompared} assets compared`,
    `  audit     ${r.audit.valid ? 'valid' : 'BROKEN'}: ${r.audit.records} records in ${r.audit.streams} streams${r.audit.problems.length ? ` (${r.audit.problems.join('; ')})` : ''}`,
    `  DLQ       ${r.dlq.deadLettered} dead-lettered and redriven; ${r.dlq.left} left (queue ${r.queueLeft} left)`,
    `  executor  ${r.executor.invocations} invocations, ${r.executor.received} messages received, ${r.executor.failedRecords} failed, ${r.executor.crashes} crashed`,
    `  faults    exchange ${r.faults.exchange}${r.faults.exchange ? ` (${kinds(r.faults.exchangeByKind)})` : ''}; store ${r.faults.store}${r.faults.store ? ` (${kinds(r.faults.storeByKind)})` : ''}`,
    `  jobs      reconciler ${r.reconciler.runs} runs (${r.reconciler.failed} failed, ${r.reconciler.completedPercent}% completed), ${r.health.failed} failed health checks; health at the end ${r.health.last ?? 'unknown'}${r.health.reasons.length ? ` (${r.health.reasons.join('; ')})` : ''}`,
    `RESULT ${r.ok ? 'PASS' : 'FAIL'}`,
  ].join('\n');
}

async function main(): Promise<number> {
  const options = parseSoakArgs(process.argv.slice(2));
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  process.env.POWERTOOLS_TRACE_ENABLED ??= 'false';
  process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
  // Progress goes to stderr, so `--json` output on stdout stays one JSON document.
  const report = await runSoak(options, (line) => console.error(line));
  console.log(options.json ? JSON.stringify(report, null, 2) : formatSoakReport(report));
  return report.ok ? 0 : 1;
}

runAsScript(import.meta.url, main);
