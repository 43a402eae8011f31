/**
 * Chaos for the embedded stack (TST-3): the seeded exchange fault injector and the DynamoDB
 * fault middleware wired into a LocalRuntime, for `npm start -- --chaos` and `npm run soak`.
 *
 * Every container of every runtime built with `chaos.runtimeOptions()` talks to ONE exchange
 * chain around the paper exchange:
 *
 *   container's circuit breaker -> switch -> (chaos on) fault injector -> counter -> paper
 *                                          -> (chaos off) ------------> counter -> paper
 *
 * so the faults are seen by the shared circuit breaker like real ones, `stop()` turns them off
 * without rebuilding anything, and the counter sees every createOrder that reached the paper
 * exchange, whichever way it went (the soak's "sent more than once" check).
 */
import { ValidationError } from '../shared/domain/errors.js';
import type { Candle, MarketRules, Ticker } from '../shared/domain/market.js';
import { FaultInjectingExchange, type FaultKind, type FaultRates } from '../testkit/fault-injecting-exchange.js';
import { FaultInjectingStore } from '../testkit/fault-injecting-store.js';
import { JOBS, type JobName } from '../shared/definitions/schedules.js';
import type { Balance, Exchange, ExchangeOrder, PlaceOrderRequest } from '../shared/ports/exchange.js';
import type { ContainerOptions } from '../shared/runtime/container.js';
import type { LocalRuntime } from './runtime.js';

/**
 * Relative weights of the exchange faults of a chaos run: mostly what a live exchange does on a
 * bad day (network, timeouts before and after acceptance, 418/429, 5xx, maintenance, WAF pages,
 * empty bodies, slowness) and a little of the permanent refusals.
 */
export const CHAOS_EXCHANGE_MIX: Readonly<Partial<Record<FaultKind, number>>> = {
  'network-before': 2,
  'timeout-before': 1,
  'timeout-after-accept': 2,
  'rate-limit-418': 0.5,
  'rate-limit-429': 1,
  'server-error': 1,
  'server-error-after-accept': 1,
  maintenance: 0.5,
  'html-403': 0.5,
  'empty-body': 0.5,
  latency: 1,
  'insufficient-funds': 0.25,
  'invalid-order': 0.25,
};

/** Permanent refusals only make sense for placing an order. */
const CREATE_ORDER_ONLY: ReadonlySet<FaultKind> = new Set(['insufficient-funds', 'invalid-order', 'below-min-notional']);

/** Slow-but-successful calls of a chaos run wait this long (ms). */
export const CHAOS_LATENCY_MS = { min: 20, max: 400 } as const;

/** Per-call fault rates whose sum is `rate` (the probability that one call is faulted). */
export function chaosExchangeRates(rate: number): { default: FaultRates; createOrder: FaultRates } {
  const scale = (kinds: [string, number][]): FaultRates => {
    const total = kinds.reduce((sum, [, w]) => sum + w, 0);
    return Object.fromEntries(kinds.map(([k, w]) => [k, (w / total) * rate]));
  };
  const all = Object.entries(CHAOS_EXCHANGE_MIX) as [FaultKind, number][];
  return { default: scale(all.filter(([k]) => !CREATE_ORDER_ONLY.has(k))), createOrder: scale(all) };
}

/** Parses a probability given on the command line. @throws ValidationError naming the option. */
export function parseFraction(option: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new ValidationError(`${option} must be a number from 0 to 1, got ${JSON.stringify(text)}`);
  }
  return value;
}

/**
 * createOrder calls that reached the paper exchange, per client order id, how many it accepted,
 * and the ones sent again after it had accepted one: on an exchange that deduplicates client
 * order ids only among open orders (Binance), each of those could be a second order.
 */
export class CountingExchange implements Exchange {
  readonly id: string;
  readonly source: Exchange['source'];
  readonly creates = new Map<string, number>();
  readonly accepted = new Map<string, number>();
  readonly sentAfterAccept = new Map<string, number>();

  constructor(private readonly inner: Exchange) {
    this.id = inner.id;
    this.source = inner.source;
  }

  loadMarkets(): Promise<Readonly<Record<string, MarketRules>>> {
    return this.inner.loadMarkets();
  }
  fetchTickers(symbols?: readonly string[]): Promise<Ticker[]> {
    return this.inner.fetchTickers(symbols);
  }
  fetchCandles(symbol: string, limit: number): Promise<Candle[]> {
    return this.inner.fetchCandles(symbol, limit);
  }
  async createOrder(request: PlaceOrderRequest): Promise<ExchangeOrder> {
    const id = request.clientOrderId;
    this.creates.set(id, (this.creates.get(id) ?? 0) + 1);
    if ((this.accepted.get(id) ?? 0) > 0) this.sentAfterAccept.set(id, (this.sentAfterAccept.get(id) ?? 0) + 1);
    const order = await this.inner.createOrder(request);
    this.accepted.set(request.clientOrderId, (this.accepted.get(request.clientOrderId) ?? 0) + 1);
    return order;
  }
  fetchOrderByClientId(symbol: string, clientOrderId: string): Promise<ExchangeOrder | null> {
    return this.inner.fetchOrderByClientId(symbol, clientOrderId);
  }
  fetchOpenOrders(symbol?: string): Promise<ExchangeOrder[]> {
    return this.inner.fetchOpenOrders(symbol);
  }
  cancelOrder(symbol: string, clientOrderId: string): Promise<ExchangeOrder | null> {
    return this.inner.cancelOrder(symbol, clientOrderId);
  }
  fetchBalances(): Promise<Readonly<Record<string, Balance>>> {
    return this.inner.fetchBalances();
  }
}

