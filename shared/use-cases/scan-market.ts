/**
 * One market scan: data in, intents out.
 *
 * Primary course:
 * 1. Kill switch, fail closed: an unreadable pause record fails the scan; a pause returns early
 *    (RISK-1).
 * 2. Data source honesty: live mode refuses a synthetic source (DATA-4).
 * 3. Tunables: one read of the tunables record, merged over the configured defaults and
 *    validated; an invalid record fails the scan (OPS-5). The risk record says which slot was
 *    scanned last: a slot that already sent its intents (or an older one) is not scanned again,
 *    so a repeated scheduled event enqueues nothing new, even if the market moved since.
 * 4. Tickers for the whole watchlist in one request (DATA-5); each is validated and bad or stale
 *    ones are dropped with a reason (DATA-1, DATA-2). If market data cannot be fetched the scan
 *    records the failure for health and fails; it never falls back to other data (DATA-4).
 * 5. Risk: equity at the bids against the day start and the peak decides whether entries pause
 *    (RISK-4).
 * 6. Per symbol: candles for the enabled strategies, only when a new candle has closed (DATA-5),
 *    validated and gap-checked (DATA-3); stop-loss / take-profit or a strategy exit for a held
 *    position, else the first strategy entry; protections drop what breaks a limit (RISK-4).
 * 7. Each signal becomes an intent whose id is derived from the schedule slot, so the same slot
 *    scanned twice sends the same ids (deduplicated by the FIFO queue and the executor).
 * 8. Unless dry run: the risk record (cooldowns of the exits, this slot as the last one) is
 *    written before the intents are sent, conditional on the version read in step 3: of two
 *    concurrent scans only one sends, and an exit is never sent without its cooldown. Then the
 *    intents; then the scan report for health (data freshness and source). A scan that died
 *    between the risk write and its report is run again by a retry of its slot.
 */
import { equity } from '../domain/account.js';
import { TradewardenError, ErrorCode, ValidationError, toTradewardenError } from '../domain/errors.js';
import { intentIdFor, type Intent } from '../domain/intent.js';
import type { Candle, DataSource, MarketRules, Ticker } from '../domain/market.js';
import { CANDLE_MS, checkCandles, checkTicker, type Rejection } from '../domain/market-validation.js';
import { add, type DecimalString } from '../domain/money.js';
import {
  assessRisk,
  entryBlock,
  exitBlock,
  exposureOf,
  isOpen,
  protectiveExit,
  recordExit,
  type Exposure,
  type ProtectionSettings,
  type RiskState,
} from '../domain/protections.js';
import type { PreparedStrategy, Signal, StrategyPlugin } from '../domain/strategies/strategy.js';
import type { AccountStore } from '../ports/account-store.js';
import type { Clock } from '../ports/clock.js';
import type { ControlStore } from '../ports/control-store.js';
import type { Exchange } from '../ports/exchange.js';
import type { IntentQueue } from '../ports/intent-queue.js';
import type { RiskStateStore, Tunables, TunablesStore } from '../ports/tunables-store.js';
import { isPauseActive } from './pause.js';

/** A strategy's configured default: on or off for every symbol, and its raw parameters. */
export interface StrategyDefault {
  readonly enabled: boolean;
  readonly params: Readonly<Record<string, unknown>>;
}

/** The deployment's defaults; the tunables record overrides them at run time. */
export interface ScanSettings {
  readonly mode: 'paper' | 'live';
  readonly watchlist: readonly string[];
  readonly quoteCurrency: string;
  readonly intentTtlSeconds: number;
  readonly staleDataSeconds: number;
  readonly orderQuoteAmount: DecimalString;
  readonly protections: ProtectionSettings;
  /** Strategy name -> default; strategies of the registry not named here are off by default. */
  readonly strategies: Readonly<Record<string, StrategyDefault>>;
}

export interface ScanDeps {
  readonly exchange: Exchange;
  readonly queue: IntentQueue;
  readonly control: ControlStore;
  readonly accounts: AccountStore;
  readonly tunables: TunablesStore;
  readonly risk: RiskStateStore;
  readonly clock: Clock;
  /** Market rules (min notional, step); cached by the caller. Called only when a signal needs them. */
  readonly markets: () => Promise<Readonly<Record<string, MarketRules>>>;
  /** The strategy plug-ins by name. */
  readonly strategies: Readonly<Record<string, StrategyPlugin>>;
  /** Candles kept between scans of one container (DATA-5). */
  readonly candles: CandleCache;
  readonly settings: ScanSettings;
}

export interface ScanInput {
  /** The schedule slot this scan is for (the scheduled time, not the time it ran). */
  readonly slot: Date;
  readonly dryRun: boolean;
}

export interface Blocked {
  readonly symbol: string;
  readonly strategy: string;
  readonly side: 'buy' | 'sell';
  readonly reason: string;
}

