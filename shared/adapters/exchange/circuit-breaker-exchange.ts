/**
 * Wraps an Exchange in the shared circuit breaker of its exchange id (RISK-5).
 *
 * Every call: read the circuit (one strongly consistent read), then
 * - closed: call; write only when the outcome changes the state (a counted failure, or the
 *   first success after failures); a success on a circuit read closed without failures is not
 *   recorded at all (nothing to change, so no second read);
 * - open before `retryAt`, or half-open with a live probe lease: refuse with CircuitOpenError
 *   (nothing is sent);
 * - open after `retryAt`, or half-open with an expired lease: claim the probe with a write
 *   conditional on the version read; the winner calls, a loser re-reads and is refused. The
 *   probe's result closes or reopens the circuit.
 * A transition write that loses its race re-reads and re-applies the outcome (bounded).
 *
 * Cancels (EXE-15) take `bypassingCircuit()`: the calls an emergency stop needs are made whatever
 * the circuit's state, never refused and never claiming the probe. Their outcomes are recorded
 * as an ordinary call's (a failure while closed counts; nothing an unadmitted call reports opens
 * or closes a circuit that is already open or half-open).
 *
 * Counted failures: errors that speak about the exchange's health (transient, unknown outcome,
 * unclassified). A rejection is an answer and counts as a success; our own rate-budget refusal
 * never reached the exchange and counts as neither.
 */
import {
  CircuitOpenError,
  DEFAULT_CIRCUIT_SETTINGS,
  admit,
  recordOutcome,
  sameCircuit,
  type CircuitSettings,
  type CircuitState,
} from '../../domain/circuit.js';
import { ConcurrentModificationError, ErrorCode, TradewardenError } from '../../domain/errors.js';
import type { Candle, MarketRules, Ticker } from '../../domain/market.js';
import type { CircuitStore, VersionedCircuit } from '../../ports/circuit-store.js';
import type { Clock } from '../../ports/clock.js';
import type { Balance, CancelExchange, Exchange, ExchangeOrder, PlaceOrderRequest } from '../../ports/exchange.js';
import { RateBudgetExhaustedError } from '../../ports/rate-budget.js';

/** Attempts to write one transition before giving up with ConcurrentModificationError. */
const MAX_TRANSITION_ATTEMPTS = 5;
/**
 * How old a read started by `prepareOrder` may be when createOrder decides on it: one round trip
 * of the caller's last write, with room for a slow one. Older, it is read again.
 */
const PREPARED_READ_MAX_AGE_MS = 1000;

export interface CircuitBreakerExchangeOptions {
  readonly inner: Exchange;
  readonly store: CircuitStore;
  readonly clock: Clock;
  /** @default DEFAULT_CIRCUIT_SETTINGS */
  readonly settings?: CircuitSettings;
  /** Called after a transition was written (metrics: CircuitOpen). */
  readonly onTransition?: (from: CircuitState, to: CircuitState) => void;
  /**
   * Called when an outcome could not be recorded (see `guard`): log it. The call's own result
   * or error is returned regardless.
   */
  readonly onRecordError: (error: unknown) => void;
}

type Outcome = { readonly ok: true } | { readonly ok: false; readonly failure: string };

export class CircuitBreakerExchange implements Exchange {
  readonly id: string;
  readonly source: Exchange['source'];
  readonly #inner: Exchange;
  readonly #store: CircuitStore;
  readonly #clock: Clock;
  readonly #settings: CircuitSettings;
  readonly #onTransition: ((from: CircuitState, to: CircuitState) => void) | undefined;
  readonly #onRecordError: (error: unknown) => void;
  /** The read `prepareOrder` started for the next createOrder, and when (performance.now()). */
  #prepared: { readonly read: Promise<VersionedCircuit>; readonly at: number } | undefined;

  constructor(options: CircuitBreakerExchangeOptions) {
    this.#inner = options.inner;
    this.#store = options.store;
    this.#clock = options.clock;
    this.#settings = options.settings ?? DEFAULT_CIRCUIT_SETTINGS;
    this.#onTransition = options.onTransition;
    this.#onRecordError = options.onRecordError;
    this.id = options.inner.id;
    this.source = options.inner.source;
  }

