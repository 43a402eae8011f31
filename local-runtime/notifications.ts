/**
 * Notifications on one machine (OPS-10): an in-process event bus stands in for EventBridge, and
 * a delivery loop stands in for the notifier function with its retries and dead-letter queue.
 * The loop runs beside the jobs, never inside them: a slow or failing chat service delays no scan.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { StorageError, toTradewardenError } from '../shared/domain/errors.js';
import type { TelegramBot } from '../shared/adapters/notify/telegram.js';
import type { EventPublisher } from '../shared/ports/event-publisher.js';
import { handleChatCommand, type ChatCommandDeps } from '../shared/use-cases/chat-commands.js';
import { deliverEvent, type NotifyDeps } from '../shared/use-cases/notify.js';

/** Events waiting for delivery, at most; past it, publishing fails (and is logged by the audit log). */
export const LOCAL_BUS_CAPACITY = 10_000;
/** Deliveries of one event before it is dead-lettered, like the notifier function's async retries. */
export const LOCAL_DELIVERY_ATTEMPTS = 3;
/** Wait of an event held back by the rate limit: the next window. */
export const LOCAL_RATE_WAIT_MS = 60_000;
/** Wait before the next delivery of a failed event: base x 2^(attempt-1). */
export const LOCAL_RETRY_BASE_MS = 2_000;

interface Pending {
  readonly detailType: string;
  readonly detail: Readonly<Record<string, unknown>>;
  attempts: number;
  notBefore: number;
}

/** EventBridge on one machine: events wait in memory for the delivery loop. */
export class LocalEventBus implements EventPublisher {
  readonly #pending: Pending[] = [];

  async publish(detailType: string, detail: Readonly<Record<string, unknown>>): Promise<void> {
    if (this.#pending.length >= LOCAL_BUS_CAPACITY) throw new StorageError(`local event bus full (${LOCAL_BUS_CAPACITY} events waiting)`);
    this.#pending.push({ detailType, detail, attempts: 0, notBefore: 0 });
  }

  /** Events due at `now`, taken off the bus. */
  take(now: number): Pending[] {
    const due = this.#pending.filter((p) => p.notBefore <= now);
    for (const p of due) this.#pending.splice(this.#pending.indexOf(p), 1);
    return due;
  }

  putBack(event: Pending): void {
    this.#pending.push(event);
  }

  get size(): number {
    return this.#pending.length;
  }
}

export interface NotifierCycle {
  readonly sent: number;
  readonly duplicate: number;
  readonly retrying: number;
  readonly deadLettered: number;
  readonly commands: number;
}

export interface LocalNotifierOptions {
  readonly bus: LocalEventBus;
  readonly notify: NotifyDeps;
  /** Chat commands, when Telegram is configured. */
  readonly chat?: { readonly bot: TelegramBot; readonly deps: ChatCommandDeps };
  /** Dead-lettered events are appended to `<dataDir>/notifications-dlq.jsonl`. */
  readonly dataDir?: string;
  readonly onError?: (message: string) => void;
}

export class LocalNotifier {
  readonly deadLetters: { readonly detailType: string; readonly detail: Readonly<Record<string, unknown>>; readonly error: string }[] = [];
  #offset = 0;

  constructor(private readonly options: LocalNotifierOptions) {}

  /** One delivery cycle: every due event, then the chat's new commands. */
  async cycle(now = Date.now()): Promise<NotifierCycle> {
    const counts = { sent: 0, duplicate: 0, retrying: 0, deadLettered: 0, commands: 0 };
    for (const event of this.options.bus.take(now)) {
      try {
        const result = await deliverEvent(this.options.notify, event.detailType, event.detail);
        counts.sent += result.sent.length;
        counts.duplicate += result.duplicate.length;
      } catch (error) {
        const e = toTradewardenError(error);
        if (e.details.rateLimited === true) {
          // Held back, not failed: it goes out in the next window and keeps its attempts.
          event.notBefore = now + LOCAL_RATE_WAIT_MS;
          this.options.bus.putBack(event);
          counts.retrying += 1;
          continue;
        }
        event.attempts += 1;
        if (!e.retryable || event.attempts >= LOCAL_DELIVERY_ATTEMPTS) {
          this.#deadLetter(event, e.message);
          counts.deadLettered += 1;
        } else {
          event.notBefore = now + LOCAL_RETRY_BASE_MS * 2 ** (event.attempts - 1);
          this.options.bus.putBack(event);
          counts.retrying += 1;
        }
      }
    }
    if (this.options.chat) counts.commands = await this.#commands(this.options.chat);
    return counts;
  }

  async #commands(chat: NonNullable<LocalNotifierOptions['chat']>): Promise<number> {
    let handled = 0;
    let updates;
    try {
      updates = await chat.bot.updates(this.#offset);
    } catch (error) {
      this.options.onError?.(`telegram updates: ${toTradewardenError(error).message}`);
      return 0;
    }
    for (const update of updates) {
      this.#offset = Math.max(this.#offset, update.update_id + 1);
      const m = update.message;
      if (!m?.text) continue;
      let answer: string | null;
      try {
        answer = await handleChatCommand(chat.deps, { chatId: String(m.chat.id), user: m.from?.username ?? String(m.from?.id ?? ''), text: m.text });
      } catch (error) {
        const e = toTradewardenError(error);
        answer = `failed: ${e.code} ${e.message}`;
      }
      handled += 1;
      if (answer !== null) await chat.bot.sendText(answer);
    }
    return handled;
  }

  #deadLetter(event: Pending, error: string): void {
    const letter = { detailType: event.detailType, detail: event.detail, error };
    this.deadLetters.push(letter);
    this.options.onError?.(`notification dead-lettered: ${event.detailType} ${String(event.detail.eventId ?? '')}: ${error}`);
    if (this.options.dataDir) appendFileSync(join(this.options.dataDir, 'notifications-dlq.jsonl'), `${JSON.stringify({ at: new Date().toISOString(), ...letter })}\n`);
  }
}
