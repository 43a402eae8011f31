/**
 * The one configuration of every function and local tool (CFG-1). It is parsed from the
 * environment exactly once, at cold start, by `loadConfig`; nothing else reads `process.env`.
 * An invalid or missing value throws a ConfigError naming every bad field.
 */
import { closest } from 'fastest-levenshtein';
import * as z from '../domain/zod-mini.js';
import { ConfigError, UnknownSettingError } from '../domain/errors.js';
import type { ProtectionSettings } from '../domain/protections.js';
import { DEFAULT_LOCK_LEASE_SECONDS } from '../domain/timing.js';
import { SCHEDULES, type ScheduledJob } from '../definitions/schedules.js';
import { NOTIFIER_ENV } from './notifier-env.js';
import { parseBudget } from '../domain/ledger.js';
import { DRIFT_MODES, type DriftMode } from '../domain/drift.js';

/** Default interval of a scheduled job on AWS, from the shared schedule definition. */
function defaultEvery(job: ScheduledJob): number {
  return SCHEDULES.find((s) => s.job === job)?.everySeconds ?? 60;
}

const decimalString = z.string().check(z.regex(/^\d+(\.\d+)?$/, 'must be a non-negative decimal number such as 25 or 0.5'));
/** http(s) URL; queue URLs of the local SQS emulator have unusual hosts, so only the shape is checked. */
const httpUrl = z.string().check(z.regex(/^https?:\/\/[^\s/]+(\/\S*)?$/, 'must be an http(s) URL'));
const int = (...checks: z.core.$ZodCheck<number>[]) => z.coerce.number().check(z.int(), ...checks);
const positiveInt = (max?: number) => int(z.positive(), ...(max === undefined ? [] : [z.maximum(max)]));
const symbolItem = z.string().check(z.regex(/^[A-Z0-9]{2,15}\/[A-Z0-9]{2,15}$/, 'symbols look like BTC/USDT'));
const commaList = z.pipe(z.string(), z.transform((s) => s.split(',').map((x) => x.trim()).filter((x) => x.length > 0)));
const optionalSymbolList = z.pipe(commaList, z.array(symbolItem).check(z.maxLength(5000)));
const symbolList = z.pipe(commaList, z.array(symbolItem).check(z.minLength(1), z.maxLength(1000)));
const trueFalse = z.pipe(z._default(z.enum(['true', 'false']), 'false'), z.transform((v) => v === 'true'));
const d = z._default;
const opt = z.optional;

