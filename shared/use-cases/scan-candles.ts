/**
 * The candle round of a scan (DATA-5, DATA-7, RISK-6): every symbol that needs candles gets them
 * from the cache or from the exchange, with at most `concurrency` requests in flight.
 *
 * - Isolation: a symbol whose fetch fails (after its retries) or whose candles fail validation is
 *   reported and left out; the others go on.
 * - Retry: a retryable failure is tried again after a short exponential backoff with jitter
 *   (`scanRetryDelayMs`), a bounded number of times, and only while the backoff ends before the
 *   deadline.
 * - Stop: at the deadline, or when the shared rate budget refuses (backing off before the
 *   exchange's limit) or the circuit is open, no further request is started; the symbols not
 *   reached are returned in order, so the next scan starts with them (rotation).
 */
import pLimit from 'p-limit';
import { CircuitOpenError } from '../domain/circuit.js';
import { toTradewardenError } from '../domain/errors.js';
import type { Candle } from '../domain/market.js';
import { scanRetryDelayMs } from '../domain/timing.js';
import { checkCandles, checkJoined, type Rejection } from '../domain/market-validation.js';
import type { Clock } from '../ports/clock.js';
import type { Exchange } from '../ports/exchange.js';
import { RateBudgetExhaustedError } from '../ports/rate-budget.js';
import type { CandleCache } from './candle-cache.js';

export interface CandleRequest {
  readonly symbol: string;
  /** Candles the symbol's strategies need (> 0). */
  readonly needed: number;
}

/** A symbol whose candles could not be fetched this scan. */
export interface SymbolFailure {
  readonly symbol: string;
  readonly code: string;
  readonly reason: string;
  readonly attempts: number;
}

export type StopReason = 'deadline' | 'rate-budget' | 'circuit-open';

export interface CandleRound {
  /** Validated, fresh series by symbol. */
  readonly candles: ReadonlyMap<string, readonly Candle[]>;
  /** Series that arrived but failed validation (gap, stale, malformed...). */
  readonly rejected: readonly Rejection[];
  /** Symbols whose fetch failed after its retries. */
  readonly failed: readonly SymbolFailure[];
  /** Symbols not tried because the round stopped, in request order. */
  readonly unreached: readonly string[];
  /** Exchange requests made (retries included). */
  readonly fetches: number;
  readonly stoppedBy?: StopReason;
}

export interface CandleRoundOptions {
  readonly concurrency: number;
  /** No request starts at or after this time (epoch ms). */
  readonly deadline: number;
  /** Attempts per symbol, the first included. */
  readonly attempts: number;
  /** First backoff; it doubles with each retry (jittered). */
  readonly backoffMs: number;
  /** Freshness of the newest candle, on top of one candle period. */
  readonly maxAgeMs: number;
}

export interface CandleRoundDeps {
  readonly exchange: Exchange;
  readonly candles: CandleCache;
  readonly clock: Clock;
  readonly sleep: (ms: number) => Promise<void>;
  /** Draws the retry jitter. @default Math.random */
  readonly random?: () => number;
}

type Outcome =
  | { kind: 'ok'; symbol: string; candles: readonly Candle[] }
  | { kind: 'rejected'; rejection: Rejection }
  | { kind: 'failed'; failure: SymbolFailure }
  | { kind: 'unreached'; symbol: string };

export async function fetchCandleRound(deps: CandleRoundDeps, requests: readonly CandleRequest[], options: CandleRoundOptions): Promise<CandleRound> {
  // The limit binds only when there are more requests than it: fewer all start at once anyway,
  // so no limiter is made for them (one per scan was a measurable share of a small scan).
  const limit = Number.isInteger(options.concurrency) && options.concurrency >= 1 && requests.length <= options.concurrency ? undefined : pLimit(options.concurrency);
  const round = new Round(deps, options);
  const started: Promise<Outcome>[] = [];
  if (limit) for (const r of requests) started.push(limit(() => round.fetchOne(r)));
  else for (const r of requests) started.push(round.fetchOne(r));
  const outcomes = await Promise.all(started);
  const candles = new Map<string, readonly Candle[]>();
  const rejected: Rejection[] = [];
  const failed: SymbolFailure[] = [];
  const unreached: string[] = [];
  for (const o of outcomes) {
    if (o.kind === 'ok') candles.set(o.symbol, o.candles);
    else if (o.kind === 'rejected') rejected.push(o.rejection);
    else if (o.kind === 'failed') failed.push(o.failure);
    else unreached.push(o.symbol);
  }
  const { fetches, stoppedBy } = round;
  return { candles, rejected, failed, unreached, fetches, ...(stoppedBy ? { stoppedBy } : {}) };
}

/** One round's requests in flight: what they share (requests made, why the round stopped), without a closure per round. */
class Round {
  readonly now: Date;
  fetches = 0;
  stoppedBy: StopReason | undefined;

  constructor(
    readonly deps: CandleRoundDeps,
    readonly options: CandleRoundOptions,
  ) {
    this.now = deps.clock.now();
  }

  async fetchOne({ symbol, needed }: CandleRequest): Promise<Outcome> {
    const { deps, options, now } = this;
    const cached = deps.candles.get(symbol, needed, now);
    if (cached) return { kind: 'ok', symbol, candles: cached.slice(-needed) };
    const count = deps.candles.missing(symbol, needed, now);
    for (let attempt = 1; ; attempt += 1) {
      if (this.stoppedBy) return { kind: 'unreached', symbol };
      if (deps.clock.now().getTime() >= options.deadline) {
        this.stoppedBy ??= 'deadline';
        return { kind: 'unreached', symbol };
      }
      let fetched: Candle[];
      try {
        this.fetches += 1;
        fetched = await deps.exchange.fetchCandles(symbol, count);
      } catch (error) {
        if (error instanceof RateBudgetExhaustedError) {
          this.stoppedBy ??= 'rate-budget';
          return { kind: 'unreached', symbol };
        }
        if (error instanceof CircuitOpenError) {
          this.stoppedBy ??= 'circuit-open';
          return { kind: 'unreached', symbol };
        }
        const failure = toTradewardenError(error);
        const delay = scanRetryDelayMs(attempt, options.backoffMs, deps.random);
        if (failure.retryable && attempt < options.attempts && deps.clock.now().getTime() + delay < options.deadline) {
          await deps.sleep(delay);
          continue;
        }
        return { kind: 'failed', failure: { symbol, code: failure.code, reason: failure.message.slice(0, 200), attempts: attempt } };
      }
      const timeframe = deps.candles.timeframeMs;
      const checked = checkCandles(fetched, now, options.maxAgeMs + timeframe, 1, timeframe);
      const joined = checked.ok ? checkJoined(deps.candles.merged(symbol, checked.candles, needed), needed, timeframe) : checked;
      if (!joined.ok) {
        deps.candles.remove(symbol);
        return { kind: 'rejected', rejection: { symbol, reason: joined.reason } };
      }
      deps.candles.put(symbol, joined.candles);
      return { kind: 'ok', symbol, candles: joined.candles };
    }
  }
}
