/**
 * The scanner against an exchange double with network latency (PERF-1): every request waits a
 * fixed latency (default 50 ms) and counts its Binance weight against a per-minute limit that the
 * double enforces (a 429 past it); a shared budget in front of it backs off at 80 %, as the live
 * adapter does. The scanner runs as deployed (scanMarket with its candle cache, concurrency,
 * deadline and rotation) on in-memory stores, so the figures are the scanner's own.
 *
 * Per scan: one new candle closed for every symbol. The market simulation (next candle and
 * tickers for every symbol) runs before each scan and is measured apart; the scanner's CPU is
 * the process CPU during the scan alone.
 */
import { ExchangeTransientError } from '../shared/domain/errors.js';
import type { Candle, MarketRules, Ticker } from '../shared/domain/market.js';
import type { Balance, Exchange, ExchangeOrder } from '../shared/ports/exchange.js';
import { RateBudgetExhaustedError } from '../shared/ports/rate-budget.js';
import { BUILT_IN_STRATEGIES } from '../shared/domain/strategies/index.js';
import { CandleCache, scanMarket, type ScanDeps } from '../shared/use-cases/scan-market.js';
import { InMemoryTunablesStore, SCAN_SETTINGS } from '../test/fixtures/scanner-fakes.js';
import { CollectingQueue, FAKE_RULES, InMemoryAccountStore, InMemoryControlStore } from '../test/support/fakes.js';

export interface ScannerLatencyBench {
  readonly symbols: number;
  readonly latencyMs: number;
  readonly scans: number;
  readonly wallMsPerScan: number;
  readonly requestsPerScan: number;
  readonly weightPerScan: number;
  readonly scannerCpuMsPerScan: number;
  /** CPU of the simulated market (new candles and tickers), apart from the scanner's. */
  readonly marketSimCpuMsPerScan: number;
  readonly candleFetchesPerScan: number;
  readonly symbolsEvaluatedPerScan: number;
  readonly symbolsFailedPerScan: number;
  readonly symbolsUnreachedPerScan: number;
}

const MINUTE = 60_000;
/** Binance spot: 6000 weight per minute; the shared budget hands out 80 %. */
const WEIGHT_LIMIT = 6000;
const BUDGET = Math.floor(WEIGHT_LIMIT * 0.8);
const CANDLES_KEPT = 40;

/** Binance weight of ticker/24hr for `n` symbols (1..20: 2, 21..100: 40, more or all: 80), klines 2. */
function tickerWeight(n: number | undefined): number {
  if (n === undefined) return 80;
  return n <= 20 ? 2 : n <= 100 ? 40 : 80;
}

/** An exchange double: precomputed market data served after a fixed latency, weight enforced per minute. */
class LatencyExchange implements Exchange {
  readonly id = 'binance-double';
  readonly source = 'exchange' as const;
  requests = 0;
  weight = 0;
  #windowStart = 0;
  #windowWeight = 0;
  #budgetWeight = 0;
  readonly tickers = new Map<string, Ticker>();
  readonly candles = new Map<string, Candle[]>();

  constructor(
    readonly latencyMs: number,
    readonly now: () => number,
  ) {}

