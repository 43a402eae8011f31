/**
 * What the console shows, read from the stack's stores: the same reads for the embedded stack
 * and for a deployed one (the container decides where the tables are). Reads only: nothing here
 * writes.
 */
import { DynamoDbAuditReader } from '../shared/adapters/aws/dynamodb-audit-reader.js';
import { DynamoDbCircuitStateReader } from '../functions/health/circuit-states.js';
import { equity } from '../shared/domain/account.js';
import { ValidationError } from '../shared/domain/errors.js';
import { dec, type DecimalString } from '../shared/domain/money.js';
import type { OrderRecord } from '../shared/domain/order.js';
import { unrealizedPnl } from '../shared/domain/position.js';
import type { AuditRecord } from '../shared/ports/audit-log.js';
import { EXECUTION_DLQ_NAME, type Container } from '../shared/runtime/container.js';
import { CONTROL_STREAM } from '../shared/use-cases/reconcile-balances.js';
import { auditStream } from '../shared/use-cases/order-commit.js';
import { isPauseActive } from '../shared/use-cases/pause.js';

/** Orders the console lists and marks on charts. */
export const CONSOLE_RECENT_ORDERS = 200;
/** Candles of the price chart. */
export const CONSOLE_CANDLES = 300;
/** Equity points of the equity chart. */
export const CONSOLE_EQUITY_POINTS = 1_000;
/** Control records (pauses, resumes, tunables) shown. */
export const CONSOLE_CONTROL_RECORDS = 20;

const CORRELATION_ID = /^[A-Za-z0-9-]{1,64}$/;

export interface PositionView {
  readonly symbol: string;
  readonly qty: DecimalString;
  readonly avgPrice: DecimalString;
  readonly price: DecimalString | null;
  readonly unrealizedPnl: DecimalString | null;
  readonly realizedPnl: DecimalString;
}

export interface TradeMarker {
  /** Epoch seconds (the charts' time unit). */
  readonly time: number;
  readonly side: 'buy' | 'sell';
  readonly symbol: string;
  readonly orderId: string;
  readonly amount: DecimalString;
  readonly price: DecimalString | null;
}

/** Average fill price of an order, or null before any fill. */
function fillPrice(o: OrderRecord): DecimalString | null {
  return dec(o.filled).isZero() ? null : dec(o.cost).div(o.filled).toFixed();
}

function markers(orders: readonly OrderRecord[]): TradeMarker[] {
  return orders
    .filter((o) => !dec(o.filled).isZero())
    .map((o) => ({ time: Math.floor(Date.parse(o.updatedAt) / 1000), side: o.side, symbol: o.symbol, orderId: o.id, amount: o.filled, price: fillPrice(o) }))
    .sort((a, b) => a.time - b.time);
}

export class ConsoleReadModel {
  readonly #audit: DynamoDbAuditReader;
  readonly #circuits: DynamoDbCircuitStateReader;

  constructor(private readonly c: Container) {
    this.#audit = new DynamoDbAuditReader({ doc: c.doc, table: c.config.auditTable });
    this.#circuits = new DynamoDbCircuitStateReader({ doc: c.doc, table: c.config.stateTable, names: [...new Set([c.exchange.id, c.config.exchangeId])] });
  }

  get watchlist(): readonly string[] {
    return this.c.config.watchlist;
  }

