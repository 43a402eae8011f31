/**
 * A backtest: the live decision and booking code driven over history with a simulated clock.
 *
 * Primary course, for every step (the candles that opened at one time, once they have closed):
 * 1. The clock moves to the close. The venue fills what these candles trade through (orders
 *    placed at an earlier close: the next candle's open, BT-2) and then shows them to the
 *    market data calls, so nothing sees a candle before it closed.
 * 2. The reconciler's use case refreshes the open orders and books their fills (fees, ledger,
 *    positions), as it does on its schedule live.
 * 3. The scanner's use case runs for this slot: strategies, protections, sizing, precision,
 *    intents. Blocked signals are kept with their reasons. A slot where the scan provably decides
 *    nothing (scan-gate.ts: no strategy signal, no stop crossed, nothing in flight) is not scanned.
 * 4. The executor's use case takes every intent of the slot from the queue: claim, reserve,
 *    send to the venue. Rejections are kept with their reasons.
 * 5. Equity at the closes goes into the report; the fills into round trips.
 * No strategy, protection, sizing or booking rule lives here: only the order of the calls.
 */
import { depositHolding, equity, type AccountBook } from '../shared/domain/account.js';
import { ValidationError } from '../shared/domain/errors.js';
import type { MarketRules } from '../shared/domain/market.js';
import { dec, isZero, str, type DecimalString } from '../shared/domain/money.js';
import { assertThresholds } from '../shared/domain/drift.js';
import type { Intent } from '../shared/domain/intent.js';
import type { OrderRecord } from '../shared/domain/order.js';
import type { StrategyPlugin } from '../shared/domain/strategies/strategy.js';
import type { Tunables } from '../shared/ports/tunables-store.js';
import { executeIntent } from '../shared/use-cases/execute-intent.js';
import { reconcile } from '../shared/use-cases/reconcile.js';
import { resolveScanSettings, scanMarket, type ScanSettings } from '../shared/use-cases/scan-market.js';
import type { CandleGap } from './data/candle-file.js';
import type { DataSetFile } from './data/data-set.js';
import { CLOSE, HIGH, LOW, OPEN, VALUES_PER_CANDLE, type StepColumns } from './data/step-columns.js';
import { readStepColumns } from './data/step-reader.js';
import { CandleVenue, type VenueFill } from './candle-venue.js';
import { ScanGate, type GatePlan, type GateState } from './scan-gate.js';
import type { QuoteSource } from './replay-market.js';
import { SimulatedClock } from './memory-ports.js';
import { EquityTracker } from './report/equity-tracker.js';
import { EquityValuation } from './report/equity-valuation.js';
import type { ReportCharts } from './report/html-report.js';
import { BoundedList, buildReport, type BacktestReport, type RejectedSignal } from './report/report.js';
import { SymbolChart } from './report/symbol-chart.js';
import { TradeBook } from './report/trades.js';
import { timeframeMs } from './timeframe.js';
import { LEASE_MS, wireUseCases } from './wiring.js';

