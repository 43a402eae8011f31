/**
 * The exchange's request-weight budget shared by every instance (RISK-6), one item per window:
 * `RATE#<exchangeId>#<windowStartEpochMs>` / `RATE` with `weight` (used so far), `exchange`,
 * `windowStart` (ISO) and `expiresAtEpoch` (TTL, clean-up only).
 *
 * - consume: one UpdateItem `ADD weight :w`, conditional on the window staying within the budget
 *   (`budgetFraction` of the exchange's limit, 80% by default). A refusal is a
 *   RateBudgetExhaustedError before anything is sent: preemptive backoff.
 * - observe: the exchange's own count (Binance `X-MBX-USED-WEIGHT-1M`) raises the counter, never
 *   lowers it, so weight used by requests this budget did not see is still counted.
 * - exhaust: after a 429/418 the rest of the window is spent.
 * Windows are aligned to the epoch like Binance's (one-minute windows start at :00).
 */
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ValidationError } from '../../domain/errors.js';
import type { Clock } from '../../ports/clock.js';
import { RateBudgetExhaustedError, type RateBudget } from '../../ports/rate-budget.js';
import { isConditionFailed } from './dynamodb-errors.js';
import type { StateKey } from './dynamodb-keys.js';

export const RATE_PREFIX = 'RATE#';
/** Binance spot: 6000 request weight per IP per minute. */
export const BINANCE_SPOT_WEIGHT_PER_MINUTE = 6000;
/** Back off at 80% of the exchange's limit. */
export const DEFAULT_BUDGET_FRACTION = 0.8;
/** Items outlive their window by a day before TTL may delete them. */
const TTL_AFTER_WINDOW_SECONDS = 86_400;

export function rateKey(exchangeId: string, windowStart: number): StateKey {
  return { pk: `${RATE_PREFIX}${exchangeId}#${windowStart}`, sk: 'RATE' };
}

export interface DynamoDbRateBudgetOptions {
  readonly doc: DynamoDBDocumentClient;
  /** The state table. */
  readonly table: string;
  readonly exchangeId: string;
  readonly clock: Clock;
  /** The exchange's limit per window. @default BINANCE_SPOT_WEIGHT_PER_MINUTE */
  readonly limit?: number;
  /** @default 60_000 */
  readonly windowMs?: number;
  /** Fraction of the limit this budget hands out. @default DEFAULT_BUDGET_FRACTION */
  readonly budgetFraction?: number;
}

export class DynamoDbRateBudget implements RateBudget {
  readonly #doc: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #exchangeId: string;
  readonly #clock: Clock;
  readonly #limit: number;
  readonly #windowMs: number;
  /** Weight handed out per window: floor(limit x fraction). */
  readonly budget: number;

  constructor(options: DynamoDbRateBudgetOptions) {
    const limit = options.limit ?? BINANCE_SPOT_WEIGHT_PER_MINUTE;
    const windowMs = options.windowMs ?? 60_000;
    const fraction = options.budgetFraction ?? DEFAULT_BUDGET_FRACTION;
    if (!Number.isInteger(limit) || limit < 1) throw new ValidationError('rate limit must be a positive integer');
    if (!Number.isInteger(windowMs) || windowMs < 1000) throw new ValidationError('rate window must be at least 1000 ms');
    if (!(fraction > 0 && fraction <= 1)) throw new ValidationError('budget fraction must be in (0, 1]');
    this.#doc = options.doc;
    this.#table = options.table;
    this.#exchangeId = options.exchangeId;
    this.#clock = options.clock;
    this.#limit = limit;
    this.#windowMs = windowMs;
    this.budget = Math.floor(limit * fraction);
  }

  async consume(weight: number): Promise<void> {
    if (!Number.isInteger(weight) || weight < 0) throw new ValidationError(`request weight must be a non-negative integer, got ${weight}`);
    const window = this.window();
    if (weight > this.budget) throw new RateBudgetExhaustedError(this.#exchangeId, weight, this.budget, new Date(window.start + this.#windowMs));
    try {
      await this.#doc.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: rateKey(this.#exchangeId, window.start),
          UpdateExpression: 'ADD #weight :weight SET #exchange = :exchange, #windowStart = :windowStart, #ttl = :ttl',
          // Room left for this request: used + weight <= budget.
          ConditionExpression: 'attribute_not_exists(#weight) OR #weight <= :room',
          ExpressionAttributeNames: { '#weight': 'weight', '#exchange': 'exchange', '#windowStart': 'windowStart', '#ttl': 'expiresAtEpoch' },
          ExpressionAttributeValues: { ':weight': weight, ':room': this.budget - weight, ...window.values },
        }),
      );
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      throw new RateBudgetExhaustedError(this.#exchangeId, await this.usedOr(this.budget), this.budget, new Date(window.start + this.#windowMs));
    }
  }

  async observe(usedWeight: number): Promise<void> {
    if (!Number.isInteger(usedWeight) || usedWeight < 0) return;
    await this.raiseTo(Math.min(usedWeight, this.#limit));
  }

  async exhaust(): Promise<void> {
    await this.raiseTo(this.#limit);
  }

  /** Weight used in the current window (0 when nothing was recorded yet). */
  async used(): Promise<number> {
    return this.usedOr(0);
  }

  private async raiseTo(value: number): Promise<void> {
    const window = this.window();
    try {
      await this.#doc.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: rateKey(this.#exchangeId, window.start),
          UpdateExpression: 'SET #weight = :used, #exchange = :exchange, #windowStart = :windowStart, #ttl = :ttl',
          ConditionExpression: 'attribute_not_exists(#weight) OR #weight < :used',
          ExpressionAttributeNames: { '#weight': 'weight', '#exchange': 'exchange', '#windowStart': 'windowStart', '#ttl': 'expiresAtEpoch' },
          ExpressionAttributeValues: { ':used': value, ...window.values },
        }),
      );
    } catch (error) {
      // Expected: the shared counter is already at or above what the exchange reported.
      if (!isConditionFailed(error)) throw error;
    }
  }

  private async usedOr(fallback: number): Promise<number> {
    const window = this.window();
    const { Item } = await this.#doc.send(new GetCommand({ TableName: this.#table, Key: rateKey(this.#exchangeId, window.start), ConsistentRead: true }));
    return typeof Item?.weight === 'number' ? Item.weight : fallback;
  }

  private window(): { start: number; values: Record<string, string | number> } {
    const now = this.#clock.now().getTime();
    const start = Math.floor(now / this.#windowMs) * this.#windowMs;
    return {
      start,
      values: {
        ':exchange': this.#exchangeId,
        ':windowStart': new Date(start).toISOString(),
        ':ttl': Math.ceil((start + this.#windowMs) / 1000) + TTL_AFTER_WINDOW_SECONDS,
      },
    };
  }
}