  /** The shared circuit state (for health and tests). */
  async circuit(): Promise<CircuitState> {
    return (await this.#store.read(this.id)).state;
  }

  loadMarkets(): Promise<Readonly<Record<string, MarketRules>>> {
    return this.guard(() => this.#inner.loadMarkets());
  }
  fetchTickers(symbols?: readonly string[]): Promise<Ticker[]> {
    return this.guard(() => this.#inner.fetchTickers(symbols));
  }
  fetchCandles(symbol: string, limit: number): Promise<Candle[]> {
    return this.guard(() => this.#inner.fetchCandles(symbol, limit));
  }
  createOrder(request: PlaceOrderRequest): Promise<ExchangeOrder> {
    const prepared = this.#prepared;
    this.#prepared = undefined;
    const fresh = prepared && performance.now() - prepared.at <= PREPARED_READ_MAX_AGE_MS ? prepared.read : undefined;
    return this.guard(() => this.#inner.createOrder(request), fresh);
  }

  /**
   * Reads the circuit for the next createOrder now, while the caller makes its last write before
   * the send: the admission then decides on a state read one round trip earlier instead of
   * adding a round trip of its own. A failed read is read again at the call.
   */
  prepareOrder(): void {
    const read = this.#store.read(this.id);
    read.catch(() => undefined);
    this.#prepared = { read, at: performance.now() };
  }
  fetchOrderByClientId(symbol: string, clientOrderId: string): Promise<ExchangeOrder | null> {
    return this.guard(() => this.#inner.fetchOrderByClientId(symbol, clientOrderId));
  }
  fetchOpenOrders(symbol?: string): Promise<ExchangeOrder[]> {
    return this.guard(() => this.#inner.fetchOpenOrders(symbol));
  }
  cancelOrder(symbol: string, clientOrderId: string): Promise<ExchangeOrder | null> {
    return this.guard(() => this.#inner.cancelOrder(symbol, clientOrderId));
  }
  fetchBalances(): Promise<Readonly<Record<string, Balance>>> {
    return this.guard(() => this.#inner.fetchBalances());
  }

  /**
   * The calls a cancel needs, made without admission: the breaker protects entries, not the
   * cancels of an emergency stop (EXE-15).
   */
  bypassingCircuit(): CancelExchange {
    return {
      cancelOrder: (symbol, clientOrderId) => this.callAndRecord(false, () => this.#inner.cancelOrder(symbol, clientOrderId)),
      fetchOrderByClientId: (symbol, clientOrderId) => this.callAndRecord(false, () => this.#inner.fetchOrderByClientId(symbol, clientOrderId)),
      fetchOpenOrders: (symbol) => this.callAndRecord(false, () => this.#inner.fetchOpenOrders(symbol)),
      fetchTickers: (symbols) => this.callAndRecord(false, () => this.#inner.fetchTickers(symbols)),
    };
  }

  /**
   * Admits, calls, records. Once the exchange was called, its answer is what the caller gets: a
   * failure to record the outcome must not turn an accepted order into an error, nor an unknown
   * outcome into a storage error (EXE-3), so it goes to `onRecordError` instead. The circuit
   * only lags by one outcome; the next call records again.
   */
  private async guard<T>(call: () => Promise<T>, prepared?: Promise<VersionedCircuit>): Promise<T> {
    const admitted = await this.admitOrThrow(prepared);
    return this.callAndRecord(admitted.probe, call, admitted.healthy);
  }

  /**
   * Calls, then records the outcome (`probe`: this call is the half-open probe). `healthy`: the
   * call was admitted on a closed circuit without failures, so a success changes nothing there
   * and is not recorded (no second read on the happy path). A failure another instance counted
   * meanwhile is then reset by the next success recorded on a read that sees it, not by this one.
   */
  private async callAndRecord<T>(probe: boolean, call: () => Promise<T>, healthy = false): Promise<T> {
    let result: T;
    try {
      result = await call();
    } catch (error) {
      const outcome = outcomeOf(error);
      if (outcome) await this.record(outcome, probe).catch((recordError: unknown) => this.#onRecordError(recordError));
      throw error;
    }
    if (!healthy) await this.record({ ok: true }, probe).catch((recordError: unknown) => this.#onRecordError(recordError));
    return result;
  }

  /**
   * Returns whether this call is the probe, and whether it was admitted on a closed circuit
   * without failures; throws CircuitOpenError when it may not be made.
   */
  private async admitOrThrow(prepared?: Promise<VersionedCircuit>): Promise<{ probe: boolean; healthy: boolean }> {
    for (let attempt = 0; attempt < MAX_TRANSITION_ATTEMPTS; attempt += 1) {
      const { state, version } = attempt === 0 && prepared ? await prepared.catch(() => this.#store.read(this.id)) : await this.#store.read(this.id);
      const admission = admit(state, this.#clock.now().getTime(), this.#settings);
      if (admission.kind === 'call') return { probe: false, healthy: state.status === 'closed' && state.consecutiveFailures === 0 };
      if (admission.kind === 'reject') throw new CircuitOpenError(this.id, admission.retryAt);
      if (await this.#store.write(this.id, admission.next, version)) {
        this.#onTransition?.(state, admission.next);
        return { probe: true, healthy: false };
      }
      // Another instance claimed the probe (or changed the state): decide again on what it wrote.
    }
    throw new ConcurrentModificationError(`circuit ${this.id} changed ${MAX_TRANSITION_ATTEMPTS} times while admitting a call`);
  }

  private async record(outcome: Outcome, probe: boolean): Promise<void> {
    for (let attempt = 0; attempt < MAX_TRANSITION_ATTEMPTS; attempt += 1) {
      const { state, version } = await this.#store.read(this.id);
      const next = recordOutcome(state, outcome, this.#clock.now().getTime(), probe && state.status === 'half-open', this.#settings);
      if (sameCircuit(state, next)) return;
      if (await this.#store.write(this.id, next, version)) {
        this.#onTransition?.(state, next);
        return;
      }
    }
    throw new ConcurrentModificationError(`circuit ${this.id} changed ${MAX_TRANSITION_ATTEMPTS} times while recording an outcome`);
  }
}

/** How an error counts for the circuit: a failure, a success (an answer), or not at all. */
function outcomeOf(error: unknown): Outcome | null {
  if (error instanceof RateBudgetExhaustedError || error instanceof CircuitOpenError) return null;
  if (error instanceof TradewardenError) {
    if (error.code === ErrorCode.ExchangeTransient || error.code === ErrorCode.ExchangeUnknownOutcome) {
      return { ok: false, failure: `${error.code}: ${error.message}`.slice(0, 300) };
    }
    if (error.code === ErrorCode.ExchangeRejected || error.code === ErrorCode.ExchangeOrderNotFound) return { ok: true };
  }
  return { ok: false, failure: (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).slice(0, 300) };
}