export interface BacktestSettings {
  readonly files: readonly DataSetFile[];
  /**
   * First candle of the window (epoch ms). The `lookback` candles before it, where the data has
   * them, are read as startup candles: they give the strategies their history and nothing is
   * decided, filled or reported on them, so the first decision sees what the live scanner would.
   */
  readonly from?: number;
  readonly to?: number;
  /** The candles' timeframe as ccxt names it (1m, 5m, 1h, ...): one scan per candle close. @default '1m' */
  readonly timeframe?: string;
  /** The scanner's defaults (as the deployment configuration gives them), watchlist = the files' symbols. */
  readonly scan: ScanSettings;
  readonly tunables: Tunables;
  readonly strategies: Readonly<Record<string, StrategyPlugin>>;
  readonly rules: Readonly<Record<string, MarketRules>>;
  readonly initialQuote: DecimalString;
  readonly feePercent: DecimalString;
  /** What fees are charged in, as on the paper exchange: 'quote', 'base' or an asset code such as 'BNB'. */
  readonly feeAsset: string;
  /** Opening holding of a third fee asset (BNB), entered into the book at its price then. @default none */
  readonly initialFeeAsset?: DecimalString;
  /** The third fee asset's quote price when the data set has no candles of it (the candle venue). */
  readonly feeAssetPrice?: DecimalString;
  readonly slippagePercent: DecimalString;
  readonly volumeSharePercent: DecimalString;
  readonly reservationBufferPercent: DecimalString;
  readonly reservationMaxAgeMs: number;
  readonly drift: { readonly alarmQuote: DecimalString; readonly pauseQuote: DecimalString };
  /**
   * The quotes of every moment (bid, ask, last), e.g. the SyntheticMarket the data set was
   * recorded from. When given, the venue is the paper exchange of `npm start` (its matching and
   * settlement over in-memory books, paper-venue.ts) priced at these quotes, and the candles
   * still come from the files: the parity run (BT-1). Without it, the candle venue fills from
   * the candles alone (BT-2).
   */
  readonly quotes?: QuoteSource;
  /** Sees the intents of every slot as the scanner made them (parity checks). */
  readonly onIntents?: (intents: readonly Intent[]) => void;
  /** Wall clock for the report's `seconds` (the only field that differs between equal runs). */
  readonly wallClock?: () => number;
  /**
   * Skip the scans that provably do nothing (scan-gate.ts) on the candle venue. `false` scans
   * every slot: the reference the gate is tested against. @default true
   */
  readonly gate?: boolean;
  /** Sees what the gate made of every slot after the first: scanned, idle (no scan) or a repeat of the last scan's blocks. */
  readonly onGate?: (kind: GatePlan['kind']) => void;
  /**
   * Where the run's wall time goes, by phase (the bench's breakdown): each phase's milliseconds
   * and how often it ended. Nothing is timed without it.
   */
  readonly phases?: PhaseTimes;
}

/** The phases of a run, in the order of a step (engine steps 1 to 5), then the final report. */
export type Phase = 'read' | 'market' | 'booking' | 'gate' | 'scan' | 'execute' | 'equity' | 'report';
/** Milliseconds and ends of every phase of a run. */
export type PhaseTimes = Record<Phase, { ms: number; count: number }>;

/** Empty phase times, to hand to a run as `phases`. */
export function phaseTimes(): PhaseTimes {
  const times = {} as PhaseTimes;
  for (const phase of ['read', 'market', 'booking', 'gate', 'scan', 'execute', 'equity', 'report'] as const) times[phase] = { ms: 0, count: 0 };
  return times;
}

/** Ends a phase: the time since the last phase ended is this one's. */
function phaseTimer(times: PhaseTimes): (phase: Phase) => void {
  let last = performance.now();
  return (phase) => {
    const now = performance.now();
    times[phase].ms += now - last;
    times[phase].count += 1;
    last = now;
  };
}

export interface BacktestOutcome {
  readonly report: BacktestReport;
  readonly charts: ReportCharts;
  /** Tradewarden's account book at the end, and the venue's balances: they must agree. */
  readonly final: {
    readonly book: AccountBook | null;
    readonly venueBalances: Readonly<Record<string, DecimalString>>;
    readonly auditRecords: number;
    /** Every order the executor recorded, in its final state. */
    readonly orders: readonly OrderRecord[];
  };
}


