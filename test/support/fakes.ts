/**
 * In-memory fakes of the ports, for unit tests of use cases. They keep the contracts that
 * matter to the logic (conditional create, version and fence checks, optimistic book updates)
 * so a use case cannot pass here and fail against the emulator for a contract reason.
 */
import { openBook, type AccountBook } from '../../shared/domain/account.js';
import { ConcurrentModificationError, ExchangeRejectedError, LockHeldError, LockLostError } from '../../shared/domain/errors.js';
import { feeOf } from '../../shared/domain/fees.js';
import type { Intent } from '../../shared/domain/intent.js';
import type { Candle, MarketRules, Ticker } from '../../shared/domain/market.js';
import { dec, str } from '../../shared/domain/money.js';
import { isTerminal, type OrderRecord } from '../../shared/domain/order.js';
import type { AccountStore } from '../../shared/ports/account-store.js';
import type { AuditEntry, AuditLog, AuditRecord, AuditVerification } from '../../shared/ports/audit-log.js';
import type { ControlStore, PauseState, ReportKind } from '../../shared/ports/control-store.js';
import type { Balance, Exchange, ExchangeOrder, PlaceOrderRequest } from '../../shared/ports/exchange.js';
import type { Heartbeat, HeartbeatStore, Outcome } from '../../shared/ports/heartbeat-store.js';
import type { IntentQueue, QueueInspector } from '../../shared/ports/intent-queue.js';
import type { Lease, LockInfo, LockService } from '../../shared/ports/lock-service.js';
import type { OrderStore, Page } from '../../shared/ports/order-store.js';
import type { JobName } from '../../shared/definitions/schedules.js';

export class InMemoryOrderStore implements OrderStore {
  readonly items = new Map<string, OrderRecord>();

  async create(order: OrderRecord): Promise<boolean> {
    if (this.items.has(order.id)) return false;
    this.items.set(order.id, order);
    return true;
  }
  async get(id: string): Promise<OrderRecord | null> {
    return this.items.get(id) ?? null;
  }
  async save(next: OrderRecord, expected: { readonly version: number; readonly fence: number }): Promise<OrderRecord> {
    const current = this.items.get(next.id);
    if (current && current.fence > expected.fence) throw new LockLostError(`symbol:${next.symbol}`);
    if (!current || current.version !== expected.version) throw new ConcurrentModificationError(`order ${next.id} changed`);
    const stored: OrderRecord = { ...next, fence: expected.fence };
    this.items.set(next.id, stored);
    return stored;
  }
  async listOpen(limit: number, cursor?: string): Promise<Page<OrderRecord>> {
    return this.page((o) => !isTerminal(o.state), limit, cursor);
  }
  async listWatched(limit: number, cursor?: string): Promise<Page<OrderRecord>> {
    return this.page((o) => isTerminal(o.state) && o.watchUntil !== undefined, limit, cursor);
  }
  private page(keep: (o: OrderRecord) => boolean, limit: number, cursor?: string): Page<OrderRecord> {
    const open = [...this.items.values()].filter(keep).sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
    const start = cursor ? Number(cursor) : 0;
    const items = open.slice(start, start + limit);
    return start + limit < open.length ? { items, cursor: String(start + limit) } : { items };
  }
  async listRecent(limit: number): Promise<OrderRecord[]> {
    return [...this.items.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt)).slice(0, limit);
  }
}

export class InMemoryAccountStore implements AccountStore {
  private books = new Map<string, AccountBook>();
  async open(currency: string, openingTotal: string, at: Date, opening?: AccountBook): Promise<AccountBook> {
    const existing = this.books.get(currency);
    if (existing) return existing;
    const book = opening ?? openBook(currency, openingTotal, at);
    this.books.set(currency, book);
    return book;
  }
  async get(currency: string): Promise<AccountBook | null> {
    return this.books.get(currency) ?? null;
  }
  async update(currency: string, change: (book: AccountBook) => AccountBook | null): Promise<AccountBook> {
    const current = this.books.get(currency);
    if (!current) throw new ConcurrentModificationError(`book ${currency} missing`);
    const next = change(current);
    if (!next) return current;
    const written = { ...next, version: current.version + 1 };
    this.books.set(currency, written);
    return written;
  }
}

