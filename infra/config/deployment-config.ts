/**
 * The deployment configuration of one stage (OPS-1, OPS-5): what `cdk deploy` builds and how the
 * functions are sized. Typed and validated with zod at synth time, so a bad value stops the
 * synth with a message naming the field instead of deploying a broken stack.
 *
 * Trading mode is deliberately NOT a stage setting: every stage deploys in paper mode unless the
 * deployer passes the explicit flag `-c live=true` (see `resolveDeploymentConfig`).
 */
import { z } from 'zod';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { ENV } from '../../shared/runtime/config.js';
import { EXECUTION_QUEUE } from '../../shared/definitions/queues.js';
import { VISIBILITY_TO_TIMEOUT_RATIO } from '../../shared/domain/timing.js';
import { SCHEDULES, type JobName } from '../../shared/definitions/schedules.js';

/** Lambda's own limits (memory in MB, timeout in seconds). */
const LAMBDA_MIN_MEMORY_MB = 128;
const LAMBDA_MAX_MEMORY_MB = 10_240;
const LAMBDA_MAX_TIMEOUT_SECONDS = 900;
/** SQS FIFO event sources deliver at most 10 messages per batch. */
const FIFO_MAX_BATCH_SIZE = 10;
/** Lambda's bounds for an SQS event source's maximum concurrency. */
const SQS_MIN_MAX_CONCURRENCY = 2;
const SQS_MAX_MAX_CONCURRENCY = 1000;

/**
 * Settings the infrastructure owns: resource names, trading mode, exchange, watchlist, schedule
 * intervals, log level and tracing are derived from the stack and this config. Every other key of the
 * shared `ENV` map is a strategy/risk tunable a stage may override in `settings`.
 */
export const INFRA_MANAGED_SETTINGS = [
  'mode',
  'liveTradingConfirmed',
  'exchangeId',
  'quoteCurrency',
  'watchlist',
  'region',
  'stateTable',
  'auditTable',
  'idempotencyTable',
  'paperTable',
  'executionQueueUrl',
  'executionDlqUrl',
  'dynamodbEndpoint',
  'sqsEndpoint',
  'exchangeSecretArn',
  'eventBusName',
  'maxPauseAgeSeconds',
  'scannerEverySeconds',
  'reconcilerEverySeconds',
  'healthEverySeconds',
  'logLevel',
  'tracing',
  'auditCheckpointBucket',
  'auditCheckpointDir',
  'localDataDir',
  // Decides what the functions bundle (paperMarket below), so a stage sets it there, not in settings.
  'paperMarket',
] as const satisfies readonly (keyof typeof ENV)[];

type ManagedSetting = (typeof INFRA_MANAGED_SETTINGS)[number];
/** A key of the shared `ENV` map that a stage may set (strategy and risk tunables). */
export type TunableSetting = Exclude<keyof typeof ENV, ManagedSetting>;

const managed = new Set<string>(INFRA_MANAGED_SETTINGS);
const TUNABLE_SETTINGS = (Object.keys(ENV) as (keyof typeof ENV)[]).filter((k): k is TunableSetting => !managed.has(k));

const retentionValues = new Set<number>(Object.values(RetentionDays).filter((v): v is number => typeof v === 'number'));

const functionSizing = z.strictObject({
  memoryMb: z.int().min(LAMBDA_MIN_MEMORY_MB).max(LAMBDA_MAX_MEMORY_MB),
  timeoutSeconds: z.int().min(1).max(LAMBDA_MAX_TIMEOUT_SECONDS),
});

const symbol = z.string().regex(/^[A-Z0-9]{2,15}\/[A-Z0-9]{2,15}$/, 'symbols look like BTC/USDT');

