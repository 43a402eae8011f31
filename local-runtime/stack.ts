/**
 * The embedded local stack: dynalite + fauxqs on loopback, tables and queues from the shared
 * definitions, and the environment the functions read (the same variables Lambda gets).
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { JOBS, SCHEDULES } from '../shared/definitions/schedules.js';
import { STACK_OUTPUT, functionNameOutput, functionSettingsOf } from '../shared/definitions/stack-outputs.js';
import { ENV } from '../shared/runtime/config.js';
import { startDynamo, startSqs, type RunningEmulator } from './emulators.js';
import { ownStartTicks, processState } from './state-lock.js';
import { createQueues, createTables } from './provision.js';

export const LOCAL_REGION = 'us-east-1';
/** Emulators accept any credentials; these keep the SDK from looking for real ones. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
export const LOCAL_PREFIX = 'tw-local';
/** Where `npm start` keeps its state (git-ignored). */
export const DEFAULT_DATA_DIR = '.tradewarden';

/**
 * Strategy settings of the local demo market: a smaller drop and take-profit than the AWS
 * defaults so a one-minute local run shows trades. Overridden by the user's own TW_* variables.
 */
export const LOCAL_STRATEGY_DEFAULTS: Readonly<Record<string, string>> = {
  [ENV.watchlist]: 'BTC/USDT,ETH/USDT,SOL/USDT,XRP/USDT,ADA/USDT,DOGE/USDT,LINK/USDT,AVAX/USDT',
  [ENV.maxOpenPositions]: '8',
  [ENV.dropPercent]: '0.08',
  [ENV.lookbackCandles]: '10',
  [ENV.takeProfitPercent]: '0.05',
  [ENV.stopLossPercent]: '0.05',
  [ENV.cooldownSeconds]: '10',
  [ENV.logLevel]: 'WARN',
};

export interface LocalStack {
  readonly env: Readonly<Record<string, string>>;
  readonly dynamo: RunningEmulator;
  readonly sqs: RunningEmulator;
  stop(): Promise<void>;
}

interface StackFile {
  readonly pid: number;
  /** Process start time (Linux), so a reused pid is not taken for the stack. */
  readonly startTicks?: string | null;
  readonly env: Record<string, string>;
}

/** The scheduler's compressed intervals, as the functions' schedule settings. */
function localScheduleEnv(): Record<string, string> {
  const every = (job: string) => String(SCHEDULES.find((s) => s.job === job)?.localEverySeconds ?? 5);
  return {
    [ENV.scannerEverySeconds]: every('scanner'),
    [ENV.reconcilerEverySeconds]: every('reconciler'),
    [ENV.healthEverySeconds]: every('health'),
  };
}

/**
 * Starts the emulators. `dataDir` keeps DynamoDB (LevelDB) and SQS (SQLite) state on disk so a
 * restart resumes; without it everything is in memory (tests).
 */
