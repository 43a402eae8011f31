/**
 * The ports a backtest runs the use cases on, in memory. They persist only, with the same
 * contracts as the DynamoDB adapters (conditional create, version and fence checks, optimistic
 * book updates), so the use cases take the same decisions as on AWS. Sized for long runs: open
 * orders are indexed, and the audit log numbers and counts each stream's records but keeps none.
 */
import { openBook, type AccountBook } from '../shared/domain/account.js';
import { ConcurrentModificationError, LockHeldError, LockLostError, ValidationError } from '../shared/domain/errors.js';
import type { Intent } from '../shared/domain/intent.js';
import { isTerminal, type OrderRecord } from '../shared/domain/order.js';
import { EMPTY_RISK_STATE, type RiskState } from '../shared/domain/protections.js';
import type { AccountStore } from '../shared/ports/account-store.js';
import type { AuditEntry, AuditLog, AuditRecord, AuditVerification } from '../shared/ports/audit-log.js';
import type { Clock } from '../shared/ports/clock.js';
import type { ControlStore, PauseState, ReportKind } from '../shared/ports/control-store.js';
import type { IntentQueue } from '../shared/ports/intent-queue.js';
import type { Lease, LockInfo, LockService } from '../shared/ports/lock-service.js';
import type { OrderStore, Page } from '../shared/ports/order-store.js';
import type { RiskStateStore, Tunables, TunablesStore, VersionedRiskState, VersionedTunables } from '../shared/ports/tunables-store.js';

/**
 * The simulated clock: the backtest moves it from candle to candle. The Date of a moment is made
 * when first asked for (most candles are stepped over without anyone reading the clock) and then
 * given to every caller until the clock moves, as before.
 */