export interface ScanResult {
  /** `duplicate`: this slot (or a later one) was already scanned and sent; nothing was done. */
  readonly status: 'scanned' | 'paused' | 'duplicate';
  readonly slot: string;
  readonly source: DataSource;
  readonly dryRun: boolean;
  readonly pauseReason?: string;
  /** Why new entries are paused this scan (daily loss, drawdown), if they are. */
  readonly entriesPaused?: string;
  readonly symbols: number;
  readonly signals: readonly Signal[];
  readonly intents: readonly Intent[];
  readonly rejectedData: readonly Rejection[];
  readonly blocked: readonly Blocked[];
  /** Candle series fetched from the exchange this scan (the rest came from the cache). */
  readonly candleFetches: number;
}

/** Settings after the tunables were applied, with the strategies bound to their parameters. */
export interface ResolvedScanSettings {
  readonly orderQuoteAmount: DecimalString;
  readonly protections: ProtectionSettings;
  readonly strategies: readonly { readonly strategy: PreparedStrategy; readonly enabledFor: (symbol: string) => boolean }[];
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
  const overrides = tunables.strategies ?? {};
  for (const name of Object.keys(overrides)) {
    if (!registry[name]) throw new ValidationError(`tunables name an unknown strategy ${JSON.stringify(name)}; known: ${Object.keys(registry).join(', ')}`);
  }
  const p = defaults.protections;
  const protections: ProtectionSettings = {
    maxOpenPositions: tunables.maxOpenPositions ?? p.maxOpenPositions,
    maxExposurePerSymbol: tunables.maxExposurePerSymbol ?? p.maxExposurePerSymbol,
    maxTotalExposure: tunables.maxTotalExposure ?? p.maxTotalExposure,
    cooldownSeconds: tunables.cooldownSeconds ?? p.cooldownSeconds,
    stopLossPercent: tunables.stopLossPercent ?? p.stopLossPercent,
    takeProfitPercent: tunables.takeProfitPercent ?? p.takeProfitPercent,
    maxDailyLoss: tunables.maxDailyLoss ?? p.maxDailyLoss,
    maxDrawdownPercent: tunables.maxDrawdownPercent ?? p.maxDrawdownPercent,
  };
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

export async function scanMarket(deps: ScanDeps, input: ScanInput): Promise<ScanResult> {
  const now = deps.clock.now();
  const { settings } = deps;
  const slot = input.slot.toISOString();
  const source = deps.exchange.source;
  const base = { slot, source, dryRun: input.dryRun, symbols: settings.watchlist.length, signals: [], intents: [], rejectedData: [], blocked: [], candleFetches: 0 };

  // 1. Kill switch (fail closed: getPause throws when unreadable).
  const pause = await deps.control.getPause();
  if (isPauseActive(pause, now)) return { ...base, status: 'paused', pauseReason: pause.reason ?? 'paused' };

  // 2. Never trade live on made-up data.
  if (settings.mode === 'live' && source !== 'exchange') {
    throw new TradewardenError(ErrorCode.SyntheticDataRefused, 'live mode refuses a synthetic market data source', false);
  }

  // 3. Tunables over the defaults; a slot already done is not scanned again.
  const resolved = resolveScanSettings(settings, (await deps.tunables.getTunables()).tunables, deps.strategies);
  const storedRisk = await deps.risk.getRiskState();
  if (!input.dryRun && (await slotDone(deps, storedRisk.state.lastSlot, slot))) return { ...base, status: 'duplicate' };

  // 4. One request for the whole watchlist; validate each ticker. A failed fetch is recorded.
  const maxAgeMs = settings.staleDataSeconds * 1000;
  const raw = await fetchOrReport(deps, input, now, () => deps.exchange.fetchTickers(settings.watchlist));
  const rejectedData: Rejection[] = [];
  const tickers: Ticker[] = [];
  for (const symbol of settings.watchlist) {
    const found = raw.find((t) => t.symbol === symbol);
    if (!found) {
      rejectedData.push({ symbol, reason: 'no ticker returned' });
      continue;
    }
    const checked = checkTicker(found, now, maxAgeMs);
    if (checked.ok) tickers.push(checked.ticker);
    else rejectedData.push(checked.rejection);
  }

  // 5. Risk: equity at the bids against the day start and the peak.
  const book = await deps.accounts.get(settings.quoteCurrency);
  const bids = Object.fromEntries(tickers.map((t) => [t.symbol, t.bid]));
  const assessed = book ? assessRisk(storedRisk.state, equity(book, bids), now, resolved.protections) : { state: storedRisk.state, entriesPaused: undefined };
  let risk: RiskState = { ...assessed.state, lastSlot: slot };

  // 6. Decisions per symbol, through the protections.
  const exposure = mutableExposure(exposureOf(book, bids));
  const signals: Signal[] = [];
  const blocked: Blocked[] = [];
  let candleFetches = 0;
  let rules: Readonly<Record<string, MarketRules>> | undefined;
  const marketRules = async (symbol: string): Promise<MarketRules | undefined> => {
    rules ??= await deps.markets();
    return rules[symbol];
  };
  for (const ticker of tickers) {
    const { symbol } = ticker;
    const position = book?.positions[symbol];
    const held = isOpen(position) ? position : undefined;
    const enabled = resolved.strategies.filter((s) => s.enabledFor(symbol)).map((s) => s.strategy);
    const needed = Math.max(0, ...enabled.map((s) => s.candlesNeeded));
    let candles: readonly Candle[] = [];
    if (needed > 0) {
      const cached = deps.candles.get(symbol, needed, now);
      const series = cached ?? (await fetchOrReport(deps, input, now, () => deps.exchange.fetchCandles(symbol, needed)));
      if (!cached) {
        candleFetches += 1;
        deps.candles.put(symbol, series);
      }
      const checked = checkCandles(series.slice(-needed), now, maxAgeMs + CANDLE_MS, needed);
      if (checked.ok) candles = checked.candles;
      else rejectedData.push({ symbol, reason: checked.reason });
    }
    const runnable = enabled.filter((s) => s.candlesNeeded === 0 || candles.length >= s.candlesNeeded);
    const evaluate = (s: PreparedStrategy) => s.evaluate({ ticker, candles: s.candlesNeeded === 0 ? [] : candles.slice(-s.candlesNeeded), position: held });

    if (held) {
      // Exit: stop-loss / take-profit for every position, else the first strategy that says sell.
      const protective = protectiveExit(held, ticker, resolved.protections);
      const exit = protective
        ? { strategy: protective.protection, reason: protective.reason }
        : firstDecision(runnable, evaluate, 'sell');
      if (!exit) continue;
      const why = exitBlock(symbol, held.qty, ticker.bid, exposure, await marketRules(symbol));
      if (why) blocked.push({ symbol, strategy: exit.strategy, side: 'sell', reason: why });
      else {
        signals.push({ strategy: exit.strategy, symbol, side: 'sell', amount: held.qty, reason: exit.reason });
        risk = recordExit(risk, symbol, now);
      }
      continue;
    }
    const entry = firstDecision(runnable, evaluate, 'buy');
    if (!entry) continue;
    const why = entryBlock({
      symbol,
      quoteAmount: resolved.orderQuoteAmount,
      exposure,
      risk,
      entriesPaused: assessed.entriesPaused,
      rules: await marketRules(symbol),
      now,
      settings: resolved.protections,
    });
    if (why) blocked.push({ symbol, strategy: entry.strategy, side: 'buy', reason: why });
    else {
      signals.push({ strategy: entry.strategy, symbol, side: 'buy', quoteAmount: resolved.orderQuoteAmount, reason: entry.reason });
      exposure.add(symbol, resolved.orderQuoteAmount);
    }
  }

  // 7. Deterministic intents for this slot.
  const expiresAt = new Date(now.getTime() + settings.intentTtlSeconds * 1000).toISOString();
  const intents: Intent[] = signals.map((s) => {
    const id = intentIdFor({ strategy: s.strategy, symbol: s.symbol, side: s.side, slot });
    return {
      id,
      strategy: s.strategy,
      symbol: s.symbol,
      side: s.side,
      type: 'market',
      ...(s.quoteAmount ? { quoteAmount: s.quoteAmount } : {}),
      ...(s.amount ? { amount: s.amount } : {}),
      createdAt: now.toISOString(),
      expiresAt,
      correlationId: id,
      reason: s.reason.slice(0, 200),
    };
  });

  // 8. Risk record, then the intents, then the report for health.
  const entriesPaused = assessed.entriesPaused;
  if (!input.dryRun) {
    await deps.risk.putRiskState(risk, storedRisk.version, now);
    if (intents.length > 0) await deps.queue.send(intents);
    await deps.control.putReport('scan', {
      at: now.toISOString(),
      slot,
      source,
      failed: false,
      symbols: settings.watchlist.length,
      fresh: tickers.length,
      rejectedData,
      signals: signals.length,
      intents: intents.length,
      blocked: blocked.length,
      candleFetches,
      ...(entriesPaused ? { entriesPaused } : {}),
    });
  }
  return { ...base, status: 'scanned', signals, intents, rejectedData, blocked, candleFetches, ...(entriesPaused ? { entriesPaused } : {}) };
}

/**
 * Whether `slot` needs no scan: a later slot was scanned, or this one was and its scan report
 * (written after its intents were sent) says it succeeded.
 */
async function slotDone(deps: ScanDeps, lastSlot: string | undefined, slot: string): Promise<boolean> {
  if (lastSlot === undefined || lastSlot < slot) return false;
  if (lastSlot > slot) return true;
  const report = await deps.control.getReport('scan');
  return report !== null && report.slot === slot && report.failed === false;
}

/**
 * Runs a market data fetch; if it fails, the failure is recorded as the latest scan report
 * (`failed: true`, so health shows it) and the error is rethrown (DATA-4: never made-up data).
 */
async function fetchOrReport<T>(deps: ScanDeps, input: ScanInput, now: Date, fetch: () => Promise<T>): Promise<T> {
  try {
    return await fetch();
  } catch (error) {
    const failure = toTradewardenError(error);
    if (!input.dryRun) {
      try {
        await deps.control.putReport('scan', {
          at: now.toISOString(),
          slot: input.slot.toISOString(),
          source: deps.exchange.source,
          failed: true,
          error: { code: failure.code, message: failure.message.slice(0, 300) },
          symbols: deps.settings.watchlist.length,
          fresh: 0,
        });
      } catch (reportError) {
        // The scan fails either way; keep the market data error as the one it fails with.
        failure.details['reportWriteFailed'] = reportError instanceof Error ? reportError.message : String(reportError);
      }
    }
    throw failure;
  }
}

function firstDecision(
  strategies: readonly PreparedStrategy[],
  evaluate: (s: PreparedStrategy) => { side: 'buy' | 'sell'; reason: string } | null,
  side: 'buy' | 'sell',
): { strategy: string; reason: string } | null {
  for (const s of strategies) {
    const decision = evaluate(s);
    if (decision?.side === side) return { strategy: s.name, reason: decision.reason };
  }
  return null;
}

/** Exposure that grows as this scan accepts entries, so later symbols see earlier ones. */
function mutableExposure(initial: Exposure): Exposure & { add(symbol: string, quote: DecimalString): void } {
  let current = initial;
  return {
    get openPositions() {
      return current.openPositions;
    },
    get bySymbol() {
      return current.bySymbol;
    },
    get total() {
      return current.total;
    },
    get buying() {
      return current.buying;
    },
    get selling() {
      return current.selling;
    },
    add(symbol, quote) {
      const had = current.bySymbol[symbol] !== undefined;
      const bySymbol = { ...current.bySymbol, [symbol]: add(current.bySymbol[symbol] ?? '0', quote) };
      current = { ...current, openPositions: current.openPositions + (had ? 0 : 1), bySymbol, total: add(current.total, quote), buying: new Set([...current.buying, symbol]) };
    },
  };
}


/** Default bounds of the candle cache: the largest watchlist the configuration accepts, and about 60 MB of candles. */
export const CANDLE_CACHE_MAX_SYMBOLS = 1000;
export const CANDLE_CACHE_MAX_CANDLES = 200_000;

/**
 * Candles of each symbol between scans of one container (DATA-5): a series is reused while no
 * newer candle has closed, so several scans within one minute fetch candles once. Bounded by
 * symbols and by candles in total: the least recently used symbols are dropped first (HLT-6).
 */
export class CandleCache {
  readonly #entries = new Map<string, readonly Candle[]>();
  #candles = 0;