/** Routes every call through the fault injector while `on()`, straight through otherwise. */
class SwitchExchange implements Exchange {
  readonly id: string;
  readonly source: Exchange['source'];

  constructor(
    private readonly faulty: Exchange,
    private readonly clean: Exchange,
    private readonly on: () => boolean,
  ) {
    this.id = clean.id;
    this.source = clean.source;
  }

  private get target(): Exchange {
    return this.on() ? this.faulty : this.clean;
  }
  loadMarkets(): Promise<Readonly<Record<string, MarketRules>>> {
    return this.target.loadMarkets();
  }
  fetchTickers(symbols?: readonly string[]): Promise<Ticker[]> {
    return this.target.fetchTickers(symbols);
  }
  fetchCandles(symbol: string, limit: number): Promise<Candle[]> {
    return this.target.fetchCandles(symbol, limit);
  }
  createOrder(request: PlaceOrderRequest): Promise<ExchangeOrder> {
    return this.target.createOrder(request);
  }
  fetchOrderByClientId(symbol: string, clientOrderId: string): Promise<ExchangeOrder | null> {
    return this.target.fetchOrderByClientId(symbol, clientOrderId);
  }
  fetchOpenOrders(symbol?: string): Promise<ExchangeOrder[]> {
    return this.target.fetchOpenOrders(symbol);
  }
  cancelOrder(symbol: string, clientOrderId: string): Promise<ExchangeOrder | null> {
    return this.target.cancelOrder(symbol, clientOrderId);
  }
  fetchBalances(): Promise<Readonly<Record<string, Balance>>> {
    return this.target.fetchBalances();
  }
}

export interface ChaosOptions {
  /** Seed of both injectors. */
  readonly seed: string;
  /** Probability (0..1) that one exchange call is faulted. */
  readonly faultRate: number;
  /** Probability (0..1) that one DynamoDB call fails. @default 0 */
  readonly storeFaultRate?: number;
  /** Fraction of the store faults raised after the write applied (lost responses). @default 0.25 */
  readonly storeLostResponseRate?: number;
  /** How `latency` faults wait. @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface ChaosSummary {
  readonly exchangeFaults: number;
  readonly exchangeFaultsByKind: Readonly<Record<string, number>>;
  readonly storeFaults: number;
  readonly storeFaultsByKind: Readonly<Record<string, number>>;
}

/** Default share of store faults that are lost responses. */
export const DEFAULT_STORE_LOST_RESPONSE_RATE = 0.25;

export class Chaos {
  readonly store: FaultInjectingStore;
  private active = true;
  private chain: { injector: FaultInjectingExchange; counter: CountingExchange; exchange: Exchange } | undefined;

  constructor(private readonly options: ChaosOptions) {
    parseFraction('--fault-rate', String(options.faultRate), 0);
    this.store = new FaultInjectingStore({
      seed: `${options.seed}:store`,
      rate: options.storeFaultRate ?? 0,
      lostResponseRate: options.storeLostResponseRate ?? DEFAULT_STORE_LOST_RESPONSE_RATE,
    });
  }

  /**
   * Builds the shared chain around `paper` (the first paper exchange seen, unless called first).
   * Give it a paper exchange on a client without store faults: the exchange's own books are not
   * the system's state, and a store fault inside the exchange is not a fault the system sees.
   */
  wrap(paper: Exchange): Exchange {
    if (!this.chain) {
      const counter = new CountingExchange(paper);
      const injector = new FaultInjectingExchange(counter, {
        seed: `${this.options.seed}:exchange`,
        rates: chaosExchangeRates(this.options.faultRate),
        latencyMs: CHAOS_LATENCY_MS,
        ...(this.options.sleep ? { sleep: this.options.sleep } : {}),
      });
      this.chain = { injector, counter, exchange: new SwitchExchange(injector, counter, () => this.active) };
    }
    return this.chain.exchange;
  }

  /** Options for LocalRuntime: every container uses the shared chain. */
  runtimeOptions(): Pick<ContainerOptions, 'exchange'> {
    return {
      exchange: ({ paper }) => {
        if (!paper) throw new ValidationError('chaos runs in paper mode only (TW_MODE=paper)');
        return this.wrap(paper);
      },
    };
  }

  /** Adds the store fault middleware to the DynamoDB clients of these jobs of a runtime. */
  attachStore(runtime: LocalRuntime, jobs: readonly JobName[] = JOBS): void {
    for (const job of jobs) this.store.attach(runtime.containers[job].ddb);
  }

  /** The exchange fault injector (after the first container was built). */
  get exchangeInjector(): FaultInjectingExchange | undefined {
    return this.chain?.injector;
  }

  /** createOrder calls that reached the paper exchange, per client order id. */
  get counter(): CountingExchange | undefined {
    return this.chain?.counter;
  }

  get running(): boolean {
    return this.active;
  }

  /** Stops every fault (exchange and store); the chain stays in place. */
  stop(): void {
    this.active = false;
    this.store.enabled = false;
  }

  /** Starts the faults again. */
  resume(): void {
    this.active = true;
    this.store.enabled = true;
  }

  summary(): ChaosSummary {
    const byKind: Record<string, number> = {};
    for (const f of this.chain?.injector.injected ?? []) byKind[f.kind] = (byKind[f.kind] ?? 0) + 1;
    const store = this.store.counts();
    return {
      exchangeFaults: this.chain?.injector.injected.length ?? 0,
      exchangeFaultsByKind: byKind,
      storeFaults: this.store.injected.length,
      storeFaultsByKind: Object.fromEntries(Object.entries(store).filter(([, n]) => n > 0)),
    };
  }
}