export const deploymentConfigSchema = z
  .strictObject({
    /** Stage name; part of the stack name. */
    stage: z.string().regex(/^[a-z][a-z0-9-]{1,20}$/),
    /** Live trading. Only ever true through the explicit `-c live=true` flag. */
    live: z.boolean().default(false),
    /** Where alarm notifications are emailed. Optional: the topic exists either way. */
    alarmEmail: z.email().optional(),
    /**
     * Name of the Secrets Manager secret with the exchange API keys, created by the operator
     * before going live. The stack only references it, so no deploy can overwrite the keys.
     */
    exchangeSecretName: z.string().regex(/^[A-Za-z0-9/_+=.@-]{1,256}$/, 'not a Secrets Manager secret name'),
    /**
     * Name of the Secrets Manager secret with the notifier's chat credentials (JSON, every field
     * optional: telegramBotToken, telegramChatId, telegramWebhookSecret, slackWebhookUrl),
     * created by the operator (`{}` for email only). Referenced, never created or written by the
     * stack, so no deploy can overwrite what the operator stored.
     */
    notifierSecretName: z.string().regex(/^[A-Za-z0-9/_+=.@-]{1,256}$/, 'not a Secrets Manager secret name'),
    /** ccxt exchange id; the bundle contains only this exchange's class. */
    exchangeId: z.string().regex(/^[a-z0-9]+$/),
    /**
     * Where a paper stage's prices come from (DATA-6): `synthetic` (computed, offline) or
     * `exchange`: the public market data of `exchangeId` through ccxt, without keys. With
     * `exchange`, the functions that read market data (`JOBS_WITH_MARKET_DATA`) get
     * `TW_PAPER_MARKET=exchange` and bundle that one exchange's class; the others stay
     * exchange-free. Live stages always trade on the exchange and ignore it.
     */
    paperMarket: z.enum(['synthetic', 'exchange']).default('synthetic'),
    quoteCurrency: z.string().regex(/^[A-Z0-9]{2,15}$/),
    watchlist: z.array(symbol).min(1).max(1000),
    logLevel: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT', 'CRITICAL', 'TRACE']),
    /** CloudWatch Logs retention of every function, in days (one of CloudWatch's allowed values). */
    logRetentionDays: z.int().refine((d) => retentionValues.has(d), 'not a CloudWatch Logs retention value'),
    /** X-Ray active tracing (Powertools Tracer). */
    tracing: z.boolean(),
    functions: z.strictObject({
      scanner: functionSizing,
      executor: functionSizing,
      reconciler: functionSizing,
      health: functionSizing,
    }),
    executor: z.strictObject({
      /** Messages per invocation from the FIFO queue. */
      batchSize: z.int().min(1).max(FIFO_MAX_BATCH_SIZE),
      /** Upper bound on concurrent executor invocations fed by the queue. */
      maxConcurrency: z.int().min(SQS_MIN_MAX_CONCURRENCY).max(SQS_MAX_MAX_CONCURRENCY),
    }),
    alarms: z.strictObject({
      /** Errors / invocations, in percent, above which a function's error-rate alarm fires. */
      errorRatePercent: z.number().positive().max(100),
      /** p99 duration above this share of the timeout fires the duration alarm. */
      durationNearTimeoutRatio: z.number().positive().lt(1),
      /** Reconciliation drift, in quote currency, above which the drift alarm fires (REC-4). */
      driftQuote: z.number().positive(),
      /** A pause older than this many seconds alarms (RISK-3); also the health report's limit. */
      pauseMaxAgeSeconds: z.int().positive(),
    }),
    /**
     * Which alarms to create (infra/constructs/operational-alarms.ts): `lean` alarms directly only
     * on what health does not report and lets health's FAILING carry the rest (about a third of the
     * alarm bill); `full` adds a direct alarm for each of health's causes.
     */
    monitoring: z.enum(['lean', 'full']).default('lean'),
    /**
     * SEC-5: the audit checkpoints. `lockMode` of the bucket's Object Lock: COMPLIANCE (no one, the
     * account's root user included, can delete a checkpoint or shorten its retention before it
     * expires) or GOVERNANCE (a principal granted s3:BypassGovernanceRetention can: for a stage
     * that must be torn down at will; no Tradewarden role holds it). `retentionDays`: how long each
     * checkpoint is locked. `everyMinutes`: how often the heads are anchored, which bounds how far
     * back an undetectable rewrite can reach.
     */
    auditCheckpoints: z
      .strictObject({
        lockMode: z.enum(['COMPLIANCE', 'GOVERNANCE']),
        retentionDays: z.int().min(1).max(36_500),
        everyMinutes: z.int().min(1).max(1440),
      })
      .default({ lockMode: 'COMPLIANCE', retentionDays: 400, everyMinutes: 15 }),
    /** How long the domain-event archive keeps events for replay. */
    eventArchiveRetentionDays: z.int().min(1).max(3650),
    /** Strategy and risk tunables by shared `ENV` key; anything unset takes the function default. */
    settings: z.partialRecord(z.enum(TUNABLE_SETTINGS as [TunableSetting, ...TunableSetting[]]), z.string().min(1)).default({}),
  })
  .superRefine((c, ctx) => {
    for (const s of c.watchlist) {
      if (!s.endsWith(`/${c.quoteCurrency}`)) {
        ctx.addIssue({ code: 'custom', path: ['watchlist'], message: `${s} is not quoted in ${c.quoteCurrency}` });
      }
    }
    const executorTimeout = c.functions.executor.timeoutSeconds;
    if (executorTimeout * VISIBILITY_TO_TIMEOUT_RATIO > EXECUTION_QUEUE.visibilityTimeoutSeconds) {
      ctx.addIssue({
        code: 'custom',
        path: ['functions', 'executor', 'timeoutSeconds'],
        message: `must be at most ${Math.floor(EXECUTION_QUEUE.visibilityTimeoutSeconds / VISIBILITY_TO_TIMEOUT_RATIO)} (the execution queue's visibility timeout / ${VISIBILITY_TO_TIMEOUT_RATIO})`,
      });
    }
    for (const s of SCHEDULES) {
      if (c.functions[s.job].timeoutSeconds > s.everySeconds) {
        ctx.addIssue({
          code: 'custom',
          path: ['functions', s.job, 'timeoutSeconds'],
          message: `must not exceed the schedule interval (${s.everySeconds}s) so runs do not overlap`,
        });
      }
    }
    if (c.live && !c.alarmEmail) {
      ctx.addIssue({ code: 'custom', path: ['alarmEmail'], message: 'live trading needs an alarm email: alarms must reach a person' });
    }
  });

