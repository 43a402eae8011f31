/**
 * What the stack is doing: mode, data source, jobs, orders, positions, ledger, balances, health.
 * Shown by `npm start` (one line per cycle) and `npm run ops -- status`.
 */
import { equity } from '../domain/account.js';
import { isDust } from '../domain/entry-limits.js';
import { dec } from '../domain/money.js';
import { readScanMarker } from '../use-cases/scan-marker.js';
import { tradingSummary } from '../use-cases/pause.js';
import type { OperatorDeps } from './ports.js';

/** Recent orders shown by status. */
export const STATUS_RECENT_ORDERS = 20;
/** Open orders shown by status. */
export const STATUS_OPEN_ORDERS = 100;

export async function collectStatus(deps: Pick<OperatorDeps, 'config' | 'clock' | 'accounts' | 'exchange' | 'orders' | 'heartbeats' | 'control' | 'tunables'>) {
  const { config } = deps;
  const book = await deps.accounts.get(config.quoteCurrency);
  // The watchlist and every position, off the watchlist too, in one request.
  const held = Object.values(book?.positions ?? {}).filter((p) => dec(p.qty).gt(0));
  const tickers = await deps.exchange.fetchTickers([...new Set([...config.watchlist, ...held.map((p) => p.symbol)])]);
  const prices = Object.fromEntries(tickers.map((t) => [t.symbol, t.bid]));
  // RISK-9: positions worth less than their market's minimum order, at the bid.
  const rules = held.length > 0 ? await deps.exchange.loadMarkets() : {};
  const dust = held.filter((p) => isDust(p, rules[p.symbol], prices[p.symbol] ?? p.avgPrice)).map((p) => p.symbol);
  const orders = await deps.orders.listRecent(STATUS_RECENT_ORDERS);
  const open = await deps.orders.listOpen(STATUS_OPEN_ORDERS);
  const heartbeats = await deps.heartbeats.list();
  const health = await deps.control.getReport('health');
  const scan = await deps.control.getReport('scan');
  const reconciliation = await deps.control.getReport('reconciliation');
  const pause = await deps.control.getPause();
  const scanMarker = await readScanMarker({ risk: deps.tunables, clock: deps.clock });
  const balances = await deps.exchange.fetchBalances();
  return {
    mode: config.mode,
    exchange: deps.exchange.id,
    dataSource: deps.exchange.source,
    lastScan: scan,
    scanMarker,
    jobs: heartbeats,
    pause,
    /** What trading may do now: "trading", "paused: ...", or "entries blocked by drift: ..." with the figures (RISK-8). */
    trading: tradingSummary(pause, deps.clock.now()),
    orders,
    openOrders: open.items,
    positions: book?.positions ?? {},
    /** Symbols whose position is dust (RISK-9): not counted as a position, no bar to an entry. */
    dust,
    ledger: book ? { currency: book.currency, total: book.total, available: book.available, reserved: book.reserved, committed: book.committed } : null,
    equity: book ? equity(book, prices) : '0',
    /** The bid of each watched or held symbol: what the positions are valued at. */
    prices,
    exchangeBalances: balances,
    health,
    reconciliation,
  };
}

export type StackStatus = Awaited<ReturnType<typeof collectStatus>>;