export class SimulatedClock implements Clock {
  #ms: number;
  #now: Date | undefined;
  constructor(start: number) {
    this.#ms = start;
  }
  now(): Date {
    return (this.#now ??= new Date(this.#ms));
  }
  set(ms: number): void {
    if (ms === this.#ms) return;
    this.#ms = ms;
    this.#now = undefined;
  }
}

export class MemoryOrderStore implements OrderStore {
  readonly #items = new Map<string, OrderRecord>();
  readonly #open = new Map<string, OrderRecord>();
  readonly #watched = new Map<string, OrderRecord>();

  async create(order: OrderRecord): Promise<boolean> {
    if (this.#items.has(order.id)) return false;
    this.#put(order);
    return true;
  }
  async get(id: string): Promise<OrderRecord | null> {
    return this.#items.get(id) ?? null;
  }
  async save(next: OrderRecord, expected: { readonly version: number; readonly fence: number }): Promise<OrderRecord> {
    const current = this.#items.get(next.id);
    if (current && current.fence > expected.fence) throw new LockLostError(`symbol:${next.symbol}`);
    if (!current || current.version !== expected.version) throw new ConcurrentModificationError(`order ${next.id} changed`);
    const stored: OrderRecord = { ...next, fence: expected.fence };
    this.#put(stored);
    return stored;
  }
  async listOpen(limit: number, cursor?: string): Promise<Page<OrderRecord>> {
    return page(this.#open, limit, cursor);
  }
  async listWatched(limit: number, cursor?: string): Promise<Page<OrderRecord>> {
    return page(this.#watched, limit, cursor);
  }
  async listRecent(limit: number): Promise<OrderRecord[]> {
    return [...this.#items.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt)).slice(0, limit);
  }
  /** Orders the reconciler follows: open ones, and ended ones watched for a late fill. */
  get followedCount(): number {
    return this.#open.size + this.#watched.size;
  }
  all(): IterableIterator<OrderRecord> {
    return this.#items.values();
  }
  #put(order: OrderRecord): void {
    this.#items.set(order.id, order);
    this.#open.delete(order.id);
    this.#watched.delete(order.id);
    if (!isTerminal(order.state)) this.#open.set(order.id, order);
    else if (order.watchUntil !== undefined) this.#watched.set(order.id, order);
  }
}

/** One page of `orders`, oldest first. */
function page(orders: ReadonlyMap<string, OrderRecord>, limit: number, cursor?: string): Page<OrderRecord> {
  const sorted = [...orders.values()].sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  const start = cursor ? Number(cursor) : 0;
  const items = sorted.slice(start, start + limit);
  return start + limit < sorted.length ? { items, cursor: String(start + limit) } : { items };
}

export class MemoryAccountStore implements AccountStore {
  readonly #books = new Map<string, AccountBook>();
  async open(currency: string, openingTotal: string, at: Date, opening?: AccountBook): Promise<AccountBook> {
    const existing = this.#books.get(currency);
    if (existing) return existing;
    const book = opening ?? openBook(currency, openingTotal, at);
    this.#books.set(currency, book);
    return book;
  }
  async get(currency: string): Promise<AccountBook | null> {
    return this.#books.get(currency) ?? null;
  }
  /** The book as `get` gives it, without waiting (the backtest reads it between the use cases). */
  peek(currency: string): AccountBook | null {
    return this.#books.get(currency) ?? null;
  }
  async update(currency: string, change: (book: AccountBook) => AccountBook | null): Promise<AccountBook> {
    const current = this.#books.get(currency);
    if (!current) throw new ConcurrentModificationError(`book ${currency} missing`);
    const next = change(current);
    if (!next) return current;
    const written = { ...next, version: current.version + 1 };
    this.#books.set(currency, written);
    return written;
  }
}

export class MemoryLockService implements LockService {
  readonly #locks = new Map<string, { owner: string | null; token: number; expiresAt: number }>();
  async acquire(name: string, owner: string, leaseMs: number, now: Date): Promise<Lease> {
    const current = this.#locks.get(name);
    if (current?.owner && current.expiresAt > now.getTime() && current.owner !== owner) throw new LockHeldError(name);
    const token = (current?.token ?? 0) + 1;
    const expiresAt = now.getTime() + leaseMs;
    this.#locks.set(name, { owner, token, expiresAt });
    return { name, owner, token, expiresAt };
  }
  /** Never carries an audit head (false): the backtest's audit log moves its own. */
  async release(lease: Lease): Promise<boolean> {
    const current = this.#locks.get(lease.name);
    if (current && current.owner === lease.owner && current.token === lease.token) this.#locks.set(lease.name, { owner: null, token: current.token, expiresAt: 0 });
    return false;
  }
  async list(): Promise<LockInfo[]> {
    return [...this.#locks.entries()].map(([name, l]) => ({ name, ...l }));
  }
}

export class MemoryControlStore implements ControlStore {
  #pause: PauseState = { paused: false };
  readonly #reports = new Map<ReportKind, Record<string, unknown>>();
  async getPause(): Promise<PauseState> {
    return this.#pause;
  }
  /** The pause record as `getPause` gives it, without waiting. */
  get pause(): PauseState {
    return this.#pause;
  }
  async setPause(state: PauseState): Promise<void> {
    this.#pause = state;
  }
  async putReport(kind: ReportKind, report: Record<string, unknown>): Promise<void> {
    this.#reports.set(kind, report);
  }
  async getReport(kind: ReportKind): Promise<Record<string, unknown> | null> {
    return this.#reports.get(kind) ?? null;
  }
}

/**
 * The backtest's audit log: it takes every record the use cases append, in the same calls as the
 * live log (one append per record or batch; an empty batch is refused), numbers each stream's
 * records and counts them by type, and keeps nothing else. It does not seal them into a hash
 * chain: a chain lets `verify` find an edited or deleted STORED record, and this log stores none (a
 * run's records would not fit its memory bound), so a chain here could never be checked; its
 * canonical JSON and SHA-256 cost about a tenth of a run. The records the live log (DynamoDB)
 * writes are sealed by `sealRecords` as before; test/unit/backtest/memory-audit-log.test.ts seals
 * the records a backtest appends and verifies their chains. `hash` and `prevHash` of the record
 * `append` resolves to are empty: nothing was chained.
 */
export class MemoryAuditLog implements AuditLog {
  /** Records appended per stream: the last sequence number of each. */
  readonly #seqs = new Map<string, number>();
  readonly counts = new Map<string, number>();
  /** One record, or a batch decided at the same moment (consecutive records, as the DynamoDB log stores them). */
  async append(stream: string, entry: AuditEntry | readonly AuditEntry[], at: Date): Promise<AuditRecord> {
    const entries: readonly AuditEntry[] = Array.isArray(entry) ? entry : [entry as AuditEntry];
    if (entries.length === 0) throw new ValidationError('an audit append needs at least one entry');
    const seq = (this.#seqs.get(stream) ?? 0) + entries.length;
    this.#seqs.set(stream, seq);
    for (const one of entries) this.counts.set(one.type, (this.counts.get(one.type) ?? 0) + 1);
    const last = entries[entries.length - 1]!;
    return {
      stream,
      seq,
      at: at.toISOString(),
      type: last.type,
      ...(last.correlationId === undefined ? {} : { correlationId: last.correlationId }),
      data: last.data,
      prevHash: '',
      hash: '',
    };
  }
  /** How many records each stream holds; there is no chain to check (see above). */
  async verify(): Promise<AuditVerification> {
    let records = 0;
    for (const seq of this.#seqs.values()) records += seq;
    return { valid: true, streams: this.#seqs.size, records, checkpoints: 0, problems: [] };
  }
}

export class MemoryTunablesStore implements TunablesStore, RiskStateStore {
  #tunables: VersionedTunables;
  #risk: VersionedRiskState = { state: EMPTY_RISK_STATE, version: 0 };
  constructor(tunables: Tunables) {
    this.#tunables = { tunables, version: 1 };
  }
  async getTunables(): Promise<VersionedTunables> {
    return this.#tunables;
  }
  async putTunables(tunables: Tunables, expectedVersion: number, author: string, at: Date): Promise<void> {
    if (this.#tunables.version !== expectedVersion) throw new ConcurrentModificationError('tunables changed');
    this.#tunables = { tunables, version: expectedVersion + 1, updatedAt: at.toISOString(), updatedBy: author };
  }
  async getRiskState(): Promise<VersionedRiskState> {
    return this.#risk;
  }
  /** The risk record as `getRiskState` gives it, without waiting. */
  get riskState(): RiskState {
    return this.#risk.state;
  }
  async putRiskState(state: RiskState, expectedVersion: number): Promise<void> {
    if (this.#risk.version !== expectedVersion) throw new ConcurrentModificationError('risk state changed');
    this.#risk = { state, version: expectedVersion + 1 };
  }
}

/** The execution queue of a backtest: intents wait here until the executor takes them in the same step. */
export class MemoryQueue implements IntentQueue {
  #waiting: Intent[] = [];
  async send(intents: readonly Intent[]): Promise<void> {
    this.#waiting.push(...intents);
  }
  /** Intents waiting. */
  get size(): number {
    return this.#waiting.length;
  }
  drain(): Intent[] {
    const out = this.#waiting;
    this.#waiting = [];
    return out;
  }
}
