/**
 * `npm start`: the whole system on one machine. Embedded DynamoDB and SQS keep their state in
 * .tradewarden/ (a second start resumes it), the local scheduler runs the scanner, reconciler
 * and health on the shared schedule definitions (compressed), the executor is fed from the FIFO
 * queue, and one status line is printed per scanner cycle. The web console (OPS-9) is served on
 * 127.0.0.1 and its address printed once as `console: http://127.0.0.1:<port>/?token=<token>`.
 * Ctrl-C stops cleanly.
 *
 * `npm start -- --chaos [--fault-rate F] [--store-fault-rate G] [--seed S]`: the same, with the
 * seeded exchange fault injector (a fraction F of exchange calls fail like Binance does: timeouts
 * before and after acceptance, 418/429, 5xx, maintenance, ...) and optionally DynamoDB throttling,
 * conditional failures and lost responses on a fraction G of store calls. A chaos line after each
 * status line shows what was injected and the DLQ depth; `npm run ops -- redrive` brings
 * dead-lettered intents back (TST-3, OPS-2).
 */
import { existsSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { SQSClient } from '@aws-sdk/client-sqs';
import { AUDIT_CHECKPOINT_LOCAL_EVERY_SECONDS, SCHEDULES } from '../shared/definitions/schedules.js';
import { ENV, assertKnownSettings, loadConfig } from '../shared/runtime/config.js';
import { EXECUTION_DLQ_NAME, EXECUTION_QUEUE_NAME } from '../shared/runtime/container.js';
import { ConfigError, MarketDataUnreachableError, ValidationError, toTradewardenError } from '../shared/domain/errors.js';
import { Chaos, parseFraction } from '../local-runtime/chaos.js';
import { LocalRuntime, localMarketOptions } from '../local-runtime/runtime.js';
import { DEFAULT_DATA_DIR, LOCAL_CREDENTIALS, LOCAL_REGION, advertiseStack, localStackOutputs, startLocalStack, withdrawStack } from '../local-runtime/stack.js';
import { StateBusyError, acquireStateLock, currentOwner, type Recovered } from '../local-runtime/state-lock.js';
import { StackUnavailableError } from '../shared/operations/errors.js';
import { writeOutputsFile } from '../operator/stack-outputs.js';
import { localOperatorDeps } from '../operator/local-transport.js';
import { LOCAL_STACK_NAME } from '../shared/definitions/stack-outputs.js';
import { statusLine } from './status.js';
import { chatOperations, operatorActions } from '../console/actions.js';
import { DynamoDbNotificationLedger } from '../shared/adapters/aws/dynamodb-notification-ledger.js';
import { loadNotifierConfig, type NotifierConfig } from '../shared/runtime/notifier-config.js';
import { notificationChannels } from '../shared/runtime/notifier.js';
import { LocalEventBus, LocalNotifier } from '../local-runtime/notifications.js';
import { ConsoleReadModel } from '../console/read-model.js';
import { newSecrets, removeConsoleFile, saveConsoleFile } from '../console/security.js';
import { startConsoleServer } from '../console/server.js';

/** The outputs file `npm start` writes in its state directory, in the `cdk deploy --outputs-file` format. */
export const LOCAL_OUTPUTS_FILE = 'outputs.json';
/** How long npm start waits for a command (invoke, ops) that runs on the state to finish. */
const START_WAIT_MS = 120_000;
/** How long npm start waits for the exchange's markets in paper on real prices before it gives up (below 30 s). */
const MARKET_DATA_PROBE_MS = 25_000;
/** How often the local executor polls the queue, like the Lambda event source's long poll. */
const EXECUTOR_POLL_MS = 1_000;
/** One notification delivery cycle: pending events out, chat commands in. */
export const NOTIFY_POLL_MS = 1_000;
/** Defaults of `--chaos`. */
export const DEFAULT_CHAOS_FAULT_RATE = 0.1;
export const DEFAULT_CHAOS_SEED = 'chaos';

export interface StartOptions {
  readonly chaos?: { readonly faultRate: number; readonly storeFaultRate: number; readonly seed: string };
}

/** Parses the command line of `npm start`. @throws ValidationError for an unknown or bad option. */
export function parseStartArgs(argv: readonly string[]): StartOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: { chaos: { type: 'boolean', default: false }, 'fault-rate': { type: 'string' }, 'store-fault-rate': { type: 'string' }, seed: { type: 'string' } },
    }));
  } catch (error) {
    throw new ValidationError(`${error instanceof Error ? error.message : String(error)}; usage: npm start [-- --chaos [--fault-rate F] [--store-fault-rate G] [--seed S]]`, [], { cause: error });
  }
  if (!values.chaos) {
    if (values['fault-rate'] !== undefined || values['store-fault-rate'] !== undefined || values.seed !== undefined) {
      throw new ValidationError('--fault-rate, --store-fault-rate and --seed go with --chaos');
    }
    return {};
  }
  const seed = values.seed ?? DEFAULT_CHAOS_SEED;
  if (seed.length === 0 || seed.length > 100) throw new ValidationError('--seed must be 1 to 100 characters');
  return {
    chaos: {
      faultRate: parseFraction('--fault-rate', values['fault-rate'], DEFAULT_CHAOS_FAULT_RATE),
      storeFaultRate: parseFraction('--store-fault-rate', values['store-fault-rate'], 0),
      seed,
    },
  };
}

