import { ErrorCode, TradewardenError, type TradewardenErrorOptions } from '../domain/errors.js';
import type { Notification } from '../domain/notification.js';

/** One way of telling the operator (Telegram, Slack, email). */
export interface NotificationChannel {
  /** Stable name: part of the deduplication key, so never rename a configured channel. */
  readonly name: string;
  /**
   * Sends one message.
   * @throws NotificationError: `retryable` for a timeout, 429 or 5xx; permanent for a refusal.
   */
  send(notification: Notification): Promise<void>;
}

/**
 * Which notifications went out on which channel (deduplication by event id, OPS-10). A claim is
 * a conditional write: only one delivery of an event sends it; a claim left by a crashed sender
 * may be taken again after its lease.
 */
export interface NotificationLedger {
  /** @returns false when the event was already sent on this channel, or is being sent. */
  claim(eventId: string, channel: string, at: Date): Promise<boolean>;
  markSent(eventId: string, channel: string, at: Date): Promise<void>;
  /** Gives the claim back so a later delivery may send again. */
  release(eventId: string, channel: string, at: Date, reason: string): Promise<void>;
}

/** Messages per channel per window (chat services ban bots that flood). */
export interface SendRateLimiter {
  /** @returns false when the channel's budget for the current window is spent (nothing is taken). */
  take(channel: string, at: Date): Promise<boolean>;
}

/** A send failed. */
export class NotificationError extends TradewardenError {
  constructor(message: string, retryable: boolean, options: TradewardenErrorOptions = {}) {
    super(ErrorCode.NotificationFailed, message, retryable, options);
    this.name = 'NotificationError';
  }
}