export async function startLocalStack(options: { dataDir?: string; userEnv?: Readonly<Record<string, string | undefined>> } = {}): Promise<LocalStack> {
  const dynamo = await startDynamo(options.dataDir ? { path: join(options.dataDir, 'dynamodb') } : {});
  const sqs = await startSqs(options.dataDir ? { dataDir: join(options.dataDir, 'sqs') } : {});
  const ddbClient = new DynamoDBClient({ endpoint: dynamo.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const sqsClient = new SQSClient({ endpoint: sqs.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  try {
    const tables = await createTables(ddbClient, LOCAL_PREFIX);
    const queues = await createQueues(sqsClient, LOCAL_PREFIX);
    const userTw = Object.fromEntries(Object.entries(options.userEnv ?? {}).filter((e): e is [string, string] => e[0].startsWith('TW_') && typeof e[1] === 'string'));
    const env: Record<string, string> = {
      ...LOCAL_STRATEGY_DEFAULTS,
      ...localScheduleEnv(),
      ...userTw,
      [ENV.region]: LOCAL_REGION,
      [ENV.stateTable]: tables.StateTable ?? '',
      [ENV.auditTable]: tables.AuditTable ?? '',
      [ENV.idempotencyTable]: tables.IdempotencyTable ?? '',
      [ENV.paperTable]: tables.PaperExchangeTable ?? '',
      [ENV.executionQueueUrl]: queues.executionQueueUrl,
      [ENV.executionDlqUrl]: queues.executionDlqUrl,
      [ENV.dynamodbEndpoint]: dynamo.endpoint,
      [ENV.sqsEndpoint]: sqs.endpoint,
    };
    // The audit checkpoints (SEC-5) beside the state, outside the emulator that holds the audit log.
    if (options.dataDir && !env[ENV.auditCheckpointDir]) env[ENV.auditCheckpointDir] = resolve(options.dataDir, 'audit-checkpoints');
    return {
      env,
      dynamo,
      sqs,
      stop: async () => {
        ddbClient.destroy();
        sqsClient.destroy();
        await sqs.stop();
        await dynamo.stop();
      },
    };
  } catch (error) {
    ddbClient.destroy();
    sqsClient.destroy();
    await sqs.stop();
    await dynamo.stop();
    throw error;
  }
}

const stackFile = (dataDir: string) => join(dataDir, 'stack.json');

/** Records the running stack so `npm run invoke` and `npm run ops` can join it. */
export function advertiseStack(dataDir: string, env: Record<string, string>): void {
  const content: StackFile = { pid: process.pid, startTicks: ownStartTicks(), env };
  writeFileSync(stackFile(dataDir), JSON.stringify(content, null, 2));
}

export function withdrawStack(dataDir: string): void {
  rmSync(stackFile(dataDir), { force: true });
}

/**
 * The environment of a running `npm start`, or null when none runs: no stack file, or its process
 * is gone (exited, a zombie, or its pid now belongs to another process).
 */
export function runningStack(dataDir: string): Record<string, string> | null {
  if (!existsSync(stackFile(dataDir))) return null;
  let content: StackFile;
  try {
    content = JSON.parse(readFileSync(stackFile(dataDir), 'utf8')) as StackFile;
  } catch {
    // Half-written by a start that was killed: no stack runs from it.
    return null;
  }
  return processState(content.pid, content.startTicks ?? null) === 'alive' ? content.env : null;
}

/** The local name of a job's function (Lambda context, outputs). */
export function localFunctionName(job: string): string {
  return `tradewarden-${job}`;
}

/**
 * The embedded stack's outputs, with the same keys as the deployed stack's
 * (shared/definitions/stack-outputs.ts). The local stack has no event bus, alarm topic or secret.
 */
export function localStackOutputs(env: Readonly<Record<string, string>>): Record<string, string> {
  const outputs: Record<string, string> = {
    [STACK_OUTPUT.stateTable]: env[ENV.stateTable] ?? '',
    [STACK_OUTPUT.auditTable]: env[ENV.auditTable] ?? '',
    [STACK_OUTPUT.idempotencyTable]: env[ENV.idempotencyTable] ?? '',
    [STACK_OUTPUT.paperTable]: env[ENV.paperTable] ?? '',
    [STACK_OUTPUT.executionQueueUrl]: env[ENV.executionQueueUrl] ?? '',
    [STACK_OUTPUT.executionDlqUrl]: env[ENV.executionDlqUrl] ?? '',
    [STACK_OUTPUT.functionSettings]: JSON.stringify(functionSettingsOf(env)),
    [STACK_OUTPUT.tradingMode]: env[ENV.mode] ?? 'paper',
  };
  for (const job of JOBS) outputs[functionNameOutput(job)] = localFunctionName(job);
  return outputs;
}

/** A stand-in for the Lambda context object, for local invocations. */
export function localContext(functionName: string, timeoutMs: number) {
  const started = Date.now();
  return {
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${LOCAL_REGION}:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: crypto.randomUUID(),
    logGroupName: `/local/${functionName}`,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => Math.max(0, timeoutMs - (Date.now() - started)),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