  /** Everything the live panels show, in one read. */
  async overview() {
    const c = this.c;
    const now = c.clock.now();
    const [book, tickers, orders, heartbeats, health, pause, depths, circuits, control] = await Promise.all([
      c.accounts.get(c.config.quoteCurrency),
      c.exchange.fetchTickers(c.config.watchlist),
      c.orders.listRecent(CONSOLE_RECENT_ORDERS),
      c.heartbeats.list(),
      c.control.getReport('health'),
      c.control.getPause(),
      c.queues.depths(),
      this.#circuits.list(),
      this.#audit.latest(CONTROL_STREAM, CONSOLE_CONTROL_RECORDS),
    ]);
    const prices: Record<string, DecimalString> = Object.fromEntries(tickers.map((t) => [t.symbol, t.bid]));
    const positions: PositionView[] = Object.values(book?.positions ?? {})
      .filter((p) => !dec(p.qty).isZero())
      .map((p) => {
        const price = prices[p.symbol] ?? null;
        return { symbol: p.symbol, qty: p.qty, avgPrice: p.avgPrice, price, unrealizedPnl: price === null ? null : unrealizedPnl(p, price), realizedPnl: p.realizedPnl };
      });
    return {
      at: now.toISOString(),
      mode: c.config.mode,
      exchange: c.exchange.id,
      dataSource: c.exchange.source,
      currency: c.config.quoteCurrency,
      watchlist: c.config.watchlist,
      pause: { ...pause, active: isPauseActive(pause, now) },
      ledger: book ? { total: book.total, available: book.available, reserved: book.reserved, committed: book.committed } : null,
      equity: book ? equity(book, prices) : null,
      positions,
      orders: orders.map((o) => ({
        id: o.id,
        correlationId: o.correlationId,
        symbol: o.symbol,
        side: o.side,
        type: o.type,
        state: o.state,
        amount: o.amount,
        filled: o.filled,
        cost: o.cost,
        fees: o.fees,
        price: fillPrice(o),
        reason: o.reason ?? null,
        createdAt: o.createdAt,
        updatedAt: o.updatedAt,
      })),
      health: {
        status: typeof health?.status === 'string' ? health.status : 'UNKNOWN',
        at: typeof health?.at === 'string' ? health.at : null,
        reasons: Array.isArray(health?.reasons) ? (health.reasons as string[]) : [],
        heartbeats,
        dlqDepth: depths[EXECUTION_DLQ_NAME] ?? 0,
        queueDepths: depths,
        circuits,
      },
      control: control.map((r) => ({ at: r.at, type: r.type, data: r.data })),
    };
  }

  /** The equity curve and the fills to mark on it. */
  async equity() {
    const c = this.c;
    const [points, orders] = await Promise.all([c.equitySnapshots.latest(c.config.quoteCurrency, CONSOLE_EQUITY_POINTS), c.orders.listRecent(CONSOLE_RECENT_ORDERS)]);
    return {
      currency: c.config.quoteCurrency,
      points: points.map((p) => ({ time: Math.floor(Date.parse(p.at) / 1000), equity: p.equity, realizedPnl: p.realizedPnl })),
      markers: markers(orders),
    };
  }

  /** Candles of one watched symbol and its fills. @throws ValidationError for a symbol not watched. */
  async candles(symbol: string) {
    const c = this.c;
    if (!c.config.watchlist.includes(symbol)) throw new ValidationError(`symbol ${JSON.stringify(symbol)} is not on the watchlist`, [], { details: { watchlist: c.config.watchlist } });
    const [candles, orders] = await Promise.all([c.exchange.fetchCandles(symbol, CONSOLE_CANDLES), c.orders.listRecent(CONSOLE_RECENT_ORDERS)]);
    return {
      symbol,
      candles: candles.map((k) => ({ time: Math.floor(k.openTime / 1000), open: k.open, high: k.high, low: k.low, close: k.close })),
      markers: markers(orders.filter((o) => o.symbol === symbol)),
    };
  }

  /**
   * One intent's audit records, from acceptance to reconciliation, by correlation id.
   * @throws ValidationError for a malformed id; an unknown one gives an empty history.
   */
  async history(correlationId: string): Promise<{ correlationId: string; order: OrderRecord | null; records: AuditRecord[] }> {
    if (!CORRELATION_ID.test(correlationId)) throw new ValidationError('a correlation id is 1 to 64 letters, digits or dashes');
    const c = this.c;
    const order = (await c.orders.listRecent(CONSOLE_RECENT_ORDERS)).find((o) => o.correlationId === correlationId) ?? null;
    const symbols = order ? [order.symbol] : c.config.watchlist;
    const records: AuditRecord[] = [];
    for (const symbol of symbols) records.push(...(await this.#audit.byCorrelation(auditStream(symbol), correlationId)));
    records.sort((a, b) => a.at.localeCompare(b.at) || a.seq - b.seq);
    return { correlationId, order, records };
  }
}
