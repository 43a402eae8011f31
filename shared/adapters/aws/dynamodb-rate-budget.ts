/**
 * The exchange's limits shared by every instance (RISK-6), one item per counter and window:
 * request weight `RATE#<exchangeId>#<windowStartEpochMs>` / `RATE`, and the order counts
 * `RATE#<exchangeId>#orders-10s#<windowStart>` and `RATE#<exchangeId>#orders-1d#<windowStart>`
 * (Binance ORDERS limits, per account), each with `weight` (used so far), `exchange`,
 * `windowStart` (ISO) and `expiresAtEpoch` (TTL, clean-up only).
 *
 * - consume: one UpdateItem `ADD weight :w`, conditional on the window staying within the budget
 *   (`budgetFraction` of the exchange's limit, 80% by default); for an order, the same on the 10 s
 *   and the day counters. A refusal is a RateBudgetExhaustedError before anything is sent:
 *   preemptive backoff. (A counter taken before a later one refused stays taken: it errs on the
 *   side of the limit.)
 * - observe: the exchange's own count (Binance `X-MBX-USED-WEIGHT-1M`) raises the counter, never
 *   lowers it, so weight used by requests this budget did not see is still counted.
 * - exhaust: after a 429/418 the rest of the window is spent.
 * Windows are aligned to the epoch like Binance's (one-minute windows start at :00).
 */
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ValidationError } from '../../domain/errors.js';
import type { Clock } from '../../ports/clock.js';
import { RateBudgetExhaustedError, type OrderCounts, type RateBudget, type RateLimitKind } from '../../ports/rate-budget.js';
import { isConditionFailed } from './dynamodb-errors.js';
import type { StateKey } from './dynamodb-keys.js';

export const RATE_PREFIX = 'RATE#';
/** Binance spot: 6000 request weight per IP per minute. */
export const BINANCE_SPOT_WEIGHT_PER_MINUTE = 6000;
/** Binance spot ORDERS limits, per account: 100 orders per 10 s and 200,000 per day. */
export const BINANCE_SPOT_ORDERS_PER_10S = 100;
export const BINANCE_SPOT_ORDERS_PER_DAY = 200_000;
const TEN_SECONDS_MS = 10_000;
const DAY_MS = 86_400_000;
/** Back off at 80% of the exchange's limit. */
export const DEFAULT_BUDGET_FRACTION = 0.8;
/** Items outlive their window by a day before TTL may delete them. */
const TTL_AFTER_WINDOW_SECONDS = 86_400;

export function rateKey(exchangeId: string, windowStart: number, kind: RateLimitKind = 'weight'): StateKey {
  return { pk: kind === 'weight' ? `${RATE_PREFIX}${exchangeId}#${windowStart}` : `${RATE_PREFIX}${exchangeId}#${kind}#${windowStart}`, sk: 'RATE' };
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
  /** Fraction of each limit this budget hands out. @default DEFAULT_BUDGET_FRACTION */
  readonly budgetFraction?: number;
  /** Orders per 10 s (per account). @default BINANCE_SPOT_ORDERS_PER_10S */
  readonly ordersPer10s?: number;
  /** Orders per day (per account). @default BINANCE_SPOT_ORDERS_PER_DAY */
  readonly ordersPerDay?: number;
}

interface Counter {
  readonly kind: RateLimitKind;
  readonly limit: number;
  readonly windowMs: number;
  /** floor(limit x fraction). */
  readonly budget: number;
}

export class DynamoDbRateBudget implements RateBudget {
  readonly #doc: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #exchangeId: string;
  readonly #clock: Clock;
  readonly #weight: Counter;
  readonly #orders10s: Counter;
  readonly #ordersDay: Counter;
  /** Weight handed out per window: floor(limit x fraction). */
  readonly budget: number;

  constructor(options: DynamoDbRateBudgetOptions) {
    const limit = options.limit ?? BINANCE_SPOT_WEIGHT_PER_MINUTE;
    const windowMs = options.windowMs ?? 60_000;
    const fraction = options.budgetFraction ?? DEFAULT_BUDGET_FRACTION;
    if (!Number.isInteger(limit) || limit < 1) throw new ValidationError('rate limit must be a positive integer');
    if (!Number.isInteger(windowMs) || windowMs < 1000) throw new ValidationError('rate window must be at least 1000 ms');
    if (!(fraction > 0 && fraction <= 1)) throw new ValidationError('budget fraction must be in (0, 1]');
    const per10s = options.ordersPer10s ?? BINANCE_SPOT_ORDERS_PER_10S;
    const perDay = options.ordersPerDay ?? BINANCE_SPOT_ORDERS_PER_DAY;
    if (!Number.isInteger(per10s) || per10s < 1 || !Number.isInteger(perDay) || perDay < 1) throw new ValidationError('order limits must be positive integers');
    this.#doc = options.doc;
    this.#table = options.table;
    this.#exchangeId = options.exchangeId;
    this.#clock = options.clock;
    const counter = (kind: RateLimitKind, max: number, ms: number): Counter => ({ kind, limit: max, windowMs: ms, budget: Math.max(1, Math.floor(max * fraction)) });
    this.#weight = counter('weight', limit, windowMs);
    this.#orders10s = counter('orders-10s', per10s, TEN_SECONDS_MS);
    this.#ordersDay = counter('orders-1d', perDay, DAY_MS);
    this.budget = this.#weight.budget;
  }