export class InMemoryLockService implements LockService {
  private locks = new Map<string, { owner: string | null; token: number; expiresAt: number }>();
  async acquire(name: string, owner: string, leaseMs: number, now: Date): Promise<Lease> {
    const current = this.locks.get(name);
    if (current?.owner && current.expiresAt > now.getTime() && current.owner !== owner) throw new LockHeldError(name);
    const token = (current?.token ?? 0) + 1;
    const expiresAt = now.getTime() + leaseMs;
    this.locks.set(name, { owner, token, expiresAt });
    return { name, owner, token, expiresAt };
  }
  /** Never carries an audit head: the in-memory audit log moves its own. */
  async release(lease: Lease): Promise<boolean> {
    const current = this.locks.get(lease.name);
    if (current && current.owner === lease.owner && current.token === lease.token) this.locks.set(lease.name, { owner: null, token: current.token, expiresAt: 0 });
    return false;
  }
  async list(): Promise<LockInfo[]> {
    return [...this.locks.entries()].map(([name, l]) => ({ name, ...l }));
  }
}

export class InMemoryControlStore implements ControlStore {
  pause: PauseState = { paused: false };
  reports = new Map<ReportKind, Record<string, unknown>>();
  failPauseRead = false;
  async getPause(): Promise<PauseState> {
    if (this.failPauseRead) throw new Error('pause record unreadable');
    return this.pause;
  }
  async setPause(state: PauseState): Promise<void> {
    this.pause = state;
  }
  async putReport(kind: ReportKind, report: Record<string, unknown>): Promise<void> {
    this.reports.set(kind, report);
  }
  async getReport(kind: ReportKind): Promise<Record<string, unknown> | null> {
    return this.reports.get(kind) ?? null;
  }
}

export class InMemoryAuditLog implements AuditLog {
  readonly records: AuditRecord[] = [];
  async append(stream: string, entry: AuditEntry, at: Date): Promise<AuditRecord> {
    const seq = this.records.filter((r) => r.stream === stream).length + 1;
    const record: AuditRecord = { ...entry, stream, seq, at: at.toISOString(), prevHash: '', hash: `${stream}#${seq}` };
    this.records.push(record);
    return record;
  }
  async verify(): Promise<AuditVerification> {
    return { valid: true, streams: new Set(this.records.map((r) => r.stream)).size, records: this.records.length, checkpoints: 0, problems: [] };
  }
  types(): string[] {
    return this.records.map((r) => r.type);
  }
}

export class InMemoryHeartbeatStore implements HeartbeatStore {
  readonly beats = new Map<JobName, Heartbeat>();
  async recordStart(job: JobName, at: Date): Promise<void> {
    this.beats.set(job, { ...(this.beats.get(job) ?? { job }), lastStart: at.toISOString() });
  }
  async recordEnd(job: JobName, at: Date, durationMs: number, outcome: Outcome, errorCode?: string): Promise<void> {
    const prev = this.beats.get(job) ?? { job };
    this.beats.set(job, {
      ...prev,
      lastDurationMs: durationMs,
      lastOutcome: outcome,
      ...(outcome === 'success' ? { lastSuccess: at.toISOString() } : { lastFailure: at.toISOString(), ...(errorCode ? { lastErrorCode: errorCode } : {}) }),
    });
  }
  async list(): Promise<Heartbeat[]> {
    return (['scanner', 'executor', 'reconciler', 'health'] as const).map((job) => this.beats.get(job) ?? { job });
  }
}

export class CollectingQueue implements IntentQueue, QueueInspector {
  readonly sent: Intent[] = [];
  depthsValue: Record<string, number> = { execution: 0, 'execution-dlq': 0 };
  async send(intents: readonly Intent[]): Promise<void> {
    this.sent.push(...intents);
  }
  async depths(): Promise<Readonly<Record<string, number>>> {
    return this.depthsValue;
  }
}

