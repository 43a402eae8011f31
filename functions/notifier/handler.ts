/**
 * Lambda entry point of the notifier. Cold start: configuration parsed once, the notifier
 * secret (Telegram bot token, chat id, webhook secret, Slack webhook URL) read once from
 * Secrets Manager and never logged, every client created once.
 */
import { SNSClient } from '@aws-sdk/client-sns';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDbNotificationLedger } from '../../shared/adapters/aws/dynamodb-notification-ledger.js';
import { containerFromEnvironment } from '../../shared/runtime/entry.js';
import { containerChatOperations } from '../../shared/runtime/chat-operations.js';
import { METRICS_NAMESPACE } from '../../shared/runtime/metric-names.js';
import { notifierConfigFromEnvironment } from '../../shared/runtime/notifier-config.js';
import { notificationChannels } from '../../shared/runtime/notifier.js';
import { createNotifierHandler } from './app.js';

const c = await containerFromEnvironment('health');
const config = await notifierConfigFromEnvironment(c.config.region);
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