async function main(): Promise<void> {
  // Parse before starting anything: a bad command line touches no state.
  const options = parseStartArgs(process.argv.slice(2));
  assertKnownSettings(process.env);
  const dataDir = process.env.TW_LOCAL_DATA_DIR ?? DEFAULT_DATA_DIR;
  // The state directory has one owner. A previous npm start that is gone (killed, a zombie, its
  // pid reused) is taken over at once; a command running on the state is waited for.
  const lock = await acquireStateLock(dataDir, {
    role: 'npm-start',
    command: 'npm start',
    waitMs: START_WAIT_MS,
    whileHeld: (owner) => (owner?.role === 'npm-start' ? 'give-up' : 'wait'),
    onCompromised: (error) => {
      console.error(`${new Date().toISOString()} lost the lock on ${dataDir} (${error.message}); stopping`);
      process.exit(1);
    },
  }).catch((error: unknown) => {
    if (error instanceof StateBusyError) throw new StackUnavailableError(`the local state in ${dataDir} is ${error.message}`, 'wait for that command to finish, then npm start again', { cause: error });
    throw error;
  });
  if (!lock) {
    const owner = currentOwner(dataDir);
    throw new StackUnavailableError(`another npm start (pid ${owner?.pid ?? '?'}, since ${owner?.acquiredAt ?? '?'}) is running on ${dataDir}`, 'stop it first (Ctrl-C), or set TW_LOCAL_DATA_DIR to another directory');
  }
  // Local runs keep stdout for status lines: metrics stay EMF on AWS, logs show warnings and errors.
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  process.env.POWERTOOLS_TRACE_ENABLED ??= 'false';
  // A stack file left by an npm start that did not stop: nothing runs behind it any more.
  const staleStackFile = existsSync(join(dataDir, 'stack.json'));
  const started = await startLocalStack({ dataDir, userEnv: process.env });
  // Heartbeats older than this start were left by the previous run: health says 'starting' for them.
  const stack = { ...started, env: { ...started.env, [ENV.startedAt]: new Date().toISOString() } };
  // Under chaos, failures are the show: the failure lines of this script say enough, so the
  // functions' own error logs stay quiet unless the user asks for them.
  const config = loadConfig(options.chaos ? { ...stack.env, POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'CRITICAL' } : stack.env);
  const sqs = new SQSClient({ endpoint: stack.sqs.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const chaos = options.chaos ? new Chaos(options.chaos) : undefined;
  // Domain events (fills, pauses, health changes, ...) go to an in-process bus for the notifier.
  const bus = new LocalEventBus();
  const market = await localMarketOptions(config);
  const runtime = new LocalRuntime(config, sqs, { ...market, ...(chaos?.runtimeOptions() ?? {}), events: bus });
  if (chaos) chaos.attachStore(runtime);
  // Under chaos the status line is read through clean clients, so it shows the truth.
  const observer = chaos ? new LocalRuntime(config, sqs, { ...market, events: bus }) : runtime;
  // Paper on real prices (DATA-6): without the exchange's market data nothing can trade, and
  // nothing falls back to synthetic data (DATA-4). Say so plainly, start nothing, and stop.
  if (market.marketDataClient) {
    try {
      await reachMarketData(runtime, config.exchangeId);
    } catch (error) {
      runtime.close();
      if (observer !== runtime) observer.close();
      sqs.destroy();
      await stack.stop();
      await lock.release();
      throw error;
    }
  }
  const notifier = localNotifier(observer, bus, loadNotifierConfig(process.env), dataDir);
  if (lock.recovered) console.log(await recoveryLine(observer, lock.recovered, staleStackFile));
  advertiseStack(dataDir, stack.env);
  // The same outputs as a deployed stack: `npm run ops -- --outputs .tradewarden/outputs.json`
  // with AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL_SQS at the endpoints below reaches this stack.
  const outputsFile = join(dataDir, LOCAL_OUTPUTS_FILE);
  writeOutputsFile(outputsFile, LOCAL_STACK_NAME, localStackOutputs(stack.env));
  // The console reads and acts through clean clients, like the status line (OPS-9, SEC-7).
  const web = await startConsoleServer({ read: new ConsoleReadModel(observer.containers.health), actions: operatorActions(localOperatorDeps(observer)), secrets: newSecrets() });
  saveConsoleFile(dataDir, web.url, new URL(web.url).searchParams.get('token') ?? '');
  const exchange = runtime.containers.scanner.exchange;
  const trading = exchange.source === 'exchange' && config.mode === 'paper' ? `paper on ${config.exchangeId}'s public market data` : `${exchange.id} (${exchange.source} data)`;
  console.log(`tradewarden local: mode ${config.mode}, exchange ${trading}, watchlist ${config.watchlist.join(' ')}`);
  console.log(`state in ${dataDir}/ (DynamoDB ${stack.dynamo.endpoint}, SQS ${stack.sqs.endpoint}); Ctrl-C to stop`);
  console.log(`stack outputs in ${outputsFile} (npm run ops -- --outputs ${outputsFile} ... with AWS_ENDPOINT_URL_DYNAMODB=${stack.dynamo.endpoint} AWS_ENDPOINT_URL_SQS=${stack.sqs.endpoint})`);
  if (options.chaos) {
    console.log(`CHAOS: seed ${options.chaos.seed}, ${options.chaos.faultRate * 100}% of exchange calls and ${options.chaos.storeFaultRate * 100}% of DynamoDB calls fail; redrive the DLQ with npm run ops -- redrive`);
  }

  console.log(`console: ${web.url}`);

  const timers: NodeJS.Timeout[] = [];
  let stopping = false;
  let busy = Promise.resolve();
  let cycle = 0;
  /** Jobs run one at a time, like a one-core scheduler; a failure is printed, never hidden. */
  const enqueue = (name: string, job: () => Promise<void>) => {
    busy = busy.then(async () => {
      if (stopping) return;
      try {
        await job();
      } catch (error) {
        const e = toTradewardenError(error);
        console.error(`${new Date().toISOString()} ${name} failed: ${e.code} ${e.message}`);
      }
    });
  };

  for (const schedule of SCHEDULES) {
    const every = schedule.localEverySeconds * 1000;
    const run = () =>
      enqueue(schedule.job, async () => {
        if (schedule.job === 'scanner') {
          const scan = await runtime.scan(new Date());
          const delivered = await runtime.drain({ maxRounds: 20 });
          cycle += 1;
          console.log(await statusLine(observer, cycle, scan, delivered));
        } else if (schedule.job === 'reconciler') await runtime.reconcile();
        else await runtime.health();
      });
    run();
    timers.push(setInterval(run, every));
  }
  timers.push(setInterval(() => enqueue('executor', async () => void (await runtime.drain({ maxRounds: 20 }))), EXECUTOR_POLL_MS));
  // The audit checkpoint (SEC-5) into the append-only directory beside the state.
  if (runtime.checkpointStore) {
    const checkpoint = () => enqueue('audit-checkpoint', async () => void (await runtime.checkpoint()));
    checkpoint();
    timers.push(setInterval(checkpoint, AUDIT_CHECKPOINT_LOCAL_EVERY_SECONDS * 1000));
  }
  // Notifications run beside the jobs, never in their queue: a slow chat service delays no scan.
  let notifying = false;
  timers.push(
    setInterval(() => {
      if (notifying || stopping) return;
      notifying = true;
      notifier
        .cycle()
        .catch((error: unknown) => console.error(`${new Date().toISOString()} notifier failed: ${toTradewardenError(error).message}`))
        .finally(() => (notifying = false));
    }, NOTIFY_POLL_MS),
  );
  if (chaos) {
    // Its own line on the scanner's rhythm: printed even when a faulted scan printed no status.
    const every = (SCHEDULES.find((s) => s.job === 'scanner')?.localEverySeconds ?? 5) * 1000;
    timers.push(setInterval(() => enqueue('chaos', async () => console.log(await chaosLine(observer, chaos))), every));
  }

  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log('stopping: finishing the running job');
    for (const t of timers) clearInterval(t);
    await busy;
    await web.stop();
    removeConsoleFile(dataDir);
    runtime.close();
    if (observer !== runtime) observer.close();
    sqs.destroy();
    await stack.stop();
    withdrawStack(dataDir);
    await lock.release();
    console.log('stopped; state kept for the next npm start');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

/**
 * Loads the exchange's markets once, bounded by MARKET_DATA_PROBE_MS.
 * @throws MarketDataUnreachableError (MARKET_DATA_UNREACHABLE) when they cannot be had.
 */
async function reachMarketData(runtime: LocalRuntime, exchangeId: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${MARKET_DATA_PROBE_MS / 1000} s`)), MARKET_DATA_PROBE_MS);
  });
  try {
    await Promise.race([runtime.containers.scanner.exchange.loadMarkets(), late]);
  } catch (error) {
    if (error instanceof MarketDataUnreachableError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new MarketDataUnreachableError(`market data of ${exchangeId} unreachable: ${reason}; paper trading on real prices places nothing without it`, { cause: error });
  } finally {
    clearTimeout(timer);
  }
}

/** The notifier of `npm start`: the channels configured in the environment (none: events are dropped after delivery to nobody). */
export function localNotifier(runtime: LocalRuntime, bus: LocalEventBus, config: NotifierConfig, dataDir?: string): LocalNotifier {
  const c = runtime.containers.health;
  const channels = notificationChannels(config);
  const ledger = new DynamoDbNotificationLedger({ doc: c.doc, table: c.config.stateTable, limit: config.rateLimit });
  return new LocalNotifier({
    bus,
    notify: { channels: channels.all, ledger, rate: ledger, clock: c.clock },
    ...(channels.telegram && config.telegramChatId
      ? { chat: { bot: channels.telegram, deps: { operations: chatOperations(runtime), audit: c.audit, clock: c.clock, chatId: config.telegramChatId } } }
      : {}),
    ...(dataDir ? { dataDir } : {}),
    onError: (message) => console.error(`${new Date().toISOString()} ${message}`),
  });
}

/** What an npm start found after an unclean stop of the previous one, and what happens to it. */
async function recoveryLine(runtime: LocalRuntime, recovered: Recovered, staleStackFile: boolean): Promise<string> {
  const c = runtime.containers.health;
  const previous = recovered.previous;
  const why = { exited: 'it is gone', zombie: 'it is a zombie (killed, not reaped)', 'pid-reused': 'its pid now belongs to another process', stale: 'its lock went stale' }[recovered.reason];
  const open = await c.orders.listOpen(100);
  const depths = await c.queues.depths();
  return [
    `recovered after an unclean stop: ${previous ? `${previous.command} (pid ${previous.pid}, since ${previous.acquiredAt})` : 'the previous owner'} did not stop cleanly and ${why}; took over its lock${staleStackFile ? ' and replaced its stack.json' : ''}.`,
    `  state kept: ${open.items.length}${open.cursor ? '+' : ''} orders not final (the reconciler resolves them), ${depths[EXECUTION_QUEUE_NAME] ?? 0} intents queued or in flight (in-flight ones come back after their visibility timeout), ${depths[EXECUTION_DLQ_NAME] ?? 0} dead-lettered.`,
  ].join('\n');
}

async function chaosLine(observer: LocalRuntime, chaos: Chaos): Promise<string> {
  const s = chaos.summary();
  const depths = await observer.containers.health.queues.depths();
  const kinds = (byKind: Readonly<Record<string, number>>) =>
    Object.entries(byKind)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
  return [
    '  chaos',
    `exchange faults ${s.exchangeFaults}${s.exchangeFaults ? ` (${kinds(s.exchangeFaultsByKind)})` : ''}`,
    `store faults ${s.storeFaults}${s.storeFaults ? ` (${kinds(s.storeFaultsByKind)})` : ''}`,
    `queue ${depths.execution ?? 0}`,
    `DLQ ${depths['execution-dlq'] ?? 0}`,
  ].join(' | ');
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

// Importable (tests parse its command line) without starting anything.
if (isEntryPoint()) {
  main().catch((error: unknown) => {
    const e = toTradewardenError(error);
    console.error(JSON.stringify({ error: e.toJSON() }, null, 2));
    process.exit(error instanceof ConfigError ? 2 : 1);
  });
}