  /** The shared budget (backs off at 80 %) and the exchange's own limit (429 past it). */
  private async request<T>(weight: number, answer: () => T): Promise<T> {
    const at = this.now();
    const window = Math.floor(at / MINUTE) * MINUTE;
    if (window !== this.#windowStart) {
      this.#windowStart = window;
      this.#windowWeight = 0;
      this.#budgetWeight = 0;
    }
    if (this.#budgetWeight + weight > BUDGET) throw new RateBudgetExhaustedError(this.id, this.#budgetWeight, BUDGET, new Date(window + MINUTE));
    this.#budgetWeight += weight;
    this.requests += 1;
    this.weight += weight;
    await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
    this.#windowWeight += weight;
    if (this.#windowWeight > WEIGHT_LIMIT) throw new ExchangeTransientError('429 Too Many Requests');
    return answer();
  }

  async loadMarkets(): Promise<Readonly<Record<string, MarketRules>>> {
    return Object.fromEntries([...this.tickers.keys()].map((s) => [s, { ...FAKE_RULES, symbol: s }]));
  }
  fetchTickers(symbols?: readonly string[]): Promise<Ticker[]> {
    return this.request(tickerWeight(symbols?.length), () => (symbols ?? [...this.tickers.keys()]).flatMap((s) => this.tickers.get(s) ?? []));
  }
  fetchCandles(symbol: string, limit: number): Promise<Candle[]> {
    return this.request(2, () => (this.candles.get(symbol) ?? []).slice(-limit));
  }
  async createOrder(): Promise<ExchangeOrder> {
    throw new Error('the scanner bench places no orders');
  }
  async fetchOrderByClientId(): Promise<ExchangeOrder | null> {
    return null;
  }
  async fetchOpenOrders(): Promise<ExchangeOrder[]> {
    return [];
  }
  async cancelOrder(): Promise<ExchangeOrder | null> {
    return null;
  }
  async fetchBalances(): Promise<Readonly<Record<string, Balance>>> {
    return {};
  }
}

/** A deterministic random walk: the next candle of every symbol and its ticker, closing at `closeAt`. */
function simulate(exchange: LatencyExchange, symbols: readonly string[], closeAt: number, step: number): void {
  const openTime = closeAt - MINUTE;
  symbols.forEach((symbol, i) => {
    const series = exchange.candles.get(symbol) ?? [];
    const base = 100 + (i % 50);
    const price = (k: number) => (base * (1 + 0.01 * Math.sin((k + i) / 7))).toFixed(4);
    if (series.length === 0) {
      for (let k = CANDLES_KEPT; k > 0; k -= 1) {
        const p = price(step - k);
        series.push({ openTime: openTime - k * MINUTE, open: p, high: p, low: p, close: p, volume: '10' });
      }
    }
    const p = price(step);
    series.push({ openTime, open: p, high: p, low: p, close: p, volume: '10' });
    if (series.length > CANDLES_KEPT) series.splice(0, series.length - CANDLES_KEPT);
    exchange.candles.set(symbol, series);
    const bid = (Number(p) * 0.9999).toFixed(4);
    exchange.tickers.set(symbol, { symbol, bid, ask: p, last: p, volume: '1000', timestamp: closeAt + 1_000 });
  });
}

export async function benchScannerLatency(sizes: readonly number[], options: { readonly latencyMs?: number; readonly scans?: number } = {}): Promise<ScannerLatencyBench[]> {
  const latencyMs = options.latencyMs ?? 50;
  const scans = options.scans ?? 3;
  const results: ScannerLatencyBench[] = [];
  for (const size of sizes) {
    const symbols = Array.from({ length: size }, (_, i) => `S${String(i).padStart(4, '0')}X/USDT`);
    // Simulated time runs with real time from the start of each scan (deadlines see real latency).
    let minuteStart = Date.parse('2026-06-01T00:00:00Z');
    let scanStartReal = performance.now();
    const now = () => minuteStart + 2_000 + (performance.now() - scanStartReal);
    const exchange = new LatencyExchange(latencyMs, now);
    const accounts = new InMemoryAccountStore();
    await accounts.open('USDT', '1000000', new Date(now()));
    const tunables = new InMemoryTunablesStore();
    const deps: ScanDeps = {
      exchange,
      queue: new CollectingQueue(),
      control: new InMemoryControlStore(),
      accounts,
      tunables,
      risk: tunables,
      clock: { now: () => new Date(now()) },
      markets: () => exchange.loadMarkets(),
      strategies: BUILT_IN_STRATEGIES,
      candles: new CandleCache(),
      settings: {
        ...SCAN_SETTINGS,
        mode: 'live',
        watchlist: symbols,
        protections: { ...SCAN_SETTINGS.protections, maxOpenPositions: 1000 },
        staleDataSeconds: 90,
      },
    };
    const totals = { wall: 0, cpu: 0, sim: 0, requests: 0, weight: 0, fetches: 0, evaluated: 0, failed: 0, unreached: 0 };
    // Scan 0 warms the cache with full series; scans 1..n each find one new candle per symbol.
    for (let n = 0; n <= scans; n += 1) {
      minuteStart += MINUTE;
      const sim0 = process.cpuUsage();
      simulate(exchange, symbols, minuteStart, n);
      const sim = process.cpuUsage(sim0);
      const requests0 = exchange.requests;
      const weight0 = exchange.weight;
      scanStartReal = performance.now();
      const cpu0 = process.cpuUsage();
      const result = await scanMarket(deps, { slot: new Date(minuteStart), dryRun: false });
      const cpu = process.cpuUsage(cpu0);
      const wall = performance.now() - scanStartReal;
      if (n === 0) continue;
      totals.wall += wall;
      totals.cpu += (cpu.user + cpu.system) / 1000;
      totals.sim += (sim.user + sim.system) / 1000;
      totals.requests += exchange.requests - requests0;
      totals.weight += exchange.weight - weight0;
      totals.fetches += result.candleFetches;
      totals.evaluated += result.evaluated ?? Number.NaN;
      totals.failed += result.failedSymbols?.length ?? 0;
      totals.unreached += result.unreached?.length ?? 0;
    }
    const per = (v: number) => Math.round((v / scans) * 10) / 10;
    results.push({
      symbols: size,
      latencyMs,
      scans,
      wallMsPerScan: per(totals.wall),
      requestsPerScan: per(totals.requests),
      weightPerScan: per(totals.weight),
      scannerCpuMsPerScan: per(totals.cpu),
      marketSimCpuMsPerScan: per(totals.sim),
      candleFetchesPerScan: per(totals.fetches),
      symbolsEvaluatedPerScan: per(totals.evaluated),
      symbolsFailedPerScan: per(totals.failed),
      symbolsUnreachedPerScan: per(totals.unreached),
    });
  }
  return results;
}
