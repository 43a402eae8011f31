/**
 * The environment of every function, keyed by the shared `ENV` names (CFG-1). All four functions
 * get the same settings because they all parse the same configuration at cold start; what a
 * function may actually touch is decided by IAM (see `constructs/job-access.ts`), not by which
 * names it can see.
 */
import { Token } from 'aws-cdk-lib';
import { ENV, loadConfig, type Config } from '../../shared/runtime/config.js';
import { scheduleOf, type JobName } from '../../shared/definitions/schedules.js';
import { METRICS_NAMESPACE } from '../../shared/runtime/metric-names.js';
import { bundledExchange, tradingMode, type DeploymentConfig } from './deployment-config.js';

/** Powertools reads these two; the `service` dimension of every metric is the job name. */
export const POWERTOOLS_SERVICE_NAME_ENV = 'POWERTOOLS_SERVICE_NAME';
export const POWERTOOLS_METRICS_NAMESPACE_ENV = 'POWERTOOLS_METRICS_NAMESPACE';

/** Stack traces point at the TypeScript sources through the bundled source maps. */
const NODE_OPTIONS_VALUE = '--enable-source-maps';

/** Names (or ARNs/URLs) of the deployed resources the functions are told about. */
export interface FunctionResources {
  readonly stateTable: string;
  readonly auditTable: string;
  readonly idempotencyTable: string;
  readonly paperTable: string;
  readonly executionQueueUrl: string;
  readonly executionDlqUrl: string;
  readonly eventBusName: string;
  /** The exchange API key secret; only passed in live mode (paper mode needs no keys). */
  readonly exchangeSecretArn: string;
}

/** The environment variables of one job's function. */
export function functionEnvironment(config: DeploymentConfig, job: JobName, resources: FunctionResources): Record<string, string> {
  const mode = tradingMode(config);
  const env: Record<string, string> = {
    [ENV.mode]: mode,
    [ENV.liveTradingConfirmed]: String(mode === 'live'),
    [ENV.exchangeId]: config.exchangeId,
    [ENV.quoteCurrency]: config.quoteCurrency,
    [ENV.watchlist]: config.watchlist.join(','),
    [ENV.stateTable]: resources.stateTable,
    [ENV.auditTable]: resources.auditTable,
    [ENV.idempotencyTable]: resources.idempotencyTable,
    [ENV.paperTable]: resources.paperTable,
    [ENV.executionQueueUrl]: resources.executionQueueUrl,
    [ENV.executionDlqUrl]: resources.executionDlqUrl,
    [ENV.scannerEverySeconds]: String(scheduleOf('scanner').everySeconds),
    [ENV.reconcilerEverySeconds]: String(scheduleOf('reconciler').everySeconds),
    [ENV.healthEverySeconds]: String(scheduleOf('health').everySeconds),
    [ENV.logLevel]: config.logLevel,
    // The functions load the X-Ray SDK only when this says so; it follows active tracing.
    [ENV.tracing]: String(config.tracing),
    [ENV.eventBusName]: resources.eventBusName,
    [ENV.maxPauseAgeSeconds]: String(config.alarms.pauseMaxAgeSeconds),
    // The drift alarm and the reconciler's drift audit share one threshold.
    [ENV.driftAlarmQuote]: String(config.alarms.driftQuote),
    [POWERTOOLS_SERVICE_NAME_ENV]: job,
    [POWERTOOLS_METRICS_NAMESPACE_ENV]: METRICS_NAMESPACE,
    NODE_OPTIONS: NODE_OPTIONS_VALUE,
  };
  if (mode === 'live') env[ENV.exchangeSecretArn] = resources.exchangeSecretArn;
  // Paper on real prices (DATA-6): only where the bundle carries the exchange (see bundledExchange).
  if (mode === 'paper' && bundledExchange(config, job) !== undefined) env[ENV.paperMarket] = 'exchange';
  for (const [key, value] of Object.entries(config.settings)) {
    if (value !== undefined) env[ENV[key as keyof typeof ENV]] = value;
  }
  return env;
}

/** Stand-ins for values only known at deploy time, shaped so the config schema accepts them. */
const PLACEHOLDER_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/placeholder';
const PLACEHOLDER_VALUE = 'placeholder';
const URL_SETTINGS = new Set<string>([ENV.executionQueueUrl, ENV.executionDlqUrl]);

/**
 * Runs the functions' own configuration parser over a synthesized environment, so a setting the
 * functions would reject at cold start fails the synth instead (CFG-1). Deploy-time tokens
 * (table names, queue URLs) are replaced by well-formed placeholders first.
 * @returns the configuration the functions will run with (defaults applied), for thresholds
 *   that must agree with it.
 * @throws ConfigError naming each bad variable.
 */
export function validateFunctionEnvironment(env: Readonly<Record<string, string>>): Config {
  const concrete: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    concrete[name] = Token.isUnresolved(value) ? (URL_SETTINGS.has(name) ? PLACEHOLDER_URL : PLACEHOLDER_VALUE) : value;
  }
  return loadConfig(concrete);
}
