/**
 * The one place a Lambda entry point reads its environment: at cold start, once. In live mode
 * the exchange API keys are read from Secrets Manager here, once per container, and handed to
 * the ccxt client; they are never logged, returned or audited (SEC-1).
 */
import * as z from '../domain/zod-mini.js';
import ccxt, { type Exchange as CcxtClient } from 'ccxt';
import { ccxtClientSettings } from '../adapters/exchange/ccxt-exchange.js';
import type { JobName } from '../definitions/schedules.js';
import { ConfigError } from '../domain/errors.js';
import { loadConfig, type Config } from './config.js';
import { createContainer, type Container, type ContainerOptions } from './container.js';
import type { QueueAgeReader } from '../ports/intent-queue.js';
import { createObservability, loadTracing } from './observability.js';

const ExchangeSecretSchema = z.object({ apiKey: z.string().check(z.minLength(1)), secret: z.string().check(z.minLength(1)) });

/**
 * Jobs that place, look up or cancel orders and so need the API keys. The scanner reads public
 * market data and health no exchange data at all: their roles cannot read the secret.
 */
const JOBS_WITH_KEYS: ReadonlySet<JobName> = new Set(['executor', 'reconciler']);

/**
 * Parses the configuration from the process environment and wires the container.
 * `queueAges`: how the function reads queue ages, when it does (health: health-entry.ts), so the
 * client it needs is bundled into that function alone.
 */
export async function containerFromEnvironment(job: JobName, options: { readonly queueAges?: (config: Config) => Promise<QueueAgeReader> } = {}): Promise<Container> {
  const config = loadConfig(process.env);
  // The X-Ray SDK is imported only when tracing is on (see observability.ts).
  const observability = createObservability(job, { logLevel: config.logLevel, ...(config.tracing ? { tracing: await loadTracing(job) } : {}) });
  return containerFor(job, config, { observability, withKeys: JOBS_WITH_KEYS.has(job), ...(options.queueAges ? { queueAges: await options.queueAges(config) } : {}) });
}

/**
 * Wires a container for `config`; in live mode with the exchange client, which holds the API
 * keys only when `withKeys` (read once from Secrets Manager).
 */
export async function containerFor(job: JobName, config: Config, options: Omit<ContainerOptions, 'liveClient'> & { readonly withKeys: boolean }): Promise<Container> {
  const { withKeys, ...rest } = options;
  if (config.mode !== 'live') {
    // Paper on real prices (DATA-6): the exchange's public market data needs no keys.
    if (config.paperMarket === 'exchange') return createContainer(job, config, { ...rest, marketDataClient: await exchangeClientFactory(config) });
    return createContainer(job, config, rest);
  }
  const keys = withKeys ? await readKeys(config) : undefined;
  return createContainer(job, config, { ...rest, liveClient: (await exchangeClientFactory(config, keys))() });
}

async function readKeys(config: Config): Promise<{ apiKey: string; secret: string }> {
  const arn = config.exchangeSecretArn;
  if (!arn) throw new ConfigError(['TW_EXCHANGE_SECRET_ARN: live mode needs the exchange API key secret']);
  // Loaded here, not at the top: paper-mode containers never read a secret.
  const { GetSecretValueCommand, SecretsManagerClient } = await import('@aws-sdk/client-secrets-manager');
  const secrets = new SecretsManagerClient({ region: config.region });
  const out = await secrets.send(new GetSecretValueCommand({ SecretId: arn }));
  secrets.destroy();
  let parsed: unknown;
  try {
    parsed = JSON.parse(out.SecretString ?? '');
  } catch {
    // The secret's content is never echoed: only the fact that it is not JSON.
    throw new ConfigError(['TW_EXCHANGE_SECRET_ARN: the secret is not JSON {"apiKey","secret"}']);
  }
  const keys = ExchangeSecretSchema.safeParse(parsed);
  if (!keys.success) throw new ConfigError(['TW_EXCHANGE_SECRET_ARN: the secret needs non-empty apiKey and secret (still the placeholder?)']);
  return keys.data;
}

/**
 * Makes ccxt clients of TW_EXCHANGE_ID: with the API keys in live mode, without any for public
 * market data (paper on real prices). A factory, because each adapter instruments its client.
 * @throws ConfigError when ccxt (or the bundle) has no such exchange.
 */
export async function exchangeClientFactory(config: Config, keys?: { apiKey: string; secret: string }): Promise<() => CcxtClient> {
  // The bundle aliases `ccxt` to a module holding only the configured exchange class (none in
  // paper bundles). A static import: the error classification imports it statically anyway, and a
  // dynamic one made the bundler wrap all of ccxt in lazily compiled functions (parsed twice).
  const ExchangeClass = (ccxt as unknown as Record<string, new (settings: Record<string, unknown>) => CcxtClient>)[config.exchangeId];
  if (!ExchangeClass) throw new ConfigError([`TW_EXCHANGE_ID: ccxt has no exchange ${config.exchangeId}`]);
  return () => new ExchangeClass(ccxtClientSettings({ exchangeId: config.exchangeId, ...(keys ?? {}), timeoutMs: config.exchangeTimeoutMs }));
}
