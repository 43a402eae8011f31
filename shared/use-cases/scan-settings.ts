/**
 * The scanner's settings: the deployment's defaults (ScanSettings), and how the tunables record
 * (OPS-5) is merged over them for one scan (resolveScanSettings).
 */
import type { EntryLimits } from '../domain/entry-limits.js';
import { ValidationError } from '../domain/errors.js';
import type { DecimalString } from '../domain/money.js';
import type { PairListRule } from '../domain/pair-list.js';
import type { ProtectionSettings } from '../domain/protections.js';
import type { PreparedStrategy, StrategyPlugin } from '../domain/strategies/strategy.js';
import type { Tunables } from '../ports/tunables-store.js';

/** Candle requests in flight at once: 1000 symbols at 50 ms a request take about 2.5 s. */
export const DEFAULT_CANDLE_CONCURRENCY = 20;
/** Time a scan may spend fetching before it stops and rotates (below the one-minute schedule). */
export const DEFAULT_SCAN_DEADLINE_MS = 40_000;
/** Attempts per symbol's candle fetch within one scan, the first included. */
export const DEFAULT_CANDLE_ATTEMPTS = 3;
/** First backoff before a candle fetch is retried; doubles per retry (100, 200 ms). */
export const DEFAULT_CANDLE_BACKOFF_MS = 100;

/** A strategy's configured default: on or off for every symbol, and its raw parameters. */
export interface StrategyDefault {
  readonly enabled: boolean;
  readonly params: Readonly<Record<string, unknown>>;
}

/** The deployment's defaults; the tunables record overrides them at run time. */
export interface ScanSettings {
  readonly mode: 'paper' | 'live';
  /** The fixed watchlist; with a pair list rule, ignored (the rule chooses). */
  readonly watchlist: readonly string[];
  /** The watchlist as a rule (DATA-8); absent: the fixed watchlist. */
  readonly pairList?: PairListRule;
  readonly quoteCurrency: string;
  readonly intentTtlSeconds: number;
  readonly staleDataSeconds: number;
  readonly orderQuoteAmount: DecimalString;
  readonly protections: ProtectionSettings;
  /** Strategy name -> default; strategies of the registry not named here are off by default. */
  readonly strategies: Readonly<Record<string, StrategyDefault>>;
  /** @default DEFAULT_CANDLE_CONCURRENCY */
  readonly candleConcurrency?: number;
  /** Time from the scan's start after which no candle request starts. @default DEFAULT_SCAN_DEADLINE_MS */
  readonly deadlineMs?: number;
  /** @default DEFAULT_CANDLE_ATTEMPTS */
  readonly candleAttempts?: number;
  /** @default DEFAULT_CANDLE_BACKOFF_MS */
  readonly candleBackoffMs?: number;
}

/** Settings after the tunables were applied, with the strategies bound to their parameters. */
export interface ResolvedScanSettings {
  readonly orderQuoteAmount: DecimalString;
  readonly protections: ProtectionSettings;
  readonly strategies: readonly { readonly strategy: PreparedStrategy; readonly enabledFor: (symbol: string) => boolean }[];
}

/**
 * The settings resolved from one (defaults, tunables record, registry), by object identity: the
 * same record (a backtest's, read at every slot) is validated once. All three are read-only.
 */
const resolvedCache = new WeakMap<ScanSettings, WeakMap<Tunables, WeakMap<Readonly<Record<string, StrategyPlugin>>, ResolvedScanSettings>>>();
/**
 * The last settings resolved for one (defaults, registry), by the tunables record's content: a
 * record read again from the store is a new object with, mostly, the same content, and resolves
 * to the same settings (the same prepared strategies, whose evaluators the candle cache keeps).
 */
const lastByContent = new WeakMap<ScanSettings, WeakMap<Readonly<Record<string, StrategyPlugin>>, { readonly key: string; readonly resolved: ResolvedScanSettings }>>();

/**
 * The tunables record's content as text: equal texts, equal records (strings, finite numbers,
 * booleans and records of them, as the schema allows). Undefined for a record the text would not
 * tell apart from another (a -0, written as 0): it is resolved on its own.
 */
