/**
 * Trade intents: what the scanner decided, before anything is sent. An intent's id is a pure
 * function of what it means (strategy, symbol, side, schedule slot), so re-running the same scan
 * slot yields the same ids and the queue and executor deduplicate it (EXE-1).
 */
import { hash } from 'node:crypto';
import * as z from './zod-mini.js';
import { UNSIGNED_DECIMAL_PATTERN } from './money.js';

/** 32 lowercase hex characters (128 bits of a SHA-256). */
export const INTENT_ID_PATTERN = /^[0-9a-f]{32}$/;
/** Largest amount or quote budget an intent may carry; anything above is a bad input (SEC-4). */
export const MAX_INTENT_NOTIONAL = 1_000_000_000;

const positiveDecimal = z
  .string()
  .check(
    z.regex(UNSIGNED_DECIMAL_PATTERN, 'must be a decimal string such as 0.5'),
    z.refine((s) => Number(s) > 0, 'must be greater than zero'),
    z.refine((s) => Number(s) <= MAX_INTENT_NOTIONAL, `must not exceed ${MAX_INTENT_NOTIONAL}`),
  );

export const IntentSchema = z
  .strictObject({
    id: z.string().check(z.regex(INTENT_ID_PATTERN, 'must be 32 lowercase hex characters')),
    strategy: z.string().check(z.regex(/^[a-z0-9-]{1,40}$/, 'must be a short kebab-case name')),
    symbol: z.string().check(z.regex(/^[A-Z0-9]{2,15}\/[A-Z0-9]{2,15}$/, 'must look like BTC/USDT')),
    side: z.enum(['buy', 'sell']),
    type: z.enum(['market', 'limit']),
    amount: z.optional(positiveDecimal),
    quoteAmount: z.optional(positiveDecimal),
    limitPrice: z.optional(positiveDecimal),
    createdAt: z.iso.datetime(),
    expiresAt: z.iso.datetime(),
    correlationId: z.optional(z.string().check(z.regex(/^[A-Za-z0-9-]{1,64}$/))),
    reason: z.optional(z.string().check(z.maxLength(200))),
  })
  .check(
    z.superRefine((i, ctx) => {
      if ((i.amount === undefined) === (i.quoteAmount === undefined)) {
        ctx.addIssue({ code: 'custom', path: ['amount'], message: 'exactly one of amount or quoteAmount is required' });
      }
      if (i.type === 'limit' && i.limitPrice === undefined) {
        ctx.addIssue({ code: 'custom', path: ['limitPrice'], message: 'a limit intent needs limitPrice' });
      }
      if (i.type === 'market' && i.limitPrice !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['limitPrice'], message: 'a market intent has no limitPrice' });
      }
      if (Date.parse(i.expiresAt) <= Date.parse(i.createdAt)) {
        ctx.addIssue({ code: 'custom', path: ['expiresAt'], message: 'must be after createdAt' });
      }
    }),
  );

export type Intent = z.infer<typeof IntentSchema>;

/** Deterministic intent id: same strategy, symbol, side and slot give the same id. */
export function intentIdFor(parts: { strategy: string; symbol: string; side: string; slot: string }): string {
  // The one-shot form: the same digest as a Hash object, without making one per intent.
  return hash('sha256', `${parts.strategy}|${parts.symbol}|${parts.side}|${parts.slot}`, 'hex').slice(0, 32);
}

/**
 * The fields that make two deliveries of one intent id the same intent: everything it would trade
 * on. Not its times: the order records the intent's expiry at the claim and a later delivery
 * cannot extend it (EXE-14), so a redelivery carrying other times is the same trade.
 */
const TRADE_FIELDS = ['strategy', 'symbol', 'side', 'type', 'amount', 'quoteAmount', 'limitPrice'] as const;

/**
 * The fingerprint of what an intent would trade (SHA-256 hex of its trade fields, absent ones as
 * null), recorded on its order at the claim (INTENT_FINGERPRINT). A later delivery of the same id
 * whose fingerprint differs is not the intent that was executed (EXE-1, SEC-4). The correlation
 * id, the reason and the times do not change the trade and are left out.
 */
export function intentFingerprint(intent: Intent): string {
  const fields = TRADE_FIELDS.map((field) => intent[field] ?? null);
  return hash('sha256', JSON.stringify(fields), 'hex');
}

/**
 * When an intent expires (EXE-14): the earlier of its `expiresAt` and its `createdAt` plus the
 * configured time-to-live. An intent created long ago cannot stay valid by carrying a late
 * `expiresAt`. Without a TTL only `expiresAt` counts.
 */
export function intentExpiry(intent: Pick<Intent, 'expiresAt' | 'createdAt'>, ttlMs?: number): Date {
  const expiresAt = Date.parse(intent.expiresAt);
  if (ttlMs === undefined) return new Date(expiresAt);
  return new Date(Math.min(expiresAt, Date.parse(intent.createdAt) + ttlMs));
}

/** EXE-9, EXE-14: an intent at or past its expiry is never executed. */
export function isExpired(intent: Pick<Intent, 'expiresAt' | 'createdAt'>, now: Date, ttlMs?: number): boolean {
  return now.getTime() >= intentExpiry(intent, ttlMs).getTime();
}

/**
 * EXE-14: an intent created in the future, beyond the clock skew we tolerate, was not made by a
 * scanner on a sane clock: its `createdAt` cannot be trusted to bound its life, so it is invalid.
 * @returns the problem, or undefined when the intent's creation time is plausible.
 */
export function futureCreationProblem(intent: Pick<Intent, 'createdAt'>, now: Date, skewMs: number): string | undefined {
  const ahead = Date.parse(intent.createdAt) - now.getTime();
  if (ahead <= skewMs) return undefined;
  return `createdAt ${intent.createdAt} is ${ahead} ms in the future (more than the ${skewMs} ms clock skew allowed)`;
}
