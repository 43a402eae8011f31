/**
 * The notifier's environment variables (OPS-10), in a module of their own: the main configuration
 * lists them as known, and importing notifier-config.ts for that would build the notifier's zod
 * schemas at every function's cold start.
 */
export const NOTIFIER_ENV = {
  telegramBotToken: 'TW_TELEGRAM_BOT_TOKEN',
  telegramChatId: 'TW_TELEGRAM_CHAT_ID',
  /** Secret token Telegram sends with each webhook call (`X-Telegram-Bot-Api-Secret-Token`). */
  telegramWebhookSecret: 'TW_TELEGRAM_WEBHOOK_SECRET',
  /** Bot API base URL; tests point it at a local fake. */
  telegramApiUrl: 'TW_TELEGRAM_API_URL',
  slackWebhookUrl: 'TW_SLACK_WEBHOOK_URL',
  /** The SNS alarm topic; its email subscriptions get every notification. */
  alarmTopicArn: 'TW_ALARM_TOPIC_ARN',
  notifierSecretArn: 'TW_NOTIFIER_SECRET_ARN',
  /** Messages per channel per minute. */
  rateLimit: 'TW_NOTIFY_RATE_LIMIT',
} as const;
