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
 * emulator reads) moves with it, so backoffs, leases, grace periods
 * and visibility timeouts pass in seconds of real time. With several workers the interleaving,
 * and so the exact figures, vary from run to run; the seed fixes the intents, the crash plan
 * draws and the fault draws.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { Chaos } from '../local-runtime/chaos.js';
import { createTables } from '../local-runtime/provision.js';
import { LOCAL_CREDENTIALS, LOCAL_PREFIX, LOCAL_REGION, startLocalStack } from '../local-runtime/stack.js';
import { seededRandom } from '../testkit/fault-injecting-exchange.js';
import type { Intent } from '../shared/domain/intent.js';
import { ENV, loadConfig } from '../shared/runtime/config.js';
import { runAsScript } from './run-as-script.js';
import { deliverOnce, loadFunctions, makeWorker, type Worker } from './soak/executors.js';
import { makeIntent, SOAK_SYMBOLS } from './soak/intents.js';
import { sendIntents } from '../testkit/intent-batches.js';
import { SoakClock, queueCounts, startDynamoThread } from './soak/harness.js';
import { measureSoak } from './soak/measure.js';
import { formatSoakReport, parseSoakArgs, percentOf, round1, type SoakOptions, type SoakReport } from './soak/report.js';

export { DEFAULT_SOAK_OPTIONS, formatSoakReport, parseSoakArgs, type SoakOptions, type SoakReport } from './soak/report.js';
export { SOAK_SYMBOLS } from './soak/intents.js';

/** Deliveries one worker makes per round before the round's clock step and scheduled jobs. */
const DELIVERIES_PER_ROUND = 4;
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
/** Past every lease (60 s), the re-send grace (30 s), the settle time (15 s) and the lost-order grace (120 s). */
const PAST_GRACE_MS = 181 * SECOND;
/** Past the stale-reservation bound (900 s by default). */
const PAST_RESERVATION_AGE_MS = 901 * SECOND;
/** Scanner cycles on a calm exchange at the start of quiescence. */
const QUIET_SCANS = 3;
/** Quiescence passes before giving up on "nothing changes". */
const MAX_QUIESCENCE_PASSES = 12;
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

  const deliver = (worker: Worker) => deliverOnce(worker, { fx, sqs, config, chaos, crashRandom, crashRate: options.crashRate, stats });
  const send = (intents: readonly Intent[], copy: string) => sendIntents(sqs, config.executionQueueUrl, intents, copy);

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
    const found = await measureSoak({ inspector, config, sqs, intentIds: allIds, sentAfterAccept: chaos.counter?.sentAfterAccept.keys() ?? [] });
    const summary = chaos.summary();
    const totalSeconds = (performance.now() - started) / 1000;
    return {
      ok: found.ok,
      options: { intents: options.intents, crashRate: options.crashRate, faultRate: options.faultRate, storeFaultRate: options.storeFaultRate, seed: options.seed, workers: options.workers, duplicateRate: options.duplicateRate, feeAsset: options.feeAsset },
      machine: { node: process.version },
      intents: { generated: intentIds.size, fromScanner: scannerIds.size, total: allIds.size, sentTwice },
      outcomes: found.outcomes,
      exchangeOrders: found.exchangeOrders,
      duplicateOrders: found.duplicateOrders,
      lostOrders: found.lostOrders,
      lostExamples: found.lostExamples,
      resting: found.resting,
      ledger: found.ledger,
      audit: found.audit,
      dlq: { deadLettered: stats.deadLettered, left: found.dlqLeft },
      queueLeft: found.queueLeft,
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
