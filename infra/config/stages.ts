/**
 * The stages and how one is chosen from the CDK context:
 *
 *   cdk synth                                   dev, paper trading
 *   cdk deploy -c stage=prod                    prod, paper trading
 *   cdk deploy -c stage=prod -c live=true -c alarmEmail=ops@example.com
 *                                               prod, live trading (sets TW_LIVE_TRADING_CONFIRMED=true)
 *   cdk deploy ... -c monitoring=full           a direct alarm for each cause health reports
 *   cdk deploy ... -c paperMarket=exchange      paper trading on the exchange's public prices (DATA-6)
 *
 * `live` and `alarmEmail` come only from the command line (or cdk.context.json), never from a
 * stage file, so a checked-in file cannot turn on live trading by itself (OPS-1).
 */
import { parseDeploymentConfig, type DeploymentConfig, type StageConfig } from './deployment-config.js';

const dev: StageConfig = {
  stage: 'dev',
  exchangeSecretName: 'tradewarden/dev/exchange-keys',
  notifierSecretName: 'tradewarden/dev/notifier',
  exchangeId: 'binance',
  quoteCurrency: 'USDT',
  watchlist: ['BTC/USDT', 'ETH/USDT', 'SOL/USDT'],
  logLevel: 'DEBUG',
  logRetentionDays: 14,
  tracing: true,
  functions: {
    scanner: { memoryMb: 512, timeoutSeconds: 30 },
    executor: { memoryMb: 512, timeoutSeconds: 25 },
    reconciler: { memoryMb: 512, timeoutSeconds: 120 },
    health: { memoryMb: 256, timeoutSeconds: 15 },
  },
  executor: { batchSize: 5, maxConcurrency: 2 },
  alarms: { errorRatePercent: 5, durationNearTimeoutRatio: 0.8, driftQuote: 10, pauseMaxAgeSeconds: 3600 },
  eventArchiveRetentionDays: 30,
  // A dev stack must be removable: governance mode, a week.
  auditCheckpoints: { lockMode: 'GOVERNANCE', retentionDays: 7, everyMinutes: 15 },
};

const prod: StageConfig = {
  ...dev,
  stage: 'prod',
  exchangeSecretName: 'tradewarden/prod/exchange-keys',
  notifierSecretName: 'tradewarden/prod/notifier',
  logLevel: 'INFO',
  logRetentionDays: 90,
  functions: {
    scanner: { memoryMb: 1024, timeoutSeconds: 30 },
    executor: { memoryMb: 1024, timeoutSeconds: 25 },
    reconciler: { memoryMb: 1024, timeoutSeconds: 180 },
    health: { memoryMb: 256, timeoutSeconds: 15 },
  },
  executor: { batchSize: 5, maxConcurrency: 5 },
  eventArchiveRetentionDays: 365,
  // Beyond a year of audits and tax questions; compliance: not even the root user can remove one.
  auditCheckpoints: { lockMode: 'COMPLIANCE', retentionDays: 400, everyMinutes: 15 },
};

/** Every deployable stage by name. */
export const STAGES: Readonly<Record<string, StageConfig>> = { dev, prod };
export const DEFAULT_STAGE = 'dev';

/** The raw CDK context values that select and adjust a stage. */
export interface StageContext {
  readonly stage?: unknown;
  readonly live?: unknown;
  readonly alarmEmail?: unknown;
  readonly monitoring?: unknown;
  readonly paperMarket?: unknown;
}

/**
 * Picks the stage named by the context (default `dev`), applies the command-line flags and
 * validates the result.
 * @throws DeploymentConfigError or Error naming the bad value.
 */
export function resolveDeploymentConfig(context: StageContext): DeploymentConfig {
  const stageName = context.stage === undefined ? DEFAULT_STAGE : String(context.stage);
  const stage = STAGES[stageName];
  if (!stage) throw new Error(`unknown stage "${stageName}"; known stages: ${Object.keys(STAGES).join(', ')}`);
  return parseDeploymentConfig({
    ...stage,
    live: parseLiveFlag(context.live),
    ...(context.alarmEmail === undefined ? {} : { alarmEmail: String(context.alarmEmail) }),
    ...(context.monitoring === undefined ? {} : { monitoring: String(context.monitoring) }),
    ...(context.paperMarket === undefined ? {} : { paperMarket: String(context.paperMarket) }),
  });
}

/** Only the exact value `true` turns live trading on; anything but `true`/`false` is an error. */
function parseLiveFlag(value: unknown): boolean {
  if (value === undefined || value === false || value === 'false') return false;
  if (value === true || value === 'true') return true;
  throw new Error(`context "live" must be true or false, got ${JSON.stringify(value)}`);
}
