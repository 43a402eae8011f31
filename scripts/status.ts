/**
 * The status shown by `npm start` (one line per cycle) and `npm run ops -- status`.
 */
import { equity } from '../shared/domain/account.js';
import { dec } from '../shared/domain/money.js';
import type { LocalRuntime, ExecutorDelivery } from '../local-runtime/runtime.js';
import type { ScanResult } from '../shared/use-cases/scan-market.js';
import type { Container } from '../shared/runtime/container.js';
import { DynamoDbTunablesStore } from '../shared/adapters/aws/dynamodb-tunables-store.js';
import { readScanMarker } from '../shared/use-cases/scan-marker.js';

/** Recent orders shown by status. */
export const STATUS_RECENT_ORDERS = 20;

export async function statusLine(runtime: LocalRuntime, cycle: number, scan: ScanResult, delivered: ExecutorDelivery): Promise<string> {
  const c = runtime.containers.health;
  const status = await collectStatus(c);
  const filled = status.orders.filter((o) => o.state === 'FILLED').length;
  const open = Object.values(status.positions).filter((p) => !dec(p.qty).isZero()).length;
  const pause = scan.status === 'paused' ? ` PAUSED (${scan.pauseReason ?? ''})` : '';
  return [
    `${new Date().toISOString()} cycle ${cycle}`,
    `source ${scan.source}`,
    `signals ${scan.signals.length}`,
    `orders +${delivered.succeeded}${delivered.failed ? ` (${delivered.failed} retrying)` : ''} (${status.orders.length} recent, ${filled} filled)`,
    `positions ${open}`,
    `equity ${dec(status.equity).toDecimalPlaces(2).toFixed()} ${c.config.quoteCurrency}`,
    `health ${String(status.health?.status ?? 'unknown')}${pause}`,
  ].join(' | ');
}

export async function collectStatus(c: Container) {
  const book = await c.accounts.get(c.config.quoteCurrency);
  const tickers = await c.exchange.fetchTickers(c.config.watchlist);
  const prices = Object.fromEntries(tickers.map((t) => [t.symbol, t.bid]));
  const orders = await c.orders.listRecent(STATUS_RECENT_ORDERS);
  const open = await c.orders.listOpen(100);
  const heartbeats = await c.heartbeats.list();
  const health = await c.control.getReport('health');
  const scan = await c.control.getReport('scan');
  const reconciliation = await c.control.getReport('reconciliation');
  const pause = await c.control.getPause();
  const scanMarker = await readScanMarker({ risk: new DynamoDbTunablesStore({ doc: c.doc, table: c.config.stateTable }), clock: c.clock });
  const balances = await c.exchange.fetchBalances();
  return {
    mode: c.config.mode,
    exchange: c.exchange.id,
    dataSource: c.exchange.source,
    lastScan: scan,
    scanMarker,
    jobs: heartbeats,
    pause,
    orders,
    openOrders: open.items,
    positions: book?.positions ?? {},
    ledger: book ? { currency: book.currency, total: book.total, available: book.available, reserved: book.reserved, committed: book.committed } : null,
    equity: book ? equity(book, prices) : '0',
    exchangeBalances: balances,
    health,
    reconciliation,
  };
}
