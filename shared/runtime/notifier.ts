/** Builds the configured notification channels (OPS-10). */
import type { SNSClient } from '@aws-sdk/client-sns';
import { SlackWebhook } from '../adapters/notify/slack.js';
import { SnsEmail } from '../adapters/notify/sns-email.js';
import { TelegramBot } from '../adapters/notify/telegram.js';
import type { Fetch } from '../adapters/notify/http-post.js';
import type { NotificationChannel } from '../ports/notifier.js';
import type { NotifierConfig } from './notifier-config.js';

export interface Channels {
  readonly all: readonly NotificationChannel[];
  /** The Telegram bot, also the way commands come in, when configured. */
  readonly telegram?: TelegramBot;
}

export function notificationChannels(config: NotifierConfig, clients: { readonly sns?: Pick<SNSClient, 'send'>; readonly fetch?: Fetch } = {}): Channels {
  const all: NotificationChannel[] = [];
  let telegram: TelegramBot | undefined;
  if (config.telegramBotToken && config.telegramChatId) {
    telegram = new TelegramBot({
      botToken: config.telegramBotToken,
      chatId: config.telegramChatId,
      ...(config.telegramApiUrl ? { apiUrl: config.telegramApiUrl } : {}),
      ...(clients.fetch ? { fetch: clients.fetch } : {}),
    });
    all.push(telegram);
  }
  if (config.slackWebhookUrl) all.push(new SlackWebhook({ webhookUrl: config.slackWebhookUrl, ...(clients.fetch ? { fetch: clients.fetch } : {}) }));
  if (config.alarmTopicArn && clients.sns) all.push(new SnsEmail({ client: clients.sns, topicArn: config.alarmTopicArn }));
  return { all, ...(telegram ? { telegram } : {}) };
}
