/**
 * Runtime tunables (OPS-5) and the scanner's risk memory (RISK-4), kept in the state table so an
 * operator changes limits and switches strategies per symbol without a redeploy, and every
 * scanner instance sees the same peak equity, day start and cooldowns.
 */
import * as z from '../domain/zod-mini.js';
import { UNSIGNED_DECIMAL_PATTERN } from '../domain/money.js';
import type { RiskState } from '../domain/protections.js';

const decimal = z.string().check(z.regex(UNSIGNED_DECIMAL_PATTERN, 'must be a decimal string such as 250 or 1.5'));
const percent = decimal.check(z.refine((s) => Number(s) > 0 && Number(s) < 100, 'must be between 0 and 100 (exclusive)'));
const aboveZero = decimal.check(z.refine((s) => Number(s) > 0, 'must be > 0'));
const symbol = z.string().check(z.regex(/^[A-Z0-9]{2,15}\/[A-Z0-9]{2,15}$/, 'must look like BTC/USDT'));
const strategyName = z.string().check(z.regex(/^[a-z0-9-]{1,40}$/, 'must be a kebab-case strategy name'));

/** One strategy's switches: on/off for every symbol, per-symbol overrides, parameter overrides. */
export const StrategyTunablesSchema = z.strictObject({
  enabled: z.optional(z.boolean()),
  /** Symbol -> on/off; wins over `enabled` for that symbol. */
  symbols: z.optional(z.record(symbol, z.boolean())),
  /** Parameter overrides, validated by the strategy's own schema when used. */
  params: z.optional(z.record(z.string().check(z.regex(/^[A-Za-z][A-Za-z0-9]{0,39}$/)), z.union([z.string().check(z.maxLength(64)), z.number(), z.boolean()]))),
});

/**
 * The tunables record. Every field is optional: an absent field falls back to the deployment
 * configuration. Unknown fields are refused, so a typo is an error, not a silent no-op.
 */
export const TunablesSchema = z.strictObject({
  maxOpenPositions: z.optional(z.number().check(z.int(), z.minimum(0), z.maximum(1000))),
  maxExposurePerSymbol: z.optional(decimal),
  maxTotalExposure: z.optional(decimal),
  cooldownSeconds: z.optional(z.number().check(z.int(), z.minimum(0), z.maximum(7 * 86_400))),
  stopLossPercent: z.optional(percent),
  takeProfitPercent: z.optional(aboveZero),
  maxDailyLoss: z.optional(decimal),
  maxDrawdownPercent: z.optional(percent),
  orderQuoteAmount: z.optional(aboveZero),
  strategies: z.optional(z.record(strategyName, StrategyTunablesSchema)),
});
export type Tunables = z.infer<typeof TunablesSchema>;
export type StrategyTunables = z.infer<typeof StrategyTunablesSchema>;

export interface VersionedTunables {
  readonly tunables: Tunables;
  /** 0: no record yet (every value is the configured default). */
  readonly version: number;
  readonly updatedAt?: string;
  readonly updatedBy?: string;
}

export interface TunablesStore {
  /**
   * One strongly consistent read. A missing record is `{}` at version 0.
   * @throws StorageError when the stored record does not match the schema (never ignored).
   */
  getTunables(): Promise<VersionedTunables>;
  /**
   * Replaces the record, conditional on `expectedVersion`.
   * @throws ValidationError for an invalid record, ConcurrentModificationError when it changed.
   */
  putTunables(tunables: Tunables, expectedVersion: number, author: string, at: Date): Promise<void>;
}

export interface VersionedRiskState {
  readonly state: RiskState;
  readonly version: number;
}

/** The scanner's memory for the protections: peak equity, day-start equity, cooldowns. */
export interface RiskStateStore {
  getRiskState(): Promise<VersionedRiskState>;
  /** @throws ConcurrentModificationError when another scan wrote first. */
  putRiskState(state: RiskState, expectedVersion: number, at: Date): Promise<void>;
}
