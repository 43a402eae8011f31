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
 * 4. The account book: open positions are always scanned (exits, stop-loss).
 * 5. Tickers in one request (DATA-5): the fixed watchlist, or every market when the watchlist is
 *    a rule (top N by quote volume with filters, DATA-8); open positions are added; the chosen
 *    list is recorded. Each ticker is validated and bad or stale ones are dropped with a reason
 *    (DATA-1, DATA-2). A transient failure of the request is retried as a candle fetch is
 *    (bounded, jittered backoff, within the deadline). If tickers still cannot be fetched the scan
 *    records the failure for health and fails: without tickers it can do nothing, and it never
 *    falls back to other data (DATA-4).
 * 6. Risk: equity at the bids against the day start and the peak decides whether entries pause
 *    (RISK-4).
 * 7. Candles for the enabled strategies, only when a new candle has closed (DATA-5), validated and
 *    gap-checked (DATA-3), fetched concurrently under the rate budget (RISK-6). A symbol whose
 *    candles cannot be had is reported and skipped, not the scan (DATA-7); symbols not reached
 *    before the deadline go first next scan (rotation).
 * 8. Per symbol: stop-loss / take-profit for a held position (the ticker is enough), else a
 *    strategy exit, else the first strategy entry; protections drop what breaks a limit (RISK-4).
 *    A symbol whose entry still waits in the queue (a pending entry of the risk record, ended
 *    when its order is over or its intent expired) gets no second entry, and that entry counts
 *    as exposure until its order reserves budget in the book (EXE-13). The executor enforces the
 *    limits again where the order is sent; this only avoids queuing what it would refuse.
 * 9. Each signal becomes an intent whose id is derived from the schedule slot, so the same slot
 *    scanned twice sends the same ids (deduplicated by the FIFO queue and the executor).
 * 10. Unless dry run: the risk record (cooldowns of the exits, this slot as the last one, the
 *    symbols not reached, the pending entries) is written before the intents are sent, conditional on the version read
 *    in step 3: of two concurrent scans only one sends, and an exit is never sent without its
 *    cooldown. Then the intents; then the scan report for health (data freshness and source,
 *    failed and unreached symbols). A scan that died between the risk write and its report is
 *    run again by a retry of its slot.
 */
import { equity } from '../domain/account.js';
import { TradewardenError, ErrorCode } from '../domain/errors.js';
import type { Intent } from '../domain/intent.js';
import type { DataSource, MarketRules, Ticker } from '../domain/market.js';
import type { Rejection } from '../domain/market-validation.js';
import { isDust } from '../domain/entry-limits.js';
import { assessRisk, exposureOf, type RiskState } from '../domain/protections.js';
import type { PreparedStrategy, Signal, StrategyPlugin } from '../domain/strategies/strategy.js';
import type { AccountStore } from '../ports/account-store.js';
import type { Clock } from '../ports/clock.js';
import type { ControlStore } from '../ports/control-store.js';
import type { Exchange } from '../ports/exchange.js';
import type { IntentQueue } from '../ports/intent-queue.js';
import type { OrderStore } from '../ports/order-store.js';
import type { RiskStateStore, TunablesStore } from '../ports/tunables-store.js';
import { CandleCache } from './candle-cache.js';
import { livePendingEntries, mutableExposure } from './scan-exposure.js';
import { pauseScope } from './pause.js';
import { fetchCandleRound, type CandleRequest, type CandleRound, type StopReason, type SymbolFailure } from './scan-candles.js';
import { decideSymbols, ScanRules } from './scan-decisions.js';
import { commitScan, intentsFor, withPendingEntries } from './scan-intents.js';
import { heldSymbols, scanTickers } from './scan-watchlist.js';
import {
  DEFAULT_CANDLE_ATTEMPTS,
  DEFAULT_CANDLE_BACKOFF_MS,
  DEFAULT_CANDLE_CONCURRENCY,
  DEFAULT_SCAN_DEADLINE_MS,
  resolveScanSettings,
  type ResolvedScanSettings,
  type ScanSettings,
} from './scan-settings.js';

export { CANDLE_CACHE_MAX_CANDLES, CANDLE_CACHE_MAX_SYMBOLS, CandleCache } from './candle-cache.js';
export { firstDecision } from './scan-decisions.js';
export type { SymbolFailure, StopReason } from './scan-candles.js';
export { resolveScanSettings } from './scan-settings.js';
export type { ResolvedScanSettings, ScanSettings, StrategyDefault } from './scan-settings.js';

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
  /**
   * The order store, to end a pending entry as soon as its order is over (EXE-13).
   * @default a pending entry ends only when its intent expired
   */
  readonly orders?: Pick<OrderStore, 'get'>;
  readonly settings: ScanSettings;
  /** Waits between retries of a ticker or candle fetch. @default a timer */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Draws the retries' jitter (shared/domain/timing.ts scanRetryDelayMs). @default Math.random */
  readonly random?: () => number;
}