  /** Orders handed out per 10 s and per day. */
  get orderBudgets(): { readonly tenSeconds: number; readonly day: number } {
    return { tenSeconds: this.#orders10s.budget, day: this.#ordersDay.budget };
  }

  async consume(weight: number, orders = 0): Promise<void> {
    if (!Number.isInteger(weight) || weight < 0) throw new ValidationError(`request weight must be a non-negative integer, got ${weight}`);
    if (!Number.isInteger(orders) || orders < 0) throw new ValidationError(`order count must be a non-negative integer, got ${orders}`);
    await this.take(this.#weight, weight);
    if (orders > 0) {
      await this.take(this.#orders10s, orders);
      await this.take(this.#ordersDay, orders);
    }
  }

  async observe(usedWeight: number, orders: OrderCounts = {}): Promise<void> {
    if (Number.isInteger(usedWeight) && usedWeight >= 0) await this.raiseTo(this.#weight, Math.min(usedWeight, this.#weight.limit));
    if (orders.tenSeconds !== undefined && Number.isInteger(orders.tenSeconds) && orders.tenSeconds >= 0) {
      await this.raiseTo(this.#orders10s, Math.min(orders.tenSeconds, this.#orders10s.limit));
    }
    if (orders.day !== undefined && Number.isInteger(orders.day) && orders.day >= 0) await this.raiseTo(this.#ordersDay, Math.min(orders.day, this.#ordersDay.limit));
  }

  async exhaust(): Promise<void> {
    await this.raiseTo(this.#weight, this.#weight.limit);
  }

  /** Orders counted in the current 10 s and day windows. */
  async ordersUsed(): Promise<{ tenSeconds: number; day: number }> {
    return { tenSeconds: await this.usedOr(this.#orders10s, 0), day: await this.usedOr(this.#ordersDay, 0) };
  }

  /** Weight used in the current window (0 when nothing was recorded yet). */
  async used(): Promise<number> {
    return this.usedOr(this.#weight, 0);
  }

  /** One conditional ADD on `counter`'s current window; refused when it would pass its budget. */
  private async take(counter: Counter, amount: number): Promise<void> {
    const window = this.window(counter);
    const retryAt = new Date(window.start + counter.windowMs);
    if (amount > counter.budget) throw new RateBudgetExhaustedError(this.#exchangeId, amount, counter.budget, retryAt, counter.kind);
    try {
      await this.#doc.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: rateKey(this.#exchangeId, window.start, counter.kind),
          UpdateExpression: 'ADD #weight :weight SET #exchange = :exchange, #windowStart = :windowStart, #ttl = :ttl',
          // Room left for this request: used + amount <= budget.
          ConditionExpression: 'attribute_not_exists(#weight) OR #weight <= :room',
          ExpressionAttributeNames: { '#weight': 'weight', '#exchange': 'exchange', '#windowStart': 'windowStart', '#ttl': 'expiresAtEpoch' },
          ExpressionAttributeValues: { ':weight': amount, ':room': counter.budget - amount, ...window.values },
        }),
      );
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      throw new RateBudgetExhaustedError(this.#exchangeId, await this.usedOr(counter, counter.budget), counter.budget, retryAt, counter.kind);
    }
  }

  private async raiseTo(counter: Counter, value: number): Promise<void> {
    const window = this.window(counter);
    try {
      await this.#doc.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: rateKey(this.#exchangeId, window.start, counter.kind),
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

  private async usedOr(counter: Counter, fallback: number): Promise<number> {
    const window = this.window(counter);
    const { Item } = await this.#doc.send(new GetCommand({ TableName: this.#table, Key: rateKey(this.#exchangeId, window.start, counter.kind), ConsistentRead: true }));
    return typeof Item?.weight === 'number' ? Item.weight : fallback;
  }

  private window(counter: Counter): { start: number; values: Record<string, string | number> } {
    const now = this.#clock.now().getTime();
    const start = Math.floor(now / counter.windowMs) * counter.windowMs;
    return {
      start,
      values: {
        ':exchange': this.#exchangeId,
        ':windowStart': new Date(start).toISOString(),
        ':ttl': Math.ceil((start + counter.windowMs) / 1000) + TTL_AFTER_WINDOW_SECONDS,
      },
    };
  }
}
