/**
 * Notification bookkeeping in the state table (OPS-10):
 * - `NOTIFY#<eventId>` / `<channel>`: `status` sending | sent | released, `claimedAt`: one
 *   claim per event and channel, taken with a conditional put (deduplication);
 * - `NOTIFYRATE#<channel>` / `<window start>`: `count`, raised with a conditional update that
 *   refuses to pass the limit (rate limit).
 * TTL attributes only clean up.
 */
import { PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { NotificationLedger, SendRateLimiter } from '../../ports/notifier.js';
import { isConditionFailed } from './dynamodb-errors.js';

/** A claim older than this whose send never finished may be taken again (at least once). */
export const NOTIFY_CLAIM_LEASE_MS = 5 * 60_000;
/** Sent records are kept this long for deduplication. */
export const NOTIFY_KEEP_DAYS = 14;
/** Rate limit: messages per channel per window (Telegram allows about 20 a minute in a group). */
export const NOTIFY_RATE_LIMIT = 20;
export const NOTIFY_RATE_WINDOW_MS = 60_000;

/** Free to claim: never claimed, given back, or a sender that died holding it. */
const claimable = 'attribute_not_exists(pk) OR #status = :released OR (#status = :sending AND #claimedAt < :staleBefore)';
const underLimit = 'attribute_not_exists(#count) OR #count < :limit';

export class DynamoDbNotificationLedger implements NotificationLedger, SendRateLimiter {
  constructor(private readonly options: { readonly doc: DynamoDBDocumentClient; readonly table: string; readonly limit?: number; readonly windowMs?: number }) {}

  async claim(eventId: string, channel: string, at: Date): Promise<boolean> {
    try {
      await this.options.doc.send(
        new PutCommand({
          TableName: this.options.table,
          Item: { pk: `NOTIFY#${eventId}`, sk: channel, status: 'sending', claimedAt: at.toISOString(), expiresAtEpoch: Math.floor(at.getTime() / 1000) + NOTIFY_KEEP_DAYS * 86_400 },
          ConditionExpression: claimable,
          ExpressionAttributeNames: { '#status': 'status', '#claimedAt': 'claimedAt' },
          ExpressionAttributeValues: { ':released': 'released', ':sending': 'sending', ':staleBefore': new Date(at.getTime() - NOTIFY_CLAIM_LEASE_MS).toISOString() },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }

  async markSent(eventId: string, channel: string, at: Date): Promise<void> {
    await this.#setStatus(eventId, channel, 'sent', at);
  }

  async release(eventId: string, channel: string, at: Date, reason: string): Promise<void> {
    await this.#setStatus(eventId, channel, 'released', at, reason);
  }

  async #setStatus(eventId: string, channel: string, status: 'sent' | 'released', at: Date, reason?: string): Promise<void> {
    await this.options.doc.send(
      new UpdateCommand({
        TableName: this.options.table,
        Key: { pk: `NOTIFY#${eventId}`, sk: channel },
        UpdateExpression: `SET #status = :status, #at = :at${reason === undefined ? '' : ', #reason = :reason'}`,
        ExpressionAttributeNames: { '#status': 'status', '#at': `${status}At`, ...(reason === undefined ? {} : { '#reason': 'reason' }) },
        ExpressionAttributeValues: { ':status': status, ':at': at.toISOString(), ...(reason === undefined ? {} : { ':reason': reason.slice(0, 500) }) },
      }),
    );
  }

  async take(channel: string, at: Date): Promise<boolean> {
    const windowMs = this.options.windowMs ?? NOTIFY_RATE_WINDOW_MS;
    const start = new Date(Math.floor(at.getTime() / windowMs) * windowMs);
    try {
      await this.options.doc.send(
        new UpdateCommand({
          TableName: this.options.table,
          Key: { pk: `NOTIFYRATE#${channel}`, sk: start.toISOString() },
          UpdateExpression: 'ADD #count :one SET expiresAtEpoch = :expires',
          ConditionExpression: underLimit,
          ExpressionAttributeNames: { '#count': 'count' },
          ExpressionAttributeValues: { ':one': 1, ':limit': this.options.limit ?? NOTIFY_RATE_LIMIT, ':expires': Math.floor(start.getTime() / 1000) + 86_400 },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }
}