export const FAKE_RULES: MarketRules = {
  symbol: 'BTC/USDT',
  base: 'BTC',
  quote: 'USDT',
  amountStep: '0.0001',
  priceTick: '0.01',
  minAmount: '0.0001',
  minNotional: '10',
};

/**
 * A fixed-price exchange that fills market orders at once, remembers client order ids and can
 * be told to fail the next calls.
 */
export class FakeExchange implements Exchange {
  readonly id = 'fake';
  source: 'exchange' | 'synthetic' = 'synthetic';
  prices: Record<string, { bid: string; ask: string }> = { 'BTC/USDT': { bid: '49990', ask: '50000' } };
  candles: Record<string, Candle[]> = {};
  tickerTime: (() => number) | undefined;
  readonly orders = new Map<string, ExchangeOrder>();
  createCalls = 0;
  nextCreateError: Error | undefined;
  feeRate = '0.001';

  async loadMarkets(): Promise<Readonly<Record<string, MarketRules>>> {
    return Object.fromEntries(Object.keys(this.prices).map((s) => [s, { ...FAKE_RULES, symbol: s }]));
  }
  async fetchTickers(symbols: readonly string[] = Object.keys(this.prices)): Promise<Ticker[]> {
    return symbols.flatMap((symbol) => {
      const p = this.prices[symbol];
      return p ? [{ symbol, bid: p.bid, ask: p.ask, last: p.bid, volume: '100', timestamp: this.tickerTime?.() ?? Date.now() }] : [];
    });
  }
  async fetchCandles(symbol: string, limit: number): Promise<Candle[]> {
    return (this.candles[symbol] ?? []).slice(-limit);
  }
  async createOrder(request: PlaceOrderRequest): Promise<ExchangeOrder> {
    this.createCalls += 1;
    if (this.nextCreateError) {
      const error = this.nextCreateError;
      this.nextCreateError = undefined;
      throw error;
    }
    if (this.orders.has(request.clientOrderId)) throw new ExchangeRejectedError('duplicate', 'duplicate-client-order-id');
    const p = this.prices[request.symbol];
    if (!p) throw new ExchangeRejectedError('bad symbol', 'bad-symbol');
    const price = request.side === 'buy' ? p.ask : p.bid;
    const cost = str(dec(request.amount).times(price));
    const order: ExchangeOrder = {
      id: `X${this.orders.size + 1}`,
      clientOrderId: request.clientOrderId,
      symbol: request.symbol,
      side: request.side,
      type: request.type,
      status: 'closed',
      amount: request.amount,
      price,
      filled: request.amount,
      cost,
      fees: feeOf('USDT', str(dec(cost).times(this.feeRate))),
      timestamp: 0,
    };
    this.orders.set(request.clientOrderId, order);
    return order;
  }
  async fetchOrderByClientId(_symbol: string, clientOrderId: string): Promise<ExchangeOrder | null> {
    return this.orders.get(clientOrderId) ?? null;
  }
  async fetchOpenOrders(): Promise<ExchangeOrder[]> {
    return [...this.orders.values()].filter((o) => o.status === 'open');
  }
  async cancelOrder(_symbol: string, clientOrderId: string): Promise<ExchangeOrder | null> {
    const o = this.orders.get(clientOrderId);
    if (!o) return null;
    const canceled = o.status === 'open' ? { ...o, status: 'canceled' as const } : o;
    this.orders.set(clientOrderId, canceled);
    return canceled;
  }
  async fetchBalances(): Promise<Readonly<Record<string, Balance>>> {
    return {};
  }
}

/** Candles of one symbol, one minute apart, ending with the candle that closed at `until`. */
export function flatCandles(until: Date, count: number, price: string, high = price): Candle[] {
  const lastOpen = Math.floor(until.getTime() / 60_000) * 60_000 - 60_000;
  return Array.from({ length: count }, (_, i) => ({
    openTime: lastOpen - (count - 1 - i) * 60_000,
    open: price,
    high,
    low: price,
    close: price,
    volume: '1',
  }));
}
