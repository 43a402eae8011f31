/**
 * Which slots of a backtest need the scanner's use case. A scan can only change what a backtest
 * reports when it makes a signal (an intent or a blocked signal), and it can only make one when
 *
 * - a strategy's own decision (the same prepared strategies the scan runs, kept here as one
 *   evaluator per symbol and strategy over the same candles) says buy or sell for a symbol, or
 * - a held position's stop-loss or take-profit is crossed (`protectiveExit`, the scan's rule,
 *   prepared once per position as `protectiveLevels`), or
 * - something is in flight or waits: an order the reconciler follows, an intent in the queue, a
 *   pending entry of the risk record, a pause record.
 *
 * A slot where none of this holds runs no scan at all: its scan would have decided nothing and
 * sent nothing. The scan would still have written the risk record (its peak equity and the day's
 * opening equity) and its report for health; neither is read by anything in a backtest except
 * the daily loss and drawdown limits. So while those limits are on and anything priced is held
 * (a position, dust, a fee-asset holding: equity moves with the price), every slot is scanned.
 * While nothing priced is held equity does not move, so the risk record a later scan writes is
 * the one the skipped scans would have led to. The gated and the ungated engine give byte-identical reports (test/unit/backtest/scan-gate.test.ts).
 *
 * A slot whose scan would provably repeat (part of) the last scan's outcome is not scanned either,
 * and the last scan's blocks of the entries predicted now are reported for it again (`plan`
 * returns them). The last scan must have sent nothing and blocked only entries, exactly the gate's
 * own prediction for that slot (the scan's `firstDecision` over the same evaluators); and since
 * then nothing it read may have changed: the same book (positions, funds, reservations: the
 * record is immutable, so the same object), the same risk record, no cooldown ended, nothing in
 * flight, no pause, the same dust among the held positions, and no entry predicted now that it
 * did not block. An entry's block then has the same reason: it reads the book, the cooldowns, the
 * pause, the limits and the market rules, no other blocked entry, and prices only through the
 * total exposure limit, so while that limit is on (or the daily loss or drawdown limit is)
 * nothing repeats.
 *
 * Nothing is decided here: a "maybe" only means the scan runs.
 */
import type { AccountBook } from '../shared/domain/account.js';
import { dustTest } from '../shared/domain/entry-limits.js';
import type { Candle, MarketRules, Ticker } from '../shared/domain/market.js';
import { isZero } from '../shared/domain/money.js';
import { checkTicker } from '../shared/domain/market-validation.js';
import { cooldownEnd, isOpen, protectiveLevels, type RiskState } from '../shared/domain/protections.js';
import type { Position } from '../shared/domain/position.js';
import type { StrategyEvaluator } from '../shared/domain/strategies/strategy.js';
import { firstDecision, type Blocked, type ResolvedScanSettings } from '../shared/use-cases/scan-market.js';

/** What the gate reads of the backtest's state at one slot. */
export interface GateState {
  readonly book: AccountBook | null;
  /** Orders the reconciler follows, intents waiting, pending entries: anything in flight. */
  readonly inFlight: boolean;
  readonly paused: boolean;
  /** The ticker the scan would get for a symbol (undefined: none this slot, so nothing to decide). */
  readonly tickerOf: (symbol: string) => Ticker | undefined;
  /** The risk record as the scan would read it. */
  readonly risk: RiskState;
  /** The slot's time (the close), epoch ms. */
  readonly now: number;
}

/** What a slot needs: nothing, a scan, or the last scan's blocked signals again. */
export type GatePlan = { readonly kind: 'idle' } | { readonly kind: 'scan' } | { readonly kind: 'repeat'; readonly blocked: readonly Blocked[] };

/** The scan's per-position rules, prepared once per position record (records are immutable). */
interface PreparedPosition {
  readonly open: boolean;
  readonly dust: (price: string) => boolean;
  readonly exit: ReturnType<typeof protectiveLevels>;
}