export interface ScanInput {
  /** The schedule slot this scan is for (the scheduled time, not the time it ran). */
  readonly slot: Date;
  readonly dryRun: boolean;
  /** Overrides the settings' deadline (the function's remaining time is shorter). */
  readonly deadlineMs?: number;
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
  /** Symbols in this scan's list. */
  readonly symbols: number;
  /** The list this scan worked on: the watchlist or what the pair list rule chose, with open positions. */
  readonly pairs: readonly string[];
  /** Symbols that reached the decisions (fresh ticker, and candles when a strategy needs them). */
  readonly evaluated: number;
  readonly signals: readonly Signal[];
  readonly intents: readonly Intent[];
  readonly rejectedData: readonly Rejection[];
  /** Symbols skipped because their candles could not be fetched (DATA-7). */
  readonly failedSymbols: readonly SymbolFailure[];
  /** Symbols not reached before the deadline or the rate budget stopped the scan; first next time. */
  readonly unreached: readonly string[];
  readonly stoppedBy?: StopReason;
  readonly blocked: readonly Blocked[];
  /** Candle requests sent to the exchange this scan (the rest came from the cache). */
  readonly candleFetches: number;
  /** Held positions below their market's minimum order (RISK-9): not positions, not protected, no bar to an entry. */
  readonly dust?: readonly string[];
}

