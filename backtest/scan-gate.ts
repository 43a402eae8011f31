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
 * Nothing is decided here: a "maybe" only means the scan runs.
 */
import type { AccountBook } from '../shared/domain/account.js';
import { dustTest } from '../shared/domain/entry-limits.js';
import type { Candle, MarketRules, Ticker } from '../shared/domain/market.js';
import { isZero } from '../shared/domain/money.js';
import { isOpen, protectiveLevels } from '../shared/domain/protections.js';
import type { Position } from '../shared/domain/position.js';
import type { StrategyEvaluator } from '../shared/domain/strategies/strategy.js';
import type { ResolvedScanSettings } from '../shared/use-cases/scan-market.js';

/** What the gate reads of the backtest's state at one slot. */
export interface GateState {
  readonly book: AccountBook | null;
  /** Orders the reconciler follows, intents waiting, pending entries: anything in flight. */
  readonly inFlight: boolean;
  readonly paused: boolean;
  /** The ticker the scan would get for a symbol (undefined: none this slot, so nothing to decide). */
  readonly tickerOf: (symbol: string) => Ticker | undefined;
}

/** The scan's per-position rules, prepared once per position record (records are immutable). */
interface PreparedPosition {
  readonly open: boolean;
  readonly dust: (price: string) => boolean;
  readonly exit: ReturnType<typeof protectiveLevels>;
}

export class ScanGate {
  readonly #positions = new WeakMap<Position, PreparedPosition>();
  readonly #evaluators = new Map<string, readonly StrategyEvaluator[]>();
  readonly #skipWhileHeld: boolean;

  constructor(
    readonly resolved: ResolvedScanSettings,
    readonly symbols: readonly string[],
    readonly rules: Readonly<Record<string, MarketRules>>,
  ) {
    for (const symbol of symbols) {
      this.#evaluators.set(symbol, resolved.strategies.filter((s) => s.enabledFor(symbol)).map((s) => s.strategy.evaluator()));
    }
    this.#skipWhileHeld = isZero(resolved.protections.maxDailyLoss) && isZero(resolved.protections.maxDrawdownPercent);
  }

  /** A candle of `symbol` has closed (every candle, in order, startup candles included). */
  push(symbol: string, candle: Candle): void {
    for (const evaluator of this.#evaluators.get(symbol) ?? []) evaluator.push(candle);
  }

  /** Whether the scan of this slot may do anything; false only when it provably does nothing. */
  mayAct(symbolsThisSlot: Iterable<string>, state: GateState): boolean {
    if (state.inFlight || state.paused) return true;
    if (!this.#skipWhileHeld && equityMoves(state.book)) return true;
    for (const symbol of symbolsThisSlot) {
      const evaluators = this.#evaluators.get(symbol);
      if (!evaluators) return true;
      const ticker = state.tickerOf(symbol);
      if (!ticker) continue;
      const position = state.book?.positions[symbol];
      const prepared = position ? this.#prepared(symbol, position) : undefined;
      if (position && prepared?.open && !prepared.dust(ticker.bid)) {
        if (prepared.exit(ticker)) return true;
        for (const evaluator of evaluators) if (evaluator.decide(ticker, position)) return true;
      } else {
        for (const evaluator of evaluators) if (evaluator.decide(ticker, undefined)) return true;
      }
    }
    return false;
  }

  #prepared(symbol: string, position: Position): PreparedPosition {
    let prepared = this.#positions.get(position);
    if (!prepared) {
      prepared = { open: isOpen(position), dust: dustTest(position, this.rules[symbol]), exit: protectiveLevels(position, this.resolved.protections) };
      this.#positions.set(position, prepared);
    }
    return prepared;
  }
}

/** Whether the book's equity depends on prices: it holds a position (dust included) or a fee-asset holding. */
function equityMoves(book: AccountBook | null): boolean {
  if (!book) return false;
  for (const p of Object.values(book.positions)) if (!isZero(p.qty)) return true;
  for (const h of Object.values(book.holdings ?? {})) if (!isZero(h.qty)) return true;
  return false;
}
