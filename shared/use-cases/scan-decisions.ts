/**
 * Step 8 of a scan: the decision of each symbol, through the protections (RISK-4, EXE-13, RISK-9).
 *
 * A held position gets its stop-loss / take-profit (the ticker is enough), else the first strategy
 * exit; a flat symbol of the entry list gets the first strategy entry. Protections drop what breaks
 * a limit, and a symbol whose entry still waits in the queue gets no second one. Entries accepted
 * earlier in the scan count as exposure for the later symbols.
 */
import type { AccountBook } from '../domain/account.js';
import type { Candle, MarketRules, Ticker } from '../domain/market.js';
import type { Position } from '../domain/position.js';
import type { DecimalString } from '../domain/money.js';
import { entryBlock, exitBlock, isOpen, protectiveExit, recordExit, type PendingEntry, type ProtectionSettings, type RiskState } from '../domain/protections.js';
import type { PreparedStrategy, Signal } from '../domain/strategies/strategy.js';
import type { KeptEvaluators } from './scan-evaluators.js';
import type { mutableExposure } from './scan-exposure.js';
import type { Blocked } from './scan-market.js';

export interface DecisionInput {
  readonly tickers: readonly Ticker[];
  readonly book: AccountBook | null;
  /** Held positions below their market's minimum order (RISK-9): not positions. */
  readonly dust: ReadonlySet<string>;
  /** The strategies enabled for each symbol. */
  readonly enabled: ReadonlyMap<string, readonly PreparedStrategy[]>;
  /** Each symbol's validated candles (the last ones its strategies need, or more). */
  readonly candles: ReadonlyMap<string, readonly Candle[]>;
  /** Symbols the candle round did not reach: decided on their tickers, not counted as evaluated. */
  readonly unreached: ReadonlySet<string>;
  /** Symbols that may get an entry. */
  readonly entryList: ReadonlySet<string>;
  /** Entries still in flight, by symbol. */
  readonly pending: Readonly<Record<string, PendingEntry>>;
  readonly exposure: ReturnType<typeof mutableExposure>;
  readonly risk: RiskState;
  readonly entriesPaused: string | undefined;
  readonly orderQuoteAmount: DecimalString;
  readonly protections: ProtectionSettings;
  readonly marketRules: ScanRules;
  readonly evaluators: KeptEvaluators;
  readonly now: Date;
}

export interface Decisions {
  readonly signals: Signal[];
  readonly blocked: Blocked[];
  /** Symbols that reached the decisions (fresh ticker, and candles when a strategy needs them). */
  readonly evaluated: number;
  /** The risk record with the cooldowns of this scan's exits. */
  readonly risk: RiskState;
}

/**
 * The market rules of one scan: read from `deps.markets` at most once, and only when something
 * needs them (a held position's dust, a signal's limits).
 */
export class ScanRules {
  #rules: Readonly<Record<string, MarketRules>> | undefined;

  constructor(private readonly deps: { readonly markets: () => Promise<Readonly<Record<string, MarketRules>>> }) {}

  async all(): Promise<Readonly<Record<string, MarketRules>>> {
    this.#rules ??= await this.deps.markets();
    return this.#rules;
  }

  async of(symbol: string): Promise<MarketRules | undefined> {
    return (await this.all())[symbol];
  }
}

const NO_CANDLES: readonly Candle[] = [];
const NO_STRATEGIES: readonly PreparedStrategy[] = [];

/** The strategies that have the candles they need (`enabled` itself when all have: the usual case). */
function runnableOf(enabled: readonly PreparedStrategy[], candles: number): readonly PreparedStrategy[] {
  for (const s of enabled) if (s.candlesNeeded !== 0 && candles < s.candlesNeeded) return enabled.filter((e) => e.candlesNeeded === 0 || candles >= e.candlesNeeded);
  return enabled;
}

export async function decideSymbols(input: DecisionInput): Promise<Decisions> {
  const { book, dust, exposure, pending, now } = input;
  const signals: Signal[] = [];
  const blocked: Blocked[] = [];
  let evaluated = 0;
  let risk = input.risk;
  // What `evaluate` decides on: the symbol at hand (one function for the scan, not one per symbol;
  // it is called only before the symbol's first await).
  let onSymbol = '';
  let onCandles = NO_CANDLES;
  let onTicker: Ticker | undefined;
  let onPosition: Position | undefined;
  const evaluate = (s: PreparedStrategy) => input.evaluators.decide(onSymbol, s, onCandles, onTicker!, onPosition);
  for (const ticker of input.tickers) {
    const { symbol } = ticker;
    const position = book?.positions[symbol];
    const heldPosition = isOpen(position) && !dust.has(symbol) ? position : undefined;
    const enabled = input.enabled.get(symbol) ?? NO_STRATEGIES;
    const candles = input.candles.get(symbol) ?? NO_CANDLES;
    const runnable = runnableOf(enabled, candles.length);
    // Without its candles a symbol is skipped, except that a held position keeps its stop-loss.
    if (runnable.length < enabled.length && !heldPosition) continue;
    onSymbol = symbol;
    onCandles = candles;
    onTicker = ticker;
    onPosition = heldPosition;
    if (!input.unreached.has(symbol)) evaluated += 1;

    if (heldPosition) {
      // Exit: stop-loss / take-profit for every position, else the first strategy that says sell.
      const protective = protectiveExit(heldPosition, ticker, input.protections);
      const exit = protective ? { strategy: protective.protection, reason: protective.reason } : firstDecision(runnable, evaluate, 'sell');
      if (!exit) continue;
      const why = exitBlock(symbol, heldPosition.qty, ticker.bid, exposure, await input.marketRules.of(symbol));
      if (why) blocked.push({ symbol, strategy: exit.strategy, side: 'sell', reason: why });
      else {
        signals.push({ strategy: exit.strategy, symbol, side: 'sell', amount: heldPosition.qty, reason: exit.reason });
        risk = recordExit(risk, symbol, now);
      }
      continue;
    }
    if (!input.entryList.has(symbol)) continue;
    const entry = firstDecision(runnable, evaluate, 'buy');
    if (!entry) continue;
    const queued = pending[symbol];
    const why = queued
      ? `an entry is already in flight (intent ${queued.intentId} until ${queued.expiresAt})`
      : entryBlock({
          symbol,
          quoteAmount: input.orderQuoteAmount,
          exposure,
          risk,
          entriesPaused: input.entriesPaused,
          rules: await input.marketRules.of(symbol),
          now,
          settings: input.protections,
        });
    if (why) blocked.push({ symbol, strategy: entry.strategy, side: 'buy', reason: why });
    else {
      signals.push({ strategy: entry.strategy, symbol, side: 'buy', quoteAmount: input.orderQuoteAmount, reason: entry.reason });
      exposure.add(symbol, input.orderQuoteAmount);
    }
  }
  return { signals, blocked, evaluated, risk };
}

/**
 * The first of `strategies` (in order) whose decision is `side`, with its reason: the decision of
 * a symbol (a backtest's scan gate asks it of its evaluators too).
 */
export function firstDecision<S extends { readonly name: string }>(
  strategies: readonly S[],
  evaluate: (s: S) => { side: 'buy' | 'sell'; reason: string } | null,
  side: 'buy' | 'sell',
): { strategy: string; reason: string } | null {
  for (const s of strategies) {
    const decision = evaluate(s);
    if (decision?.side === side) return { strategy: s.name, reason: decision.reason };
  }
  return null;
}