/** Environment variable names, one per setting. Documented in the README. */
export const ENV = {
  mode: 'TW_MODE',
  liveTradingConfirmed: 'TW_LIVE_TRADING_CONFIRMED',
  exchangeId: 'TW_EXCHANGE_ID',
  quoteCurrency: 'TW_QUOTE_CURRENCY',
  watchlist: 'TW_WATCHLIST',
  region: 'AWS_REGION',
  stateTable: 'TW_STATE_TABLE',
  auditTable: 'TW_AUDIT_TABLE',
  idempotencyTable: 'TW_IDEMPOTENCY_TABLE',
  paperTable: 'TW_PAPER_TABLE',
  executionQueueUrl: 'TW_EXECUTION_QUEUE_URL',
  executionDlqUrl: 'TW_EXECUTION_DLQ_URL',
  dynamodbEndpoint: 'TW_DYNAMODB_ENDPOINT',
  sqsEndpoint: 'TW_SQS_ENDPOINT',
  exchangeSecretArn: 'TW_EXCHANGE_SECRET_ARN',
  eventBusName: 'TW_EVENT_BUS_NAME',
  maxPauseAgeSeconds: 'TW_MAX_PAUSE_AGE_SECONDS',
  strategies: 'TW_STRATEGIES',
  maxTotalExposure: 'TW_MAX_TOTAL_EXPOSURE',
  cooldownSeconds: 'TW_COOLDOWN_SECONDS',
  maxDailyLoss: 'TW_MAX_DAILY_LOSS',
  maxDrawdownPercent: 'TW_MAX_DRAWDOWN_PERCENT',
  exchangeTimeoutMs: 'TW_EXCHANGE_TIMEOUT_MS',
  exchangeWeightPerMinute: 'TW_EXCHANGE_WEIGHT_PER_MINUTE',
  rateBudgetPercent: 'TW_RATE_BUDGET_PERCENT',
  circuitFailureThreshold: 'TW_CIRCUIT_FAILURE_THRESHOLD',
  circuitOpenSeconds: 'TW_CIRCUIT_OPEN_SECONDS',
  driftAlarmQuote: 'TW_DRIFT_ALARM_QUOTE',
  driftPauseQuote: 'TW_DRIFT_PAUSE_QUOTE',
  dropPercent: 'TW_STRATEGY_DROP_PERCENT',
  lookbackCandles: 'TW_STRATEGY_LOOKBACK_CANDLES',
  takeProfitPercent: 'TW_STRATEGY_TAKE_PROFIT_PERCENT',
  stopLossPercent: 'TW_STRATEGY_STOP_LOSS_PERCENT',
  orderQuoteAmount: 'TW_ORDER_QUOTE_AMOUNT',
  maxOpenPositions: 'TW_MAX_OPEN_POSITIONS',
  maxExposurePerSymbol: 'TW_MAX_EXPOSURE_PER_SYMBOL',
  intentTtlSeconds: 'TW_INTENT_TTL_SECONDS',
  staleDataSeconds: 'TW_STALE_DATA_SECONDS',
  lockLeaseSeconds: 'TW_LOCK_LEASE_SECONDS',
  reservationMaxAgeSeconds: 'TW_RESERVATION_MAX_AGE_SECONDS',
  reservationBufferPercent: 'TW_RESERVATION_BUFFER_PERCENT',
  scannerEverySeconds: 'TW_SCANNER_EVERY_SECONDS',
  scanDeadlineSeconds: 'TW_SCAN_DEADLINE_SECONDS',
  scanConcurrency: 'TW_SCAN_CONCURRENCY',
  pairListTop: 'TW_PAIRLIST_TOP',
  pairListMinQuoteVolume: 'TW_PAIRLIST_MIN_QUOTE_VOLUME',
  pairListMinPrice: 'TW_PAIRLIST_MIN_PRICE',
  pairListMaxSpreadPercent: 'TW_PAIRLIST_MAX_SPREAD_PERCENT',
  pairListAllow: 'TW_PAIRLIST_ALLOW',
  pairListDeny: 'TW_PAIRLIST_DENY',
  exchangeOrdersPer10s: 'TW_EXCHANGE_ORDERS_PER_10S',
  exchangeOrdersPerDay: 'TW_EXCHANGE_ORDERS_PER_DAY',
  reconcilerEverySeconds: 'TW_RECONCILER_EVERY_SECONDS',
  healthEverySeconds: 'TW_HEALTH_EVERY_SECONDS',
  paperSeed: 'TW_PAPER_SEED',
  paperFeePercent: 'TW_PAPER_FEE_PERCENT',
  paperInitialQuote: 'TW_PAPER_INITIAL_QUOTE',
  /** Paper trading on the synthetic market (default, offline). `exchange` (DATA-6) is refused: not built yet. */
  paperMarket: 'TW_PAPER_MARKET',
  /** What the book opens with from the exchange's balances, per asset (`USDT:1000,BNB:0.5`); unset: the whole free balance in live mode (REC-6). */
  budget: 'TW_BUDGET',
  /** `exclusive` (Tradewarden alone trades its assets on the account) or `shared` (several deployments on one account, REC-7). */
  driftMode: 'TW_DRIFT_MODE',
  /** When this run of the stack started (ISO; set by `npm start`): health calls older heartbeats 'starting' for a while. */
  startedAt: 'TW_STARTED_AT',
  paperFeeAsset: 'TW_PAPER_FEE_ASSET',
  paperInitialFeeAsset: 'TW_PAPER_INITIAL_FEE_ASSET',
  /** Read by the local tools only (`npm start`, `ops`, `invoke`): where the embedded stack keeps its state. */
  localDataDir: 'TW_LOCAL_DATA_DIR',
  /** The S3 bucket (Object Lock) that keeps the audit checkpoints (SEC-5); set on the checkpoint function only. */
  auditCheckpointBucket: 'TW_AUDIT_CHECKPOINT_BUCKET',
  /** Locally: the append-only directory that keeps the audit checkpoints (SEC-5); `npm start` puts it in its state directory. */
  auditCheckpointDir: 'TW_AUDIT_CHECKPOINT_DIR',
  logLevel: 'POWERTOOLS_LOG_LEVEL',
  tracing: 'POWERTOOLS_TRACE_ENABLED',
} as const;

