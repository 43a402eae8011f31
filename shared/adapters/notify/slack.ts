/** Slack incoming webhook (OPS-10): one POST of `{ text }` per message. */
import type { Notification } from '../../domain/notification.js';
import type { NotificationChannel } from '../../ports/notifier.js';
import { postJson, type Fetch } from './http-post.js';

export class SlackWebhook implements NotificationChannel {
  readonly name = 'slack';
  readonly #fetch: Fetch;

  constructor(private readonly options: { readonly webhookUrl: string; readonly fetch?: Fetch }) {
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
  }

  async send(notification: Notification): Promise<void> {
    await postJson(this.#fetch, this.options.webhookUrl, { text: notification.text }, 'slack webhook');
  }
}
