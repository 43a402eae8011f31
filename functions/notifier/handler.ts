/**
 * Lambda entry point of the notifier. Cold start: configuration parsed once, the notifier
 * secret (Telegram bot token, chat id, webhook secret, Slack webhook URL) read once from
 * Secrets Manager and never logged, every client created once.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDbNotificationLedger } from '../../shared/adapters/aws/dynamodb-notification-ledger.js';
import { ConfigError } from '../../shared/domain/errors.js';
import { containerFromEnvironment } from '../../shared/runtime/entry.js';
import { containerChatOperations } from '../../shared/runtime/chat-operations.js';
import { METRICS_NAMESPACE } from '../../shared/runtime/metric-names.js';
import { NOTIFIER_ENV, NotifierSecretSchema, loadNotifierConfig } from '../../shared/runtime/notifier-config.js';
import { notificationChannels } from '../../shared/runtime/notifier.js';
import { createNotifierHandler } from './app.js';

async function readSecret(arn: string | undefined, region: string) {
  if (!arn) return {};
  const client = new SecretsManagerClient({ region });
  const out = await client.send(new GetSecretValueCommand({ SecretId: arn }));
  client.destroy();
  let parsed: unknown;
  try {
    parsed = JSON.parse(out.SecretString ?? '{}');
  } catch {
    throw new ConfigError([`${NOTIFIER_ENV.notifierSecretArn}: the secret is not JSON`]);
  }
  const secret = NotifierSecretSchema.safeParse(parsed);
  if (!secret.success) throw new ConfigError([`${NOTIFIER_ENV.notifierSecretArn}: the secret has unknown or non-string fields`]);
  return secret.data;
}

const c = await containerFromEnvironment('health');
const config = loadNotifierConfig(process.env, await readSecret(process.env[NOTIFIER_ENV.notifierSecretArn], c.config.region));
const channels = notificationChannels(config, { sns: new SNSClient({ region: c.config.region }) });
const ledger = new DynamoDbNotificationLedger({ doc: c.doc, table: c.config.stateTable, limit: config.rateLimit });
const observability = {
  logger: new Logger({ serviceName: 'notifier', logLevel: c.config.logLevel as 'INFO' }),
  metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'notifier' }),
};

export const handler = createNotifierHandler({
  observability,
  notify: { channels: channels.all, ledger, rate: ledger, clock: c.clock },
  summary: { accounts: c.accounts, orders: c.orders, control: c.control, exchange: c.exchange, clock: c.clock, settings: { quoteCurrency: c.config.quoteCurrency, watchlist: c.config.watchlist } },
  ...(channels.telegram && config.telegramChatId && config.telegramWebhookSecret
    ? { chat: { bot: channels.telegram, webhookSecret: config.telegramWebhookSecret, deps: { operations: containerChatOperations(c), audit: c.audit, clock: c.clock, chatId: config.telegramChatId } } }
    : {}),
});