const timer = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function scanMarket(deps: ScanDeps, input: ScanInput): Promise<ScanResult> {
  const now = deps.clock.now();
  const { settings } = deps;
  const slot = input.slot.toISOString();
  const source = deps.exchange.source;
  const base = {
    slot,
    source,
    dryRun: input.dryRun,
    symbols: settings.watchlist.length,
    pairs: settings.pairList ? [] : settings.watchlist,
    evaluated: 0,
    signals: [],
    intents: [],
    rejectedData: [],
    failedSymbols: [],
    unreached: [],
    blocked: [],
    candleFetches: 0,
  };

  // 1. Kill switch (fail closed: getPause throws when unreadable).
  //    A pause of entries only (the drift halt, RISK-8) lets the scan run for exits.
  const pause = await deps.control.getPause();
  const scope = pauseScope(pause, now);
  if (scope === 'all') return { ...base, status: 'paused', pauseReason: pause.reason ?? 'paused' };
  const entriesHalted = scope === 'entries' ? (pause.reason ?? 'entries paused') : undefined;

  // 2. Never trade live on made-up data.
  if (settings.mode === 'live' && source !== 'exchange') {
    throw new TradewardenError(ErrorCode.SyntheticDataRefused, 'live mode refuses a synthetic market data source', false);
  }

  // 3. Tunables over the defaults; a slot already done is not scanned again.
  const resolved = resolveScanSettings(settings, (await deps.tunables.getTunables()).tunables, deps.strategies);
  const storedRisk = await deps.risk.getRiskState();
  if (!input.dryRun && (await slotDone(deps, storedRisk.state.lastSlot, slot))) return { ...base, status: 'duplicate' };

  // 4. The book: open positions are always in the list.
  const book = await deps.accounts.get(settings.quoteCurrency);
  const held = heldSymbols(book);

  // 5. One ticker request; the list (fixed or by rule), then each ticker validated.
  const { pairs, entryList, tickers, rejected: rejectedData } = await scanTickers(deps, input, now, held, storedRisk.state.unreached ?? []);

  // 6. Risk: equity at the bids against the day start and the peak.
  const bids: Record<string, string> = {};
  for (const t of tickers) bids[t.symbol] = t.bid;
  const risked = book ? assessRisk(storedRisk.state, equity(book, bids), now, resolved.protections) : { state: storedRisk.state, entriesPaused: undefined };
  const entriesPaused = entriesHalted ?? risked.entriesPaused;

  // RISK-9: a position worth less than its market's minimum order cannot be sold: it is dust,
  // counts neither as a position nor as exposure, and does not keep the symbol from an entry.
  const marketRules = new ScanRules(deps);
  const dust: string[] = [];
  // The rules are read once for all held symbols (not one awaited look-up per symbol).
  const rules = held.length > 0 ? await marketRules.all() : undefined;
  for (const symbol of held) {
    const position = book?.positions[symbol];
    if (position && isDust(position, rules?.[symbol], bids[symbol] ?? position.avgPrice)) dust.push(symbol);
  }
  const dustSet = new Set(dust);

  // 7. Candles, concurrently, isolated per symbol, within the deadline.
  const enabled = enabledStrategies(resolved, tickers);
  const round = await fetchCandles(deps, input, now, tickers, enabled);
  rejectedData.push(...round.rejected);

  // 8. Decisions per symbol, through the protections. Entries still waiting in the queue count
  //    as in flight (EXE-13), and as exposure until their order has reserved its budget.
  const exposure = mutableExposure(exposureOf(book, bids, dustSet));
  const pending = await livePendingEntries(deps, storedRisk.state.pendingEntries ?? {}, now, slot);
  for (const [symbol, entry] of Object.entries(pending)) {
    if (entry.counted && !exposure.buying.has(symbol)) exposure.add(symbol, entry.quote);
    else exposure.markBuying(symbol);
  }
  const startRisk: RiskState = { ...risked.state, lastSlot: slot, unreached: round.unreached };
  const { signals, blocked, evaluated, risk } = await decideSymbols({
    tickers,
    book,
    dust: dustSet,
    enabled,
    candles: round.candles,
    unreached: new Set(round.unreached),
    entryList,
    pending,
    exposure,
    risk: startRisk,
    entriesPaused,
    orderQuoteAmount: resolved.orderQuoteAmount,
    protections: resolved.protections,
    marketRules,
    evaluators: deps.candles.evaluators,
    now,
  });

  // 9. Deterministic intents for this slot; its entries pending in the risk record.
  const intents = intentsFor(signals, slot, now, settings.intentTtlSeconds);
  const riskAfter = withPendingEntries(risk, pending, intents, resolved.orderQuoteAmount, slot);

  // 10. Risk record (with this scan's entries as pending), then the intents, then the report for health.
  if (!input.dryRun) {
    await commitScan(deps, riskAfter, storedRisk.version, intents, now, {
      at: now.toISOString(),
      slot,
      source,
      failed: false,
      symbols: pairs.length,
      fresh: tickers.length,
      evaluated,
      pairList: settings.pairList ? 'rule' : 'fixed',
      pairs,
      rejectedData,
      failedSymbols: round.failed,
      unreached: round.unreached,
      ...(round.stoppedBy ? { stoppedBy: round.stoppedBy } : {}),
      signals: signals.length,
      intents: intents.length,
      blocked: blocked.length,
      candleFetches: round.fetches,
      dust,
      ...(entriesPaused ? { entriesPaused } : {}),
    });
  }
  return {
    ...base,
    status: 'scanned',
    symbols: pairs.length,
    pairs,
    evaluated,
    signals,
    intents,
    rejectedData,
    failedSymbols: round.failed,
    unreached: round.unreached,
    ...(round.stoppedBy ? { stoppedBy: round.stoppedBy } : {}),
    blocked,
    candleFetches: round.fetches,
    dust,
    ...(entriesPaused ? { entriesPaused } : {}),
  };
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

/** The strategies enabled for each ticker's symbol, per resolved settings and symbol worked out once. */
const enabledCache = new WeakMap<ResolvedScanSettings, Map<string, readonly PreparedStrategy[]>>();

function enabledStrategies(resolved: ResolvedScanSettings, tickers: readonly Ticker[]): Map<string, readonly PreparedStrategy[]> {
  let known = enabledCache.get(resolved);
  if (!known) enabledCache.set(resolved, (known = new Map()));
  const enabled = new Map<string, readonly PreparedStrategy[]>();
  for (const { symbol } of tickers) {
    let strategies = known.get(symbol);
    if (!strategies) known.set(symbol, (strategies = resolved.strategies.filter((s) => s.enabledFor(symbol)).map((s) => s.strategy)));
    enabled.set(symbol, strategies);
  }
  return enabled;
}

/** Step 7: the candle round for the symbols whose strategies need candles (DATA-3, DATA-5, DATA-7, RISK-6). */
async function fetchCandles(deps: ScanDeps, input: ScanInput, now: Date, tickers: readonly Ticker[], enabled: ReadonlyMap<string, readonly PreparedStrategy[]>): Promise<CandleRound> {
  const { settings } = deps;
  const requests: CandleRequest[] = [];
  for (const { symbol } of tickers) {
    let needed = 0;
    for (const s of enabled.get(symbol) ?? []) if (s.candlesNeeded > needed) needed = s.candlesNeeded;
    if (needed > 0) requests.push({ symbol, needed });
  }
  return fetchCandleRound({ exchange: deps.exchange, candles: deps.candles, clock: deps.clock, sleep: deps.sleep ?? timer, ...(deps.random ? { random: deps.random } : {}) }, requests, {
    concurrency: settings.candleConcurrency ?? DEFAULT_CANDLE_CONCURRENCY,
    deadline: now.getTime() + (input.deadlineMs ?? settings.deadlineMs ?? DEFAULT_SCAN_DEADLINE_MS),
    attempts: settings.candleAttempts ?? DEFAULT_CANDLE_ATTEMPTS,
    backoffMs: settings.candleBackoffMs ?? DEFAULT_CANDLE_BACKOFF_MS,
    maxAgeMs: settings.staleDataSeconds * 1000,
  });
}
