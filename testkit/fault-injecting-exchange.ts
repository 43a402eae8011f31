/**
 * Chaos for the Exchange port (TST-3): wraps a real Exchange (paper, fake, ccxt) and injects the
 * failures a live exchange produces, so the executor and the reconciler can be proven against
 * them on the emulators.
 *
 * Each fault is raised the way the ccxt adapter would raise it: the ccxt error Binance's answer
 * becomes (DDoSProtection for 418/429, ExchangeNotAvailable for an HTML 403, RequestTimeout for
 * a timeout, ...) run through `classifyExchangeError` for the call's operation. The wrapper
 * therefore exercises the real classification, and what the caller sees is exactly what it
 * would see live.
 *
 * Two modes, usable together:
 * - random: per call type, a probability for each fault, drawn from a seeded PRNG, so the
 *   same seed and the same sequence of calls give the same faults;
 * - script: a queue of faults per call type (or for any call) consumed by the next calls,
 *   before any random draw: `exchange.script('createOrder', 'timeout-after-accept')`.
 *
 * `forwarded` counts the calls that reached the inner exchange, per call type and per client
 * order id for createOrder: tests assert "never sent twice" on it.
 */
import { DDoSProtection, ExchangeNotAvailable, InsufficientFunds, InvalidOrder, NetworkError, OnMaintenance, RequestTimeout } from 'ccxt';
import type { Candle, MarketRules, Ticker } from '../shared/domain/market.js';
import type { Balance, Exchange, ExchangeOrder, PlaceOrderRequest } from '../shared/ports/exchange.js';
import { classifyExchangeError, type ExchangeOperation } from '../shared/adapters/exchange/classify-exchange-error.js';
import { seededRandom } from './seeded-random.js';

export { seededRandom };

export const EXCHANGE_CALLS = [
  'loadMarkets',
  'fetchTickers',
  'fetchCandles',
  'createOrder',
  'fetchOrderByClientId',
  'fetchOpenOrders',
  'cancelOrder',
  'fetchBalances',
] as const;
export type ExchangeCall = (typeof EXCHANGE_CALLS)[number];

/**
 * The faults. "Before" faults never reach the inner exchange; `timeout-after-accept` and
 * `server-error-after-accept` call it first (the request was processed) and then fail.
 */
