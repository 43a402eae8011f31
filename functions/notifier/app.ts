/**
 * Notifier handler (OPS-10), its own function so trading never waits on a chat service:
 * - an EventBridge rule on the domain bus delivers each notable event (OrderFilled,
 *   OrderRejected, OrderUnknown, TradingPaused, TradingResumed, DriftAlarm, HealthChanged);
 * - a daily rule asks for the summary (`{"summary": "daily"}`);
 * - its function URL is the Telegram webhook: `/status`, `/pause <reason>`, `/resume`,
 *   `/profit` from the configured chat, authenticated by the secret token Telegram sends.
 * A failed delivery throws: Lambda retries the asynchronous invocation, then the rule's target
 * and the function send it to the notifier's dead-letter queue.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import * as z from '../../shared/domain/zod-mini.js';
import type { TelegramBot, TelegramUpdate } from '../../shared/adapters/notify/telegram.js';
import { DOMAIN_EVENT_TYPES } from '../../shared/domain/domain-events.js';
import { toTradewardenError } from '../../shared/domain/errors.js';
import { parseWith } from '../../shared/runtime/handler-stack.js';
import { MetricName } from '../../shared/runtime/metric-names.js';
import { addIfNonZero } from '../../shared/runtime/observability.js';
import type { Observability } from '../../shared/runtime/observability.js';
import { sameSecret } from '../../shared/runtime/secrets.js';
import { handleChatCommand, type ChatCommandDeps } from '../../shared/use-cases/chat-commands.js';
import { dailySummary, type DailySummaryDeps } from '../../shared/use-cases/daily-summary.js';
import { deliverEvent, type NotifyDeps } from '../../shared/use-cases/notify.js';

/** Header Telegram sends with the webhook's secret token. */
export const TELEGRAM_SECRET_HEADER = 'x-telegram-bot-api-secret-token';

const BusEventSchema = z.looseObject({ source: z.literal('tradewarden'), 'detail-type': z.enum(DOMAIN_EVENT_TYPES as [string, ...string[]]), detail: z.record(z.string(), z.unknown()) });
const SummaryEventSchema = z.strictObject({ summary: z.literal('daily') });
const HttpEventSchema = z.looseObject({
  requestContext: z.looseObject({ http: z.looseObject({ method: z.string() }) }),
  headers: z.optional(z.record(z.string(), z.string())),
  body: z.optional(z.string()),
  isBase64Encoded: z.optional(z.boolean()),
});
export const NotifierEventSchema = z.union([BusEventSchema, SummaryEventSchema, HttpEventSchema]);

const UpdateSchema = z.looseObject({
  update_id: z.number().check(z.int()),
  message: z.optional(
    z.looseObject({
      message_id: z.number().check(z.int()),
      chat: z.looseObject({ id: z.union([z.number(), z.string()]) }),
      from: z.optional(z.looseObject({ username: z.optional(z.string()), id: z.optional(z.number()) })),
      text: z.optional(z.string().check(z.maxLength(4096))),
    }),
  ),
});

export interface NotifierDeps {
  readonly observability: Observability;
  readonly notify: NotifyDeps;
  readonly summary: DailySummaryDeps;
  /** Telegram commands, when the bot and its webhook secret are configured. */
  readonly chat?: { readonly bot: TelegramBot; readonly deps: ChatCommandDeps; readonly webhookSecret: string };
}

type Http = { statusCode: number; headers?: Record<string, string>; body: string };
const http = (statusCode: number, body: unknown): Http => ({ statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

export function createNotifierHandler(deps: NotifierDeps) {
  const { logger, metrics } = deps.observability;

  async function deliver(detailType: string, detail: Readonly<Record<string, unknown>>) {
    try {
      const result = await deliverEvent(deps.notify, detailType, detail);
      addIfNonZero(metrics, MetricName.NotificationsSent, MetricUnit.Count, result.sent.length);
      addIfNonZero(metrics, MetricName.NotificationsDuplicate, MetricUnit.Count, result.duplicate.length);
      return result;
    } catch (error) {
      metrics.addMetric(MetricName.NotificationsFailed, MetricUnit.Count, 1);
      logger.error('notification not delivered', { error: toTradewardenError(error).toJSON() });
      throw error;
    }
  }

  async function webhook(event: z.infer<typeof HttpEventSchema>): Promise<Http> {
    const chat = deps.chat;
    const headers = Object.fromEntries(Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    // Nothing is read from a request without the secret token.
    if (!chat || !sameSecret(headers[TELEGRAM_SECRET_HEADER], chat.webhookSecret)) return http(401, { error: { code: 'UNAUTHORIZED' } });
    if (event.requestContext.http.method !== 'POST') return http(405, { error: { code: 'METHOD_NOT_ALLOWED' } });
    let update: TelegramUpdate;
    try {
      const text = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : (event.body ?? '');
      update = parseWith(UpdateSchema, JSON.parse(text) as unknown, 'telegram update') as TelegramUpdate;
    } catch (error) {
      const e = toTradewardenError(error);
      // A 2xx stops Telegram from redelivering an update that can never be read.
      logger.warn('unreadable telegram update', { error: e.message });
      return http(200, { ignored: e.code });
    }
    const m = update.message;
    if (!m?.text) return http(200, { ignored: 'no text' });
    const answer = await handleChatCommand(chat.deps, { chatId: String(m.chat.id), user: m.from?.username ?? String(m.from?.id ?? ''), text: m.text });
    if (answer !== null) await chat.bot.sendText(answer);
    return http(200, { handled: true });
  }

  return middy<unknown, unknown, Error, Context>(async (raw: unknown) => {
    const event = parseWith(NotifierEventSchema, raw, 'notifier event');
    if ('requestContext' in event) return webhook(event as z.infer<typeof HttpEventSchema>);
    if ('summary' in event) {
      const summary = await dailySummary(deps.summary);
      return deliver(summary.detailType, summary.detail);
    }
    const bus = event as z.infer<typeof BusEventSchema>;
    return deliver(bus['detail-type'], bus.detail);
  })
    .use(injectLambdaContext(deps.observability.logger, { resetKeys: true }))
    .use(logMetrics(deps.observability.metrics));
}
