/**
 * Delivers one domain event to the operator's channels (OPS-10).
 *
 * Primary course:
 * 1. Turn the event into a message (an unknown event type is a coded, permanent error).
 * 2. For each channel: claim the event id (a second delivery of the same event stops here),
 *    take one message from the channel's rate budget, send with a few quick retries, record it.
 * 3. A channel that still fails, or has no budget left, gives its claim back and the whole
 *    delivery throws a retryable error: the caller (the Lambda's async retries, or the local
 *    delivery loop) tries again later and dead-letters in the end. Rare, important events
 *    (pause, resume, drift, health, UNKNOWN, the summary) skip the rate limit, so a burst of
 *    fills never holds them back. Trading never waits for it:
 *    events are delivered by their own function, never on the trading path.
 */
import { ExponentialBackoff, handleWhen, retry } from 'cockatiel';
import { DomainEventType } from '../domain/domain-events.js';
import { TradewardenError } from '../domain/errors.js';
import { notificationOf } from '../domain/notification.js';
import type { Clock } from '../ports/clock.js';
import { NotificationError, type NotificationChannel, type NotificationLedger, type SendRateLimiter } from '../ports/notifier.js';

/**
 * Rare events that must never wait behind a flood of fills: the rate limit does not apply to them.
 * Fills and rejections can come in bursts and are the ones limited.
 */
export const RATE_EXEMPT: ReadonlySet<string> = new Set([
  DomainEventType.OrderUnknown,
  DomainEventType.TradingPaused,
  DomainEventType.TradingResumed,
  DomainEventType.DriftAlarm,
  DomainEventType.HealthChanged,
  DomainEventType.DailySummary,
]);

/** Quick retries of one send inside one delivery; the delivery itself is retried later. */
export const SEND_ATTEMPTS = 3;
export const SEND_BACKOFF = { initialDelay: 200, maxDelay: 2_000 };

export interface NotifyDeps {
  readonly channels: readonly NotificationChannel[];
  readonly ledger: NotificationLedger;
  readonly rate: SendRateLimiter;
  readonly clock: Clock;
  /** @default SEND_BACKOFF (tests pass a shorter one) */
  readonly backoff?: { readonly initialDelay: number; readonly maxDelay: number };
}

export interface DeliveryResult {
  readonly eventId: string;
  readonly sent: readonly string[];
  /** Channels that had already sent this event. */
  readonly duplicate: readonly string[];
}

export async function deliverEvent(deps: NotifyDeps, detailType: string, detail: Readonly<Record<string, unknown>>): Promise<DeliveryResult> {
  // 1. The message.
  const notification = notificationOf(detailType, detail);
  const policy = retry(
    handleWhen((e) => !(e instanceof TradewardenError) || e.retryable),
    { maxAttempts: SEND_ATTEMPTS - 1, backoff: new ExponentialBackoff(deps.backoff ?? SEND_BACKOFF) },
  );
  const sent: string[] = [];
  const duplicate: string[] = [];
  const failed: { channel: string; error: unknown }[] = [];
  // 2. Each channel on its own: one failing channel does not stop the others.
  for (const channel of deps.channels) {
    if (!(await deps.ledger.claim(notification.id, channel.name, deps.clock.now()))) {
      duplicate.push(channel.name);
      continue;
    }
    if (!RATE_EXEMPT.has(notification.kind) && !(await deps.rate.take(channel.name, deps.clock.now()))) {
      await deps.ledger.release(notification.id, channel.name, deps.clock.now(), 'rate limited');
      failed.push({ channel: channel.name, error: new NotificationError(`${channel.name}: rate limit reached`, true, { details: { rateLimited: true } }) });
      continue;
    }
    try {
      await policy.execute(() => channel.send(notification));
    } catch (error) {
      await deps.ledger.release(notification.id, channel.name, deps.clock.now(), error instanceof Error ? error.message : String(error));
      failed.push({ channel: channel.name, error });
      continue;
    }
    await deps.ledger.markSent(notification.id, channel.name, deps.clock.now());
    sent.push(channel.name);
  }
  // 3. Anything left to send makes the delivery fail, so it is tried again.
  if (failed.length > 0) {
    const retryable = failed.some((f) => !(f.error instanceof TradewardenError) || f.error.retryable);
    // Only held back by the rate limit: the caller waits for the next window, it is no failure.
    const rateLimited = failed.every((f) => f.error instanceof TradewardenError && f.error.details.rateLimited === true);
    throw new NotificationError(
      `notification ${notification.id} not sent on ${failed.map((f) => f.channel).join(', ')}: ${failed.map((f) => (f.error instanceof Error ? f.error.message : String(f.error))).join('; ')}`,
      retryable,
      { cause: failed[0]?.error, details: { eventId: notification.id, sent, failed: failed.map((f) => f.channel), rateLimited } },
    );
  }
  return { eventId: notification.id, sent, duplicate };
}