  constructor(
    readonly maxSymbols: number = CANDLE_CACHE_MAX_SYMBOLS,
    readonly maxCandles: number = CANDLE_CACHE_MAX_CANDLES,
  ) {
    if (!Number.isInteger(maxSymbols) || maxSymbols < 1 || !Number.isInteger(maxCandles) || maxCandles < 1) {
      throw new ValidationError('candle cache bounds must be positive integers');
    }
  }

  /** The cached series if it holds `needed` candles and ends with the last candle closed at `now`. */
  get(symbol: string, needed: number, now: Date): readonly Candle[] | undefined {
    const series = this.#entries.get(symbol);
    if (!series || series.length < needed) return undefined;
    const lastClosedOpen = Math.floor(now.getTime() / CANDLE_MS) * CANDLE_MS - CANDLE_MS;
    if ((series[series.length - 1]?.openTime ?? -Infinity) < lastClosedOpen) return undefined;
    this.#entries.delete(symbol);
    this.#entries.set(symbol, series);
    return series;
  }

  put(symbol: string, series: readonly Candle[]): void {
    this.remove(symbol);
    this.#entries.set(symbol, series);
    this.#candles += series.length;
    while (this.#entries.size > this.maxSymbols || (this.#candles > this.maxCandles && this.#entries.size > 1)) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.remove(oldest);
    }
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Candles held in total. */
  get candles(): number {
    return this.#candles;
  }

  private remove(symbol: string): void {
    const series = this.#entries.get(symbol);
    if (!series) return;
    this.#candles -= series.length;
    this.#entries.delete(symbol);
  }
}