export const FAULT_KINDS = [
  /** Connection refused before the request left: ExchangeTransientError for any call. */
  'network-before',
  /** The request timed out and was never processed: unknown for create/cancel, transient for reads. */
  'timeout-before',
  /** The request was processed, then the answer was lost: unknown for create/cancel, transient for reads. */
  'timeout-after-accept',
  /** 418 IP ban: transient. */
  'rate-limit-418',
  /** 429 too many requests: transient. */
  'rate-limit-429',
  /** 5xx, not processed: unknown for create/cancel, transient for reads. */
  'server-error',
  /** 5xx after the request was processed. */
  'server-error-after-accept',
  /** "System is under maintenance": transient. */
  'maintenance',
  /** An HTML 403 from the WAF: transient. */
  'html-403',
  /** A 400 with an empty (non-JSON) body: transient. */
  'empty-body',
  /** Slow but successful: waits `latencyMs`, then forwards. */
  'latency',
  /** Permanent: InsufficientFunds. */
  'insufficient-funds',
  /** Permanent: InvalidOrder (lot size). */
  'invalid-order',
  /** Permanent: InvalidOrder (minimum notional). */
  'below-min-notional',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** A scripted fault; `latencyMs` applies to `latency` only. */
export type ScriptedFault = FaultKind | { readonly kind: FaultKind; readonly latencyMs?: number };

/** Probability (0..1) of each fault on one call type. */
export type FaultRates = Partial<Readonly<Record<FaultKind, number>>>;

export interface FaultInjectingExchangeOptions {
  /** Seed of the PRNG: the same seed and call sequence give the same faults. @default 'faults' */
  readonly seed?: string;
  /** Fault rates per call type; `default` applies to call types not listed. @default no random faults */
  readonly rates?: Partial<Readonly<Record<ExchangeCall | 'default', FaultRates>>>;
  /** Range of the delay of a `latency` fault, in ms. @default { min: 5, max: 50 } */
  readonly latencyMs?: { readonly min: number; readonly max: number };
  /** How to wait (tests may make latency instant or drive it). @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** One fault that was injected, for test assertions and chaos reports. */
export interface InjectedFault {
  readonly call: ExchangeCall;
  readonly kind: FaultKind;
  readonly seq: number;
  readonly clientOrderId?: string;
}

const OPERATION: Readonly<Record<ExchangeCall, ExchangeOperation>> = {
  loadMarkets: 'read',
  fetchTickers: 'read',
  fetchCandles: 'read',
  createOrder: 'create',
  fetchOrderByClientId: 'read',
  fetchOpenOrders: 'read',
  cancelOrder: 'cancel',
  fetchBalances: 'read',
};

const HTTP_METHOD: Readonly<Record<ExchangeOperation, string>> = { create: 'POST', read: 'GET', cancel: 'DELETE' };
const BINANCE_URL = 'https://api.binance.com/api/v3';

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The ccxt error Binance's answer turns into, for a fault on a call. */
function ccxtErrorFor(kind: Exclude<FaultKind, 'latency'>, call: ExchangeCall): Error {
  const op = OPERATION[call];
  const url = `${BINANCE_URL}/${call === 'createOrder' || call === 'cancelOrder' || call === 'fetchOrderByClientId' ? 'order' : 'ticker'}`;
  const method = HTTP_METHOD[op];
  switch (kind) {
    case 'network-before':
      return new NetworkError(`binance ${method} ${url} fetch failed: connect ECONNREFUSED 13.32.1.1:443`);
    case 'timeout-before':
    case 'timeout-after-accept':
      return new RequestTimeout(`binance ${method} ${url} request timed out (10000 ms)`);
    case 'rate-limit-418':
      return new DDoSProtection(`binance 418 I'm a teapot {"code":-1003,"msg":"Way too much request weight used; IP banned."}`);
    case 'rate-limit-429':
      return new DDoSProtection('binance 429 Too Many Requests {"code":-1003,"msg":"Too much request weight used."}');
    case 'server-error':
    case 'server-error-after-accept':
      return new ExchangeNotAvailable(`binance ${method} ${url} 502 Bad Gateway <html><body>502 Bad Gateway</body></html>`);
    case 'maintenance':
      return new OnMaintenance('binance System is under maintenance.');
    case 'html-403':
      return new ExchangeNotAvailable(`binance ${method} ${url} 403 Forbidden <html><head><title>403 Forbidden</title></head><body>blocked</body></html>`);
    case 'empty-body':
      return new ExchangeNotAvailable(`binance ${method} ${url} 400 Bad Request `);
    case 'insufficient-funds':
      return new InsufficientFunds('binance Account has insufficient balance for requested action.');
    case 'invalid-order':
      return new InvalidOrder('binance order amount should be evenly divisible by lot size {"code":-1013,"msg":"Filter failure: LOT_SIZE"}');
    case 'below-min-notional':
      return new InvalidOrder('binance {"code":-1013,"msg":"Filter failure: NOTIONAL"}');
    default: {
      const exhaustive: never = kind;
      return exhaustive;
    }
  }
}

/** Faults after which the inner exchange has processed the request. */
const AFTER_ACCEPT: ReadonlySet<FaultKind> = new Set(['timeout-after-accept', 'server-error-after-accept']);

export class FaultInjectingExchange implements Exchange {
  readonly id: string;
  readonly source: Exchange['source'];
  /** Calls that reached the inner exchange, per call type. */
  readonly forwarded: Record<ExchangeCall, number>;
  /** createOrder calls that reached the inner exchange, per client order id. */
  readonly createsByClientOrderId = new Map<string, number>();
  /** Calls made to this wrapper, per call type. */
  readonly calls: Record<ExchangeCall, number>;
  readonly injected: InjectedFault[] = [];

  private readonly random: () => number;
  private readonly rates: FaultInjectingExchangeOptions['rates'];
  private readonly latency: { readonly min: number; readonly max: number };
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly scripts = new Map<ExchangeCall | '*', { kind: FaultKind; latencyMs?: number }[]>();
  private seq = 0;

  constructor(
    private readonly inner: Exchange,
    options: FaultInjectingExchangeOptions = {},
  ) {
    this.id = inner.id;
    this.source = inner.source;
    this.random = seededRandom(options.seed ?? 'faults');
    this.rates = options.rates;
    this.latency = options.latencyMs ?? { min: 5, max: 50 };
    this.sleep = options.sleep ?? defaultSleep;
    const zero = () => Object.fromEntries(EXCHANGE_CALLS.map((c) => [c, 0])) as Record<ExchangeCall, number>;
    this.forwarded = zero();
    this.calls = zero();
  }

  /** Queues faults for the next calls of `call` (or of any call with '*'), in order. */
  script(call: ExchangeCall | '*', ...faults: ScriptedFault[]): this {
    const queue = this.scripts.get(call) ?? [];
    for (const f of faults) queue.push(typeof f === 'string' ? { kind: f } : { ...f });
    this.scripts.set(call, queue);
    return this;
  }

  /** Scripted faults not consumed yet. */
  pending(call: ExchangeCall | '*'): number {
    return this.scripts.get(call)?.length ?? 0;
  }

  /** Drops every scripted fault. */
  clearScript(): void {
    this.scripts.clear();
  }

  loadMarkets(): Promise<Readonly<Record<string, MarketRules>>> {
    return this.run('loadMarkets', () => this.inner.loadMarkets());
  }

  fetchTickers(symbols?: readonly string[]): Promise<Ticker[]> {
    return this.run('fetchTickers', () => this.inner.fetchTickers(symbols));
  }

  fetchCandles(symbol: string, limit: number): Promise<Candle[]> {
    return this.run('fetchCandles', () => this.inner.fetchCandles(symbol, limit));
  }

  createOrder(request: PlaceOrderRequest): Promise<ExchangeOrder> {
    return this.run(
      'createOrder',
      () => {
        this.createsByClientOrderId.set(request.clientOrderId, (this.createsByClientOrderId.get(request.clientOrderId) ?? 0) + 1);
        return this.inner.createOrder(request);
      },
      request.clientOrderId,
    );
  }

  fetchOrderByClientId(symbol: string, clientOrderId: string): Promise<ExchangeOrder | null> {
    return this.run('fetchOrderByClientId', () => this.inner.fetchOrderByClientId(symbol, clientOrderId), clientOrderId);
  }

  fetchOpenOrders(symbol?: string): Promise<ExchangeOrder[]> {
    return this.run('fetchOpenOrders', () => this.inner.fetchOpenOrders(symbol));
  }

  cancelOrder(symbol: string, clientOrderId: string): Promise<ExchangeOrder | null> {
    return this.run('cancelOrder', () => this.inner.cancelOrder(symbol, clientOrderId), clientOrderId);
  }

  fetchBalances(): Promise<Readonly<Record<string, Balance>>> {
    return this.run('fetchBalances', () => this.inner.fetchBalances());
  }

  private async run<T>(call: ExchangeCall, forward: () => Promise<T>, clientOrderId?: string): Promise<T> {
    this.calls[call] += 1;
    const fault = this.next(call);
    const send = async () => {
      this.forwarded[call] += 1;
      return forward();
    };
    if (!fault) return send();
    this.seq += 1;
    this.injected.push({ call, kind: fault.kind, seq: this.seq, ...(clientOrderId ? { clientOrderId } : {}) });
    if (fault.kind === 'latency') {
      await this.sleep(fault.latencyMs ?? this.latency.min + Math.floor(this.random() * (this.latency.max - this.latency.min + 1)));
      return send();
    }
    if (AFTER_ACCEPT.has(fault.kind)) {
      // The exchange processed the request; only its answer is lost. An error of the inner
      // exchange is what the caller would have seen anyway.
      await send();
    }
    throw classifyExchangeError(ccxtErrorFor(fault.kind, call), OPERATION[call]);
  }

  /** The scripted fault for this call if any, else one drawn from the rates. */
  private next(call: ExchangeCall): { kind: FaultKind; latencyMs?: number } | undefined {
    const scripted = this.scripts.get(call)?.shift() ?? this.scripts.get('*')?.shift();
    if (scripted) return scripted;
    const rates = this.rates?.[call] ?? this.rates?.default;
    if (!rates) return undefined;
    // One draw per call keeps the sequence reproducible whatever the rates.
    const u = this.random();
    let cumulative = 0;
    for (const kind of FAULT_KINDS) {
      cumulative += rates[kind] ?? 0;
      if (u < cumulative) return { kind };
    }
    return undefined;
  }
}