/**
 * What the gate keeps of one symbol, in one record so that a candle or a slot costs one lookup:
 * its strategies' evaluators, the unbroken run of candles ending with its last one, and the
 * prepared rules of the position record it saw last (records are immutable: the same object is
 * the same position).
 */
interface SymbolGate {
  readonly evaluators: readonly { readonly name: string; readonly evaluator: StrategyEvaluator }[];
  /** Candles its scan needs in one unbroken run (its strategies' longest lookback). */
  readonly needed: number;
  /** Length of the unbroken run of candles ending with its last one (0 before the first). */
  run: number;
  /** Open time of its last candle. */
  last: number;
  position: Position | undefined;
  prepared: PreparedPosition | undefined;
}

/** The entries the gate predicts for a slot (symbol and strategy, in scan order), and the dust among the held positions. */
interface Prediction {
  readonly book: AccountBook | null;
  readonly entries: readonly string[];
  readonly dust: string;
}

/** A scan that blocked entries and did nothing else, with what it read. */
interface BlockedScan {
  readonly book: AccountBook | null;
  readonly risk: RiskState;
  readonly dust: string;
  /** Its blocked entries by symbol and strategy. */
  readonly blocked: ReadonlyMap<string, Blocked>;
  /** When the first of its cooldowns ends (epoch ms): a block may change then. */
  readonly until: number;
}

const SCAN: GatePlan = { kind: 'scan' };
const IDLE: GatePlan = { kind: 'idle' };

export class ScanGate {
  readonly #positions = new WeakMap<Position, PreparedPosition>();
  readonly #symbols = new Map<string, SymbolGate>();
  /** What `#ask` decides on (set by `#first`): one function for the gate, not a closure per call. */
  #askTicker: Ticker | undefined;
  #askPosition: Position | undefined;
  readonly #ask = (e: SymbolGate['evaluators'][number]) => e.evaluator.decide(this.#askTicker!, this.#askPosition);
  readonly #skipWhileHeld: boolean;
  readonly #mayRepeat: boolean;
  #lastScan: BlockedScan | undefined;
  #prediction: Prediction | undefined;
  /** The prediction `plan` made for a slot, with what it read: `beforeScan` of the same slot and state takes it. */
  #planned: { readonly now: number; readonly book: AccountBook | null; readonly risk: RiskState; readonly prediction: Prediction | undefined } | undefined;

