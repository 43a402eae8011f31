/**
 * Telegram Bot API (OPS-10): `sendMessage` to the configured chat, and the updates (commands)
 * the bot receives. The API base URL is configurable so tests point it at a local fake.
 */
import { NotificationError, type NotificationChannel } from '../../ports/notifier.js';
import type { Notification } from '../../domain/notification.js';
import { postJson, type Fetch } from './http-post.js';

export const TELEGRAM_API_URL = 'https://api.telegram.org';
/** Telegram refuses messages longer than this. */
export const TELEGRAM_MAX_TEXT = 4_096;

export interface TelegramOptions {
  readonly botToken: string;
  /** The one chat the bot talks to and takes commands from. */
  readonly chatId: string;
  /** @default TELEGRAM_API_URL */
  readonly apiUrl?: string;
  /** @default globalThis.fetch */
  readonly fetch?: Fetch;
}

/** One message the bot received (the parts Tradewarden reads). */
export interface TelegramUpdate {
  readonly update_id: number;
  readonly message?: { readonly message_id: number; readonly chat: { readonly id: number | string }; readonly from?: { readonly username?: string; readonly id?: number }; readonly text?: string };
}

export class TelegramBot implements NotificationChannel {
  readonly name = 'telegram';
  readonly #fetch: Fetch;

  constructor(private readonly options: TelegramOptions) {
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
  }

  get chatId(): string {
    return this.options.chatId;
  }

  #url(method: string): string {
    return `${this.options.apiUrl ?? TELEGRAM_API_URL}/bot${this.options.botToken}/${method}`;
  }

  async send(notification: Notification): Promise<void> {
    await this.sendText(notification.text);
  }

  async sendText(text: string): Promise<void> {
    const answer = await postJson(this.#fetch, this.#url('sendMessage'), { chat_id: this.options.chatId, text: text.slice(0, TELEGRAM_MAX_TEXT), disable_web_page_preview: true }, 'telegram sendMessage');
    if (typeof answer !== 'object' || answer === null || (answer as { ok?: unknown }).ok !== true) {
      throw new NotificationError('telegram sendMessage: the API did not answer ok', false, { details: { answer } });
    }
  }

  /** Updates after `offset` (long polling for the local runtime; on AWS the webhook receives them). */
  async updates(offset: number): Promise<TelegramUpdate[]> {
    const answer = (await postJson(this.#fetch, this.#url('getUpdates'), { offset, timeout: 0, allowed_updates: ['message'] }, 'telegram getUpdates')) as { ok?: boolean; result?: TelegramUpdate[] } | null;
    if (!answer?.ok || !Array.isArray(answer.result)) throw new NotificationError('telegram getUpdates: the API did not answer ok', true);
    return answer.result;
  }
}