/** A stage's deployment configuration, validated. */
export type DeploymentConfig = z.infer<typeof deploymentConfigSchema>;
/** What a stage file provides: everything but the flags that only the command line may set. */
export type StageConfig = Omit<z.input<typeof deploymentConfigSchema>, 'live' | 'alarmEmail'> & { readonly alarmEmail?: string };

/** Thrown when the deployment configuration is invalid; names every bad field. */
export class DeploymentConfigError extends Error {
  constructor(readonly issues: readonly string[]) {
    super(`invalid deployment configuration: ${issues.join('; ')}`);
    this.name = 'DeploymentConfigError';
  }
}

/** Validates a raw deployment configuration. @throws DeploymentConfigError */
export function parseDeploymentConfig(raw: unknown): DeploymentConfig {
  const parsed = deploymentConfigSchema.safeParse(raw);
  if (!parsed.success) {
    throw new DeploymentConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  }
  return parsed.data;
}

/** `paper` unless the explicit live flag was given. */
export function tradingMode(config: DeploymentConfig): 'paper' | 'live' {
  return config.live ? 'live' : 'paper';
}

/**
 * The jobs that read market data: the scanner (tickers, candles), the executor (the paper
 * exchange fills at the real bid/ask) and the reconciler (resting paper orders are matched
 * against the exchange's candles). Health reads stored state only.
 */
export const JOBS_WITH_MARKET_DATA: ReadonlySet<JobName> = new Set<JobName>(['scanner', 'executor', 'reconciler']);

/**
 * The ccxt exchange a job's bundle carries: the configured one in live mode (every job), and in
 * a paper stage on real prices for the jobs that read market data; none otherwise.
 */
export function bundledExchange(config: DeploymentConfig, job: JobName): string | undefined {
  if (tradingMode(config) === 'live') return config.exchangeId;
  return config.paperMarket === 'exchange' && JOBS_WITH_MARKET_DATA.has(job) ? config.exchangeId : undefined;
}