/** Prefix of Tradewarden's own environment variables; every one of them must be a known setting. */
export const SETTING_PREFIX = 'TW_';

/** `TW_*` names in `env` that are no known setting, each with the closest known name. */
export function unknownSettings(env: Readonly<Record<string, string | undefined>>): Array<{ name: string; closest: string }> {
  // The notifier's settings are read by the notifier (and `npm start`) only, but are settings all the same.
  const known = [...Object.values(ENV), ...Object.values(NOTIFIER_ENV)] as string[];
  const tw = known.filter((n) => n.startsWith(SETTING_PREFIX));
  return Object.keys(env)
    .filter((name) => name.startsWith(SETTING_PREFIX) && !known.includes(name))
    .sort()
    .map((name) => ({ name, closest: closest(name, tw) }));
}

/** @throws UnknownSettingError when `env` holds a `TW_*` variable that is no setting (CFG-3). */
export function assertKnownSettings(env: Readonly<Record<string, string | undefined>>): void {
  const unknown = unknownSettings(env);
  if (unknown.length > 0) throw new UnknownSettingError(unknown);
}

const schema = z
  .object({
    mode: d(z.enum(['paper', 'live']), 'paper'),
    liveTradingConfirmed: trueFalse,
    exchangeId: d(z.string().check(z.regex(/^[a-z0-9]+$/)), 'binance'),
    quoteCurrency: d(z.string().check(z.regex(/^[A-Z0-9]{2,15}$/)), 'USDT'),
    watchlist: d(symbolList, ['BTC/USDT', 'ETH/USDT', 'SOL/USDT']),
    region: d(z.string().check(z.minLength(1)), 'us-east-1'),
    stateTable: z.string().check(z.minLength(3)),
    auditTable: z.string().check(z.minLength(3)),
    idempotencyTable: z.string().check(z.minLength(3)),
    paperTable: z.string().check(z.minLength(3)),
    executionQueueUrl: httpUrl,
    executionDlqUrl: httpUrl,
    dynamodbEndpoint: opt(httpUrl),
    sqsEndpoint: opt(httpUrl),
    exchangeSecretArn: opt(z.string().check(z.minLength(1))),
    eventBusName: opt(z.string().check(z.minLength(1))),
    maxPauseAgeSeconds: d(positiveInt(7 * 86_400), 3600),
    strategies: d(z.pipe(commaList, z.array(z.string().check(z.regex(/^[a-z0-9-]{1,40}$/))).check(z.minLength(1))), ['price-drop']),
    /** 0 turns the limit off. */
    maxTotalExposure: d(decimalString, '0'),
    cooldownSeconds: d(int(z.minimum(0), z.maximum(86_400)), 900),
    /** 0 turns the limit off. */
    maxDailyLoss: d(decimalString, '0'),
    /** 0 turns the limit off. */
    maxDrawdownPercent: d(decimalString, '0'),
    /** Exchange request timeout; below every function timeout. */
    exchangeTimeoutMs: d(int(z.minimum(1000), z.maximum(25_000)), 8000),
    exchangeWeightPerMinute: d(positiveInt(1_000_000), 6000),
    /** Share of the exchange's limit the shared budget lets callers use before backing off. */
    rateBudgetPercent: d(positiveInt(100), 80),
    circuitFailureThreshold: d(positiveInt(100), 5),
    circuitOpenSeconds: d(positiveInt(3600), 60),
    driftAlarmQuote: d(decimalString, '10'),
    driftPauseQuote: d(decimalString, '100'),
    dropPercent: d(decimalString, '1.5'),
    lookbackCandles: d(positiveInt(1000), 30),
    takeProfitPercent: d(decimalString, '2'),
    stopLossPercent: d(decimalString, '3'),
    orderQuoteAmount: d(decimalString, '100'),
    maxOpenPositions: d(positiveInt(1000), 5),
    maxExposurePerSymbol: d(decimalString, '500'),
    intentTtlSeconds: d(positiveInt(3600), 120),
    staleDataSeconds: d(positiveInt(3600), 90),
    lockLeaseSeconds: d(positiveInt(900), DEFAULT_LOCK_LEASE_SECONDS),
    reservationMaxAgeSeconds: d(positiveInt(86_400), 900),
    reservationBufferPercent: d(decimalString, '1'),
    scannerEverySeconds: d(positiveInt(), defaultEvery('scanner')),
    /**
     * Time a scan may spend fetching candles before it stops and rotates; below the scanner's
     * period and its function timeout. Default: half the period, at most SCAN_DEADLINE_DEFAULT_SECONDS.
     */
    scanDeadlineSeconds: opt(positiveInt(900)),
    /** Candle requests in flight at once. */
    scanConcurrency: d(positiveInt(100), 20),
    /** The watchlist as a rule (DATA-8): the top N markets by quote volume; 0 keeps the fixed TW_WATCHLIST. */
    pairListTop: d(int(z.minimum(0), z.maximum(1000)), 0),
    pairListMinQuoteVolume: d(decimalString, '0'),
    pairListMinPrice: d(decimalString, '0'),
    /** 0 turns the filter off. */
    pairListMaxSpreadPercent: d(decimalString, '0'),
    pairListAllow: d(optionalSymbolList, []),
    pairListDeny: d(optionalSymbolList, []),
    /** The exchange's order-count limits, per account (Binance ORDERS: 100 per 10 s, 200,000 per day). */
    exchangeOrdersPer10s: d(positiveInt(100_000), 100),
    exchangeOrdersPerDay: d(positiveInt(10_000_000), 200_000),
    reconcilerEverySeconds: d(positiveInt(), defaultEvery('reconciler')),
    healthEverySeconds: d(positiveInt(), defaultEvery('health')),
    paperSeed: d(z.string().check(z.minLength(1), z.maxLength(64)), 'tradewarden'),
    paperFeePercent: d(decimalString, '0.1'),
    paperInitialQuote: d(decimalString, '10000'),
    /** The paper exchange's market: the synthetic one (offline), or TW_EXCHANGE_ID's public market data (DATA-6). */
    paperMarket: d(z.enum(['synthetic', 'exchange']), 'synthetic'),
    budget: opt(
      z.pipe(
        z.string(),
        z.transform((text, ctx) => {
          try {
            return parseBudget(text);
          } catch (error) {
            ctx.issues.push({ code: 'custom', message: error instanceof Error ? error.message : String(error), input: text });
            return z.NEVER;
          }
        }),
      ),
    ),
    driftMode: d(z.enum(DRIFT_MODES as [DriftMode, ...DriftMode[]]), 'exclusive'),
    startedAt: opt(z.iso.datetime({ offset: true })),
    /** What the paper exchange charges fees in: the quote currency, the coin received (Binance without BNB), or a third asset such as BNB. */
    paperFeeAsset: d(z.union([z.enum(['quote', 'base']), z.string().check(z.regex(/^[A-Z0-9]{2,15}$/, 'quote, base or an asset code such as BNB'))]), 'quote'),
    /** Opening paper holding of a third fee asset (TW_PAPER_FEE_ASSET=BNB): what the fees are paid from. */
    paperInitialFeeAsset: d(decimalString, '0'),
    localDataDir: opt(z.string().check(z.minLength(1))),
    auditCheckpointBucket: opt(z.string().check(z.regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name'))),
    auditCheckpointDir: opt(z.string().check(z.minLength(1))),
    logLevel: d(z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT', 'CRITICAL', 'TRACE']), 'INFO'),
    /** X-Ray tracing through Powertools Tracer; the stack sets it with active tracing. Off: the X-Ray SDK is never loaded. */
    tracing: trueFalse,
  })
  .check(
    z.superRefine((c, ctx) => {
      if (c.mode === 'live' && !c.liveTradingConfirmed) {
        ctx.addIssue({ code: 'custom', path: ['liveTradingConfirmed'], message: 'live mode needs TW_LIVE_TRADING_CONFIRMED=true' });
      }
      if (c.mode === 'live' && !c.exchangeSecretArn) {
        ctx.addIssue({ code: 'custom', path: ['exchangeSecretArn'], message: 'live mode needs the exchange API key secret' });
      }
      if (c.scanDeadlineSeconds !== undefined && c.scanDeadlineSeconds >= c.scannerEverySeconds) {
        ctx.addIssue({ code: 'custom', path: ['scanDeadlineSeconds'], message: `must be below the scanner period of ${c.scannerEverySeconds} s` });
      }
      if (c.paperFeeAsset !== 'quote' && c.paperFeeAsset !== 'base' && c.paperFeeAsset === c.quoteCurrency) {
        ctx.addIssue({ code: 'custom', path: ['paperFeeAsset'], message: `use quote for fees in ${c.quoteCurrency}` });
      }
      if (c.budget && c.budget[c.quoteCurrency] === undefined) {
        ctx.addIssue({ code: 'custom', path: ['budget'], message: `must name the quote currency ${c.quoteCurrency}, e.g. ${c.quoteCurrency}:1000` });
      }
      for (const s of c.watchlist) {
        if (!s.endsWith(`/${c.quoteCurrency}`)) {
          ctx.addIssue({ code: 'custom', path: ['watchlist'], message: `${s} is not quoted in ${c.quoteCurrency}` });
        }
      }
    }),
  );

export type Config = z.infer<typeof schema>;
type ConfigKey = keyof typeof ENV;

/**
 * Parses the configuration from an environment map. Empty strings count as missing.
 * @throws ConfigError naming each bad field by its environment variable.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>): Config {
  assertKnownSettings(env);
  const raw: Record<string, string> = {};
  for (const [key, name] of Object.entries(ENV) as [ConfigKey, string][]) {
    const value = env[name];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  // Parsed once per container: zod's compiled fast path costs more to build than it saves here.
  const parsed = schema.safeParse(raw, { jitless: true });
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => {
      const key = i.path[0] as ConfigKey | undefined;
      const field = key && key in ENV ? ENV[key] : String(i.path.join('.'));
      return `${field}: ${i.message}`;
    });
    throw new ConfigError(issues);
  }
  return parsed.data;
}

/** Upper bound of the default scan deadline: well inside the scanner's 30 s function timeout. */
export const SCAN_DEADLINE_DEFAULT_SECONDS = 20;

/** The scan deadline in seconds: the setting, else half the period capped at SCAN_DEADLINE_DEFAULT_SECONDS. */
export function scanDeadlineSeconds(config: Config): number {
  return config.scanDeadlineSeconds ?? Math.max(1, Math.min(SCAN_DEADLINE_DEFAULT_SECONDS, Math.floor(config.scannerEverySeconds / 2)));
}

/** The protections as the deployment configures them; the tunables record overrides them at run time. */
export function configuredProtections(config: Config): ProtectionSettings {
  return {
    maxOpenPositions: config.maxOpenPositions,
    maxExposurePerSymbol: config.maxExposurePerSymbol,
    maxTotalExposure: config.maxTotalExposure,
    cooldownSeconds: config.cooldownSeconds,
    stopLossPercent: config.stopLossPercent,
    takeProfitPercent: config.takeProfitPercent,
    maxDailyLoss: config.maxDailyLoss,
    maxDrawdownPercent: config.maxDrawdownPercent,
  };
}

/** How often each scheduled job runs under this configuration, in seconds. */
export function scheduleSeconds(config: Config): Record<ScheduledJob, number> {
  return {
    scanner: config.scannerEverySeconds,
    reconciler: config.reconcilerEverySeconds,
    health: config.healthEverySeconds,
  };
}