export function tunablesKey(tunables: Tunables): string | undefined {
  let exact = true;
  const key = JSON.stringify(tunables, (_name, value: unknown) => {
    if (Object.is(value, -0) || (typeof value === 'number' && !Number.isFinite(value))) exact = false;
    return value;
  });
  return exact ? key : undefined;
}

/**
 * Merges the tunables record over the defaults and validates every strategy's parameters.
 * @throws ValidationError naming an unknown strategy or a bad parameter.
 */
export function resolveScanSettings(
  defaults: ScanSettings,
  tunables: Tunables,
  registry: Readonly<Record<string, StrategyPlugin>>,
): ResolvedScanSettings {
  let byTunables = resolvedCache.get(defaults);
  if (!byTunables) resolvedCache.set(defaults, (byTunables = new WeakMap()));
  let byRegistry = byTunables.get(tunables);
  if (!byRegistry) byTunables.set(tunables, (byRegistry = new WeakMap()));
  let resolved = byRegistry.get(registry);
  if (resolved) return resolved;
  let byContent = lastByContent.get(defaults);
  if (!byContent) lastByContent.set(defaults, (byContent = new WeakMap()));
  const key = tunablesKey(tunables);
  const last = byContent.get(registry);
  if (key !== undefined && last?.key === key) resolved = last.resolved;
  else {
    resolved = resolve(defaults, tunables, registry);
    if (key !== undefined) byContent.set(registry, { key, resolved });
  }
  byRegistry.set(registry, resolved);
  return resolved;
}

function resolve(defaults: ScanSettings, tunables: Tunables, registry: Readonly<Record<string, StrategyPlugin>>): ResolvedScanSettings {
  const overrides = tunables.strategies ?? {};
  for (const name of Object.keys(overrides)) {
    if (!registry[name]) throw new ValidationError(`tunables name an unknown strategy ${JSON.stringify(name)}; known: ${Object.keys(registry).join(', ')}`);
  }
  const protections = resolveProtections(defaults.protections, tunables);
  const strategies = Object.values(registry).map((plugin) => {
    const base = defaults.strategies[plugin.name];
    const override = overrides[plugin.name];
    const strategy = plugin.prepare({ ...(base?.params ?? {}), ...(override?.params ?? {}) });
    const enabled = override?.enabled ?? base?.enabled ?? false;
    const perSymbol = override?.symbols ?? {};
    return { strategy, enabledFor: (symbol: string) => perSymbol[symbol] ?? enabled };
  });
  return { orderQuoteAmount: tunables.orderQuoteAmount ?? defaults.orderQuoteAmount, protections, strategies };
}

/** The protections in force: the tunables record over the configured defaults. */
export function resolveProtections(p: ProtectionSettings, tunables: Tunables): ProtectionSettings {
  return {
    maxOpenPositions: tunables.maxOpenPositions ?? p.maxOpenPositions,
    maxExposurePerSymbol: tunables.maxExposurePerSymbol ?? p.maxExposurePerSymbol,
    maxTotalExposure: tunables.maxTotalExposure ?? p.maxTotalExposure,
    cooldownSeconds: tunables.cooldownSeconds ?? p.cooldownSeconds,
    stopLossPercent: tunables.stopLossPercent ?? p.stopLossPercent,
    takeProfitPercent: tunables.takeProfitPercent ?? p.takeProfitPercent,
    maxDailyLoss: tunables.maxDailyLoss ?? p.maxDailyLoss,
    maxDrawdownPercent: tunables.maxDrawdownPercent ?? p.maxDrawdownPercent,
  };
}

/** The entry limits the executor enforces (EXE-13): the same values the scanner resolves. */
export function entryLimitsOf(p: ProtectionSettings, tunables: Tunables): EntryLimits {
  const resolved = resolveProtections(p, tunables);
  return { maxOpenPositions: resolved.maxOpenPositions, maxExposurePerSymbol: resolved.maxExposurePerSymbol, maxTotalExposure: resolved.maxTotalExposure };
}