export async function runBacktest(settings: BacktestSettings): Promise<BacktestOutcome> {
  const started = (settings.wallClock ?? performance.now.bind(performance))();
  const phase = settings.phases ? phaseTimer(settings.phases) : undefined;
  const quote = settings.scan.quoteCurrency;
  const symbols = settings.files.map((f) => f.symbol);
  for (const symbol of symbols) if (!settings.rules[symbol]) throw new ValidationError(`no market rules for ${symbol}`);
  assertThresholds(settings.drift);

  const resolved = resolveScanSettings(settings.scan, settings.tunables, settings.strategies);
  const lookback = Math.max(1, ...resolved.strategies.map((s) => s.strategy.candlesNeeded)) + 1;
  const timeframe = settings.timeframe ?? '1m';
  const CANDLE_MS = timeframeMs(timeframe);
  const clock = new SimulatedClock(settings.from ?? 0);
  const feeRate = str(dec(settings.feePercent).div(100));
  const thirdFeeAsset = settings.feeAsset !== 'quote' && settings.feeAsset !== 'base' && settings.initialFeeAsset !== undefined && !isZero(settings.initialFeeAsset) ? settings.feeAsset : undefined;
  const { venue, orders, accounts, control, audit, tunables, queue, scanDeps, executeDeps, reconcileDeps } = await wireUseCases(settings, { symbols, clock, timeframeMs: CANDLE_MS, lookback, feeRate, thirdFeeAsset });

  // Per symbol, by its index in `symbols` (the reader's): the last close as text and as a number,
  // and the order in which symbols first closed (the report's order of the last closes).
  const indexOf = new Map(symbols.map((s, i) => [s, i]));
  const lastCloseText: (DecimalString | undefined)[] = symbols.map(() => undefined);
  const lastCloseValue = new Float64Array(symbols.length);
  const closedOrder: number[] = [];
  const lastCloseOf = (symbol: string): DecimalString | undefined => {
    const i = indexOf.get(symbol);
    return i === undefined ? undefined : lastCloseText[i];
  };
  /** The last close of every symbol that has closed, in the order they first closed. */
  const lastCloses = (): Map<string, DecimalString> => new Map(closedOrder.map((i) => [symbols[i]!, lastCloseText[i]!]));
  const equityTracker = new EquityTracker();
  const trades = new TradeBook((symbol, qty) => isZero(qty) || dec(qty).times(lastCloseOf(symbol) ?? '0').lt(settings.rules[symbol]?.minNotional ?? '0'));
  const rejected = new BoundedList<RejectedSignal>();
  const gaps = new BoundedList<CandleGap>();
  const charts = new Map(symbols.map((s) => [s, new SymbolChart(CANDLE_MS)]));
  const firstOpen = new Map<string, DecimalString>();
  // The paper exchange fills on arrival and prices from its own quotes: its slots are all scanned.
  const gate = settings.gate !== false && venue instanceof CandleVenue && !settings.scan.pairList ? new ScanGate(resolved, symbols, settings.rules, CANDLE_MS, settings.scan.staleDataSeconds * 1000) : undefined;
  const tickerOf = (symbol: string) => (venue instanceof CandleVenue ? venue.tickerOf(symbol) : undefined);
  /** What the gate reads of the state at the close `now`: one object, refreshed for every read (the gate keeps none of it). */
  const state: { -readonly [K in keyof GateState]: GateState[K] } = { book: null, inFlight: false, paused: false, tickerOf, risk: tunables.riskState, now: 0 };
  const gateState = (now: number): GateState => {
    state.book = accounts.peek(quote);
    state.risk = tunables.riskState;
    state.inFlight = orders.followedCount > 0 || hasMembers(state.risk.pendingEntries);
    state.paused = control.pause.paused;
    state.now = now;
    return state;
  };
  let scanned = false;
  let valuation: EquityValuation | undefined;
  const chartOf = symbols.map((s) => charts.get(s)!);
  const feeAssetKey = thirdFeeAsset ? `${thirdFeeAsset}/${quote}` : undefined;
  const priceNum = (key: string) => {
    const i = indexOf.get(key);
    return i !== undefined && lastCloseText[i] !== undefined ? lastCloseValue[i] : key === feeAssetKey ? Number(venue.priceOf(thirdFeeAsset!)) : undefined;
  };
  /** The candles of `batch` from `start` up to `end` have closed: into the gate, the last closes and the charts. */
  const closed = (batch: StepColumns, start: number, end: number): void => {
    const { candles: list, symbols: index, values } = batch;
    for (let k = start; k < end; k += 1) {
      const i = index[k]!;
      const candle = list[k]!;
      const symbol = symbols[i]!;
      gate?.push(symbol, candle);
      if (lastCloseText[i] === undefined) {
        firstOpen.set(symbol, candle.open);
        closedOrder.push(i);
      }
      lastCloseText[i] = candle.close;
      const v = k * VALUES_PER_CANDLE;
      lastCloseValue[i] = values[v + CLOSE]!;
      chartOf[i]!.addValues(candle.openTime, values[v + OPEN]!, values[v + HIGH]!, values[v + LOW]!, values[v + CLOSE]!);
    }
  };
  /** The symbols of a step: all of them (most steps), else the ones with a candle (a gap). */
  const symbolsOf = (batch: StepColumns, start: number, end: number): readonly string[] => {
    if (end - start === symbols.length) return symbols;
    const out: string[] = [];
    for (let k = start; k < end; k += 1) out.push(symbols[batch.symbols[k]!]!);
    return out;
  };
  let candles = 0;
  let opened = false;
  let openingEquity: DecimalString = settings.initialQuote;

  const readFrom = settings.from === undefined ? undefined : settings.from - lookback * CANDLE_MS;
  const batches = readStepColumns(settings.files, { timeframeMs: CANDLE_MS, ...(readFrom === undefined ? {} : { from: readFrom }), ...(settings.to === undefined ? {} : { to: settings.to }) }, (gap) => gaps.push(gap));
  for await (const batch of batches) for (let s = 0, start = 0; s < batch.steps; start = batch.ends[s]!, s += 1) {
    phase?.('read');
    const end = batch.ends[s]!;
    const closeTime = batch.times[s]! + CANDLE_MS;
    clock.set(closeTime);
    if (settings.from !== undefined && batch.times[s]! < settings.from) {
      // A startup candle: market data only (no order can exist yet, so nothing fills).
      venue.closeColumns(closeTime, batch, start, end, symbols);
      if (gate) for (let k = start; k < end; k += 1) gate.push(symbols[batch.symbols[k]!]!, batch.candles[k]!);
      continue;
    }
    if (!opened) {
      await accounts.open(quote, settings.initialQuote, clock.now());
      // The fee-asset holding enters the book once, at its price then (as npm start's paper opening does).
      if (thirdFeeAsset) {
        const price = venue.priceOf(thirdFeeAsset);
        await accounts.update(quote, (book) => depositHolding(book, thirdFeeAsset, settings.initialFeeAsset!, price, clock.now()));
        openingEquity = str(dec(settings.initialQuote).plus(dec(settings.initialFeeAsset!).times(price)));
      }
      opened = true;
    }
    // 1. Fills of this step's candles, then the candles become market data.
    const fills = venue.closeColumns(closeTime, batch, start, end, symbols);
    closed(batch, start, end);
    candles += end - start;
    phase?.('market');
    // 2. The reconciler books them.
    if (orders.followedCount > 0) await reconcile(reconcileDeps, { deadline: new Date(closeTime + LEASE_MS / 2) });
    if (fills.length > 0) await recordFills(fills);
    // Fills the balances could not pay (a gap against the order): cut or refused, with the reason.
    if (venue instanceof CandleVenue) {
      for (const refusal of venue.takeRefusals()) {
        const order = await orders.get(refusal.orderId);
        rejected.push({ time: new Date(refusal.time).toISOString(), symbol: refusal.symbol, strategy: order?.strategy ?? 'unknown', side: refusal.side, reason: refusal.reason });
      }
    }
    phase?.('booking');
    // 3. The scan of this slot, unless it provably does nothing or provably blocks again what the
    //    last scan blocked (then those blocks are reported again). The first slot is always scanned.
    const plan = gate && scanned ? gate.plan(symbolsOf(batch, start, end), gateState(closeTime)) : undefined;
    if (plan) settings.onGate?.(plan.kind);
    phase?.('gate');
    if (plan?.kind === 'repeat') {
      for (const b of plan.blocked) rejected.push({ time: clock.now().toISOString(), symbol: b.symbol, strategy: b.strategy, side: b.side, reason: b.reason });
    } else if (plan?.kind !== 'idle') {
      scanned = true;
      gate?.beforeScan(gateState(closeTime));
      const scan = await scanMarket(scanDeps, { slot: clock.now(), dryRun: false });
      settings.onIntents?.(scan.intents);
      for (const b of scan.blocked) rejected.push({ time: clock.now().toISOString(), symbol: b.symbol, strategy: b.strategy, side: b.side, reason: b.reason });
      phase?.('scan');
      // 4. The executor takes the slot's intents.
      const sent = queue.size;
      for (const intent of queue.drain()) {
        const result = await executeIntent(executeDeps, intent);
        if (result.outcome === 'rejected' || result.outcome === 'expired') {
          rejected.push({ time: clock.now().toISOString(), symbol: intent.symbol, strategy: intent.strategy, side: intent.side, reason: `${result.outcome}: ${result.reason ?? result.state}` });
        }
        phase?.('execute');
      }
      // A venue that fills on arrival (the paper exchange) filled them now.
      const arrived = venue.takeFills();
      if (arrived.length > 0) await recordFills(arrived);
      gate?.scanned(gateState(closeTime), sent, scan.blocked);
      phase?.('booking');
    }
    // 5. Equity at the closes.
    const book = accounts.peek(quote);
    if (book) {
      if (valuation?.book !== book) valuation = new EquityValuation(book);
      equityTracker.update(closeTime, valuation.value(priceNum), valuation.exposed);
    }
    phase?.('equity');
  }

  /** The last closes, and the fee asset's price for its holding. */
  function pricesNow(): Record<string, DecimalString> {
    const prices: Record<string, DecimalString> = Object.fromEntries(lastCloses());
    if (thirdFeeAsset) prices[`${thirdFeeAsset}/${quote}`] ??= venue.priceOf(thirdFeeAsset);
    return prices;
  }

  async function recordFills(fills: readonly VenueFill[]): Promise<void> {
    if (fills.length === 0) return;
    const book = await accounts.get(quote);
    for (const fill of fills) {
      const order = await orders.get(fill.orderId);
      trades.book({
        time: fill.time,
        symbol: fill.symbol,
        strategy: order?.strategy ?? 'unknown',
        side: fill.side,
        amount: fill.amount,
        cost: fill.cost,
        feeQuote: fill.feeQuote,
        positionAfter: book?.positions[fill.symbol]?.qty ?? '0',
      });
      charts.get(fill.symbol)!.mark(fill.time - CANDLE_MS, fill.side);
    }
  }

  const lastClose = lastCloses();
  const book = await accounts.get(quote);
  const finalEquity = book ? equity(book, pricesNow()) : openingEquity;
  const positions = new Map(Object.values(book?.positions ?? {}).map((p) => [p.symbol, p.qty] as const));
  const curves = equityTracker.curves();
  const symbolCharts: ReportCharts['symbols'] = Object.fromEntries(symbols.map((symbol) => [symbol, charts.get(symbol)!.chart()]));
  const report = buildReport({
    settings: {
      symbols,
      from: settings.from === undefined ? null : new Date(settings.from).toISOString(),
      to: settings.to === undefined ? null : new Date(settings.to).toISOString(),
      timeframe,
      initial: settings.initialQuote,
      feePercent: settings.feePercent,
      feeAsset: settings.feeAsset,
      slippagePercent: settings.slippagePercent,
      volumeSharePercent: settings.volumeSharePercent,
      strategies: resolved.strategies.filter((s) => symbols.some((sym) => s.enabledFor(sym))).map((s) => ({ name: s.strategy.name, params: s.strategy.params })),
      protections: resolved.protections,
      orderQuoteAmount: resolved.orderQuoteAmount,
    },
    trades: trades.trades(lastClose, positions),
    initialEquity: openingEquity,
    finalEquity,
    equity: equityTracker,
    firstOpen,
    lastClose,
    rejected: rejected.items,
    rejectedCount: rejected.count,
    gaps: gaps.items,
    gapCount: gaps.count,
    candles,
    seconds: Number((((settings.wallClock ?? performance.now.bind(performance))() - started) / 1000).toFixed(3)),
  });
  const venueBalances = Object.fromEntries(Object.entries(await venue.fetchBalances()).map(([asset, b]) => [asset, b.total]));
  const auditRecords = (await audit.verify()).records;
  phase?.('report');
  return { report, charts: { equity: curves.equity, drawdownPercent: curves.drawdownPercent, symbols: symbolCharts }, final: { book, venueBalances, auditRecords, orders: [...orders.all()] } };
}

/** Whether a record has any own member (without listing them). */
function hasMembers(record: Readonly<Record<string, unknown>> | undefined): boolean {
  for (const key in record) if (Object.hasOwn(record, key)) return true;
  return false;
}
