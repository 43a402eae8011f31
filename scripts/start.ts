/**
 * `npm start`: the whole system on one machine. Embedded DynamoDB and SQS keep their state in
 * .tradewarden/ (a second start resumes it), the local scheduler runs the scanner, reconciler
 * and health on the shared schedule definitions (compressed), the executor is fed from the FIFO
 * queue, and one status line is printed per scanner cycle. Ctrl-C stops cleanly.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { SCHEDULES } from '../shared/definitions/schedules.js';
import { loadConfig } from '../shared/runtime/config.js';
import { ConfigError, toTradewardenError } from '../shared/domain/errors.js';
import { LocalRuntime } from '../infra/local/runtime.js';
import { DEFAULT_DATA_DIR, LOCAL_CREDENTIALS, LOCAL_REGION, advertiseStack, runningStack, startLocalStack, withdrawStack } from '../infra/local/stack.js';
import { statusLine } from './status.js';

/** How often the local executor polls the queue, like the Lambda event source's long poll. */
const EXECUTOR_POLL_MS = 1_000;

async function main(): Promise<void> {
  const dataDir = process.env.TW_LOCAL_DATA_DIR ?? DEFAULT_DATA_DIR;
  if (runningStack(dataDir)) {
    throw new Error(`another npm start is already running on ${dataDir}; stop it first (Ctrl-C)`);
  }
  // Local runs keep stdout for status lines: metrics stay EMF on AWS, logs show warnings and errors.
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  process.env.POWERTOOLS_TRACE_ENABLED ??= 'false';
  const stack = await startLocalStack({ dataDir, userEnv: process.env });
  const config = loadConfig(stack.env);
  const sqs = new SQSClient({ endpoint: stack.sqs.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const runtime = new LocalRuntime(config, sqs);
  advertiseStack(dataDir, stack.env);
  console.log(`tradewarden local: mode ${config.mode}, exchange ${runtime.containers.scanner.exchange.id} (${runtime.containers.scanner.exchange.source} data), watchlist ${config.watchlist.join(' ')}`);
  console.log(`state in ${dataDir}/ (DynamoDB ${stack.dynamo.endpoint}, SQS ${stack.sqs.endpoint}); Ctrl-C to stop`);

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
          console.log(await statusLine(runtime, cycle, scan, delivered));
        } else if (schedule.job === 'reconciler') await runtime.reconcile();
        else await runtime.health();
      });
    run();
    timers.push(setInterval(run, every));
  }
  timers.push(setInterval(() => enqueue('executor', async () => void (await runtime.drain({ maxRounds: 20 }))), EXECUTOR_POLL_MS));

  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log('stopping: finishing the running job');
    for (const t of timers) clearInterval(t);
    await busy;
    runtime.close();
    sqs.destroy();
    await stack.stop();
    withdrawStack(dataDir);
    console.log('stopped; state kept for the next npm start');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

main().catch((error: unknown) => {
  const e = toTradewardenError(error);
  console.error(JSON.stringify({ error: e.toJSON() }, null, 2));
  process.exit(error instanceof ConfigError ? 2 : 1);
});