  constructor(
    readonly resolved: ResolvedScanSettings,
    readonly symbols: readonly string[],
    readonly rules: Readonly<Record<string, MarketRules>>,
    /** The candles' period, ms. */
    readonly timeframeMs: number,
    /** The scan's ticker freshness limit, ms. */
    readonly maxTickerAgeMs: number,
  ) {
    for (const symbol of symbols) {
      const enabled = resolved.strategies.filter((s) => s.enabledFor(symbol));
      this.#symbols.set(symbol, {
        evaluators: enabled.map((s) => ({ name: s.strategy.name, evaluator: s.strategy.evaluator() })),
        needed: Math.max(0, ...enabled.map((s) => s.strategy.candlesNeeded)),
        run: 0,
        last: 0,
        position: undefined,
        prepared: undefined,
      });
    }
    this.#skipWhileHeld = isZero(resolved.protections.maxDailyLoss) && isZero(resolved.protections.maxDrawdownPercent);
    this.#mayRepeat = this.#skipWhileHeld && isZero(resolved.protections.maxTotalExposure);
  }

  /** A candle of `symbol` has closed (every candle, in order, startup candles included). */
  push(symbol: string, candle: Candle): void {
    const gate = this.#symbols.get(symbol);
    // A symbol outside the list has no strategies: a slot with one of its candles is scanned (plan).
    if (!gate) return;
    const { evaluators } = gate;
    for (let i = 0; i < evaluators.length; i += 1) evaluators[i]!.evaluator.push(candle);
    gate.run = gate.run > 0 && candle.openTime - gate.last === this.timeframeMs ? gate.run + 1 : 1;
    gate.last = candle.openTime;
  }

  /**
   * What this slot needs: `idle` when its scan provably does nothing, `repeat` when it provably
   * blocks what the last scan blocked and does nothing else, else `scan`.
   */
  plan(symbolsThisSlot: Iterable<string>, state: GateState): GatePlan {
    this.#prediction = undefined;
    this.#planned = undefined;
    if (state.inFlight || state.paused) return SCAN;
    if (!this.#skipWhileHeld && equityMoves(state.book)) return SCAN;
    const last = this.#lastScan;
    const repeatable = this.#mayRepeat && last !== undefined && last.book === state.book && last.risk === state.risk && state.now < last.until;
    let signal = false;
    const positions = state.book?.positions;
    for (const symbol of symbolsThisSlot) {
      const gate = this.#symbols.get(symbol);
      if (!gate) return SCAN;
      const { evaluators } = gate;
      const ticker = state.tickerOf(symbol);
      if (!ticker) continue;
      const position = positions?.[symbol];
      const prepared = position ? this.#prepared(symbol, gate, position) : undefined;
      if (position && prepared?.open && !prepared.dust(ticker.bid)) {
        // A held position's exit is never repeated: any exit signal means a scan.
        if (prepared.exit(ticker)) return SCAN;
        // The scan asks a held position's strategies for a sell only.
        for (let i = 0; i < evaluators.length; i += 1) if (evaluators[i]!.evaluator.decide(ticker, position)?.side === 'sell') return SCAN;
      } else {
        for (let i = 0; i < evaluators.length; i += 1) {
          if (evaluators[i]!.evaluator.decide(ticker, undefined)) {
            if (!repeatable) return SCAN;
            signal = true;
            break;
          }
        }
      }
    }
    if (!signal) return IDLE;
    const prediction = this.#predict(state);
    this.#planned = { now: state.now, book: state.book, risk: state.risk, prediction };
    if (!prediction || !last || prediction.dust !== last.dust) return SCAN;
    // Each entry's block reads no other entry's while all are blocked: any of the last scan's
    // blocked entries, alone or with others of them, is blocked again for the same reason.
    const { entries } = prediction;
    const blocked: Blocked[] = [];
    for (let i = 0; i < entries.length; i += 1) {
      const block = last.blocked.get(entries[i]!);
      if (!block) return SCAN;
      blocked.push(block);
    }
    return { kind: 'repeat', blocked };
  }

  /**
   * Before a scan of this slot (after `plan` said scan): keeps what the gate predicts, so that
   * `scanned` can tell whether the scan did exactly that.
   */
  beforeScan(state: GateState): void {
    const planned = this.#planned;
    this.#planned = undefined;
    if (!this.#mayRepeat || state.inFlight || state.paused) this.#prediction = undefined;
    // Nothing the prediction reads changes between `plan` and the scan of its slot (the same
    // book and risk record, no new candle, nothing in flight): the prediction `plan` made is this one.
    else if (planned && planned.now === state.now && planned.book === state.book && planned.risk === state.risk) this.#prediction = planned.prediction;
    else this.#prediction = this.#predict(state);
  }

  /**
   * The scan of this slot and its executor run are over: `intents` sent, `blocked` signals. A scan
   * that sent nothing and blocked exactly the predicted entries may be repeated by later slots.
   */
  scanned(state: GateState, intents: number, blocked: readonly Blocked[]): void {
    const prediction = this.#prediction;
    this.#prediction = undefined;
    this.#lastScan = undefined;
    if (!prediction || prediction.book !== state.book || intents > 0 || blocked.length === 0) return;
    const keys = blocked.map((b) => (b.side === 'buy' ? entryKey(b.symbol, b.strategy) : ''));
    if (keys.length !== prediction.entries.length || keys.some((key, i) => key !== prediction.entries[i])) return;
    let until = Infinity;
    for (const at of Object.values(state.risk.cooldowns)) {
      const end = cooldownEnd(at, this.resolved.protections);
      if (end > state.now && end < until) until = end;
    }
    this.#lastScan = { book: state.book, risk: state.risk, dust: prediction.dust, blocked: new Map(blocked.map((b, i) => [keys[i]!, b])), until };
  }

  /**
   * The entries the scan of this slot makes (before its protections), when they are certain: every
   * held position has a valid ticker, none exits; undefined otherwise. An entry needs a valid
   * ticker and an unbroken run of the candles its strategies need, as the scan's candle checks do.
   */
  #predict(state: GateState): Prediction | undefined {
    const now = new Date(state.now);
    const positions = state.book?.positions;
    // The held positions in the book's order, each as `symbol+` (held) or `symbol-` (dust), comma-separated.
    let dust = '';
    if (positions) {
      for (const symbol in positions) {
        const position = positions[symbol]!;
        const gate = this.#symbols.get(symbol);
        const prepared = this.#prepared(symbol, gate, position);
        if (!prepared.open) continue;
        const ticker = this.#valid(state, symbol, now);
        if (!ticker || !gate) return undefined;
        const isDust = prepared.dust(ticker.bid);
        dust = `${dust}${dust === '' ? '' : ','}${symbol}${isDust ? '-' : '+'}`;
        if (!isDust && (prepared.exit(ticker) || this.#first(gate, ticker, position, 'sell'))) return undefined;
      }
    }
    const entries: string[] = [];
    const symbols = this.symbols;
    for (let i = 0; i < symbols.length; i += 1) {
      const symbol = symbols[i]!;
      const gate = this.#symbols.get(symbol)!;
      const position = positions?.[symbol];
      const ticker = state.tickerOf(symbol);
      const prepared = position ? this.#prepared(symbol, gate, position) : undefined;
      if (prepared?.open && !prepared.dust(ticker?.bid ?? '0')) continue;
      if (!ticker || gate.run === 0 || gate.run < gate.needed || gate.last + this.timeframeMs !== state.now) continue;
      const entry = this.#first(gate, ticker, undefined, 'buy');
      if (entry && this.#valid(state, symbol, now)) entries.push(entryKey(symbol, entry.strategy));
    }
    return { book: state.book, entries, dust };
  }

  /** The ticker of `symbol` when the scan's ticker check accepts it at `now`. */
  #valid(state: GateState, symbol: string, now: Date): Ticker | undefined {
    const ticker = state.tickerOf(symbol);
    return ticker && checkTicker(ticker, now, this.maxTickerAgeMs).ok ? ticker : undefined;
  }

  /** The scan's `firstDecision` over the symbol's evaluators (the arguments in fields: no closure per call). */
  #first(gate: SymbolGate, ticker: Ticker, position: Position | undefined, side: 'buy' | 'sell'): ReturnType<typeof firstDecision> {
    this.#askTicker = ticker;
    this.#askPosition = position;
    return firstDecision(gate.evaluators, this.#ask, side);
  }

  /** The prepared rules of a position record: the symbol's last one again, else made once per record. */
  #prepared(symbol: string, gate: SymbolGate | undefined, position: Position): PreparedPosition {
    if (gate?.position === position) return gate.prepared!;
    let prepared = this.#positions.get(position);
    if (!prepared) {
      prepared = { open: isOpen(position), dust: dustTest(position, this.rules[symbol]), exit: protectiveLevels(position, this.resolved.protections) };
      this.#positions.set(position, prepared);
    }
    if (gate) {
      gate.position = position;
      gate.prepared = prepared;
    }
    return prepared;
  }
}

function entryKey(symbol: string, strategy: string): string {
  return `${symbol}\u0000${strategy}`;
}

/** Whether the book's equity depends on prices: it holds a position (dust included) or a fee-asset holding. */
function equityMoves(book: AccountBook | null): boolean {
  if (!book) return false;
  for (const p of Object.values(book.positions)) if (!isZero(p.qty)) return true;
  for (const h of Object.values(book.holdings ?? {})) if (!isZero(h.qty)) return true;
  return false;
}
