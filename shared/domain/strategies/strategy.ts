/**
 * Strategies are plug-ins: pure functions from a validated market snapshot and the symbol's
 * position to a decision, with parameters validated by their own zod schema. A strategy never
 * sizes an order and never sees another symbol; the scanner sizes decisions, applies the
 * protections (RISK-4) and turns what survives into intents.
 *
 * A strategy states its candle needs explicitly (`candlesNeeded`): the scanner fetches that many
 * closed one-minute candles (validated and gap-free, DATA-3) and only when a new one has closed
 * (DATA-5); a strategy that needs none is evaluated on the ticker alone.
 *
 * Every strategy is also an evaluator over a stream of candles (`StrategyEvaluator`): the candles
 * are pushed one at a time, oldest first, and the decision is taken on the last `candlesNeeded`
 * of them. `evaluate` is that evaluator fed with the input's candles, so the live scanner and a
 * backtest that keeps one evaluator per symbol for a whole run decide with the same code. A
 * strategy with an incremental form (`evaluator`) keeps its window in running state; any other
 * keeps the last candles and runs `evaluate` on them.
 */
import * as z from '../zod-mini.js';
import { ValidationError } from '../errors.js';
import type { Candle, Ticker } from '../market.js';
import type { DecimalString } from '../money.js';
import type { Position } from '../position.js';

/** A sized decision, as the scanner reports and sends it. */
export interface Signal {
  /** The strategy or protection that decided (kebab-case; part of the intent id). */
  readonly strategy: string;
  readonly symbol: string;
  readonly side: 'buy' | 'sell';
  /** For buys: quote to spend. */
  readonly quoteAmount?: DecimalString;
  /** For sells: base to sell. */
  readonly amount?: DecimalString;
  readonly reason: string;
}

export interface StrategyInput {
  readonly ticker: Ticker;
  /** Exactly `candlesNeeded` closed candles, oldest first, one minute apart; empty when it needs none. */
  readonly candles: readonly Candle[];
  /** The open position of this symbol, if any (qty > 0). */
  readonly position: Position | undefined;
}

/** Enter (buy, only considered while flat) or exit (sell the whole position, only while held). */
export interface Decision {
  readonly side: 'buy' | 'sell';
  readonly reason: string;
}

export interface Strategy<P> {
  /** Kebab-case, stable: it is part of every intent id this strategy produces. */
  readonly name: string;
  readonly description: string;
  /** Validates raw parameters and fills defaults; strict (an unknown key is an error). */
  readonly paramsSchema: z.core.$ZodType<P>;
  /** Closed one-minute candles it needs (0 = ticker only). */
  candlesNeeded(params: P): number;
  evaluate(input: StrategyInput, params: P): Decision | null;
  /**
   * The incremental form: an evaluator whose decision after any sequence of pushes equals
   * `evaluate` over the last `candlesNeeded` candles pushed. When given, `evaluate` is not called
   * by the prepared strategy: every decision goes through the evaluator.
   */
  evaluator?(params: P): StrategyEvaluator;
}

/**
 * A strategy over a stream of closed candles. After any pushes, `decide` returns what the
 * strategy decides on the last `candlesNeeded` candles pushed (all of them while fewer were).
 */
export interface StrategyEvaluator {
  /** The next closed candle of the symbol, later than every candle pushed before. */
  push(candle: Candle): void;
  decide(ticker: Ticker, position: Position | undefined): Decision | null;
}

/** A strategy bound to validated parameters: what the scanner runs. */
export interface PreparedStrategy {
  readonly name: string;
  /** The validated parameters, defaults filled in (for reports and `ops get`). */
  readonly params: unknown;
  readonly candlesNeeded: number;
  /**
   * The strategy has an incremental form: its evaluator keeps running state, so pushing one more
   * candle costs less than evaluating the window again (the scanner keeps such evaluators
   * between scans). @default false
   */
  readonly incremental?: boolean;
  evaluate(input: StrategyInput): Decision | null;
  /** A new evaluator for one symbol's candle stream (a backtest keeps one per symbol for the run). */
  evaluator(): StrategyEvaluator;
}

/** A strategy with its parameter type erased, so strategies of different types share a registry. */
export interface StrategyPlugin {
  readonly name: string;
  readonly description: string;
  /**
   * Validates `raw` parameters (defaults filled in) and binds them.
   * @throws ValidationError naming each bad parameter.
   */
  prepare(raw: unknown): PreparedStrategy;
}

export function plugin<P>(strategy: Strategy<P>): StrategyPlugin {
  return {
    name: strategy.name,
    description: strategy.description,
    prepare(raw) {
      const parsed = z.safeParse(strategy.paramsSchema, raw ?? {});
      if (!parsed.success) {
        const issues = parsed.error.issues.map((i) => `${strategy.name}.${i.path.join('.') || '(params)'}: ${i.message}`);
        throw new ValidationError(`invalid parameters for strategy ${strategy.name}: ${issues.join('; ')}`, issues);
      }
      const params = parsed.data;
      const candlesNeeded = strategy.candlesNeeded(params);
      const evaluator = (): StrategyEvaluator => (strategy.evaluator ? strategy.evaluator(params) : new WindowEvaluator(candlesNeeded, (input) => strategy.evaluate(input, params)));
      return {
        name: strategy.name,
        params,
        candlesNeeded,
        incremental: strategy.evaluator !== undefined,
        evaluate: strategy.evaluator
          ? ({ ticker, candles, position }) => {
              const fresh = evaluator();
              for (const candle of candles) fresh.push(candle);
              return fresh.decide(ticker, position);
            }
          : (input) => strategy.evaluate(input, params),
        evaluator,
      };
    },
  };
}

/** The evaluator of a strategy without an incremental form: the last candles, in a ring, handed to `evaluate`. */
class WindowEvaluator implements StrategyEvaluator {
  readonly #ring: Candle[] = [];
  #next = 0;

  constructor(
    readonly size: number,
    readonly evaluate: (input: StrategyInput) => Decision | null,
  ) {}

  push(candle: Candle): void {
    if (this.size === 0) return;
    if (this.#ring.length < this.size) this.#ring.push(candle);
    else {
      this.#ring[this.#next] = candle;
      this.#next = (this.#next + 1) % this.size;
    }
  }

  decide(ticker: Ticker, position: Position | undefined): Decision | null {
    const candles = this.#next === 0 ? this.#ring.slice() : [...this.#ring.slice(this.#next), ...this.#ring.slice(0, this.#next)];
    return this.evaluate({ ticker, candles, position });
  }
}
