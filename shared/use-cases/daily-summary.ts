/**
 * The daily summary (OPS-10): equity, realized and unrealized PnL, fills of the last day, open
 * positions, health and pause, as one DailySummary event the notifier sends like any other.
 * Its event id is the day, so a retried or repeated run sends it once.
 */
import { equity } from '../domain/account.js';
import { DomainEventType, type DomainEvent } from '../domain/domain-events.js';
import { Decimal, dec, str } from '../domain/money.js';
import { unrealizedPnl } from '../domain/position.js';
import type { AccountStore } from '../ports/account-store.js';
import type { Clock } from '../ports/clock.js';
import type { ControlStore } from '../ports/control-store.js';
import type { Exchange } from '../ports/exchange.js';
import type { OrderStore } from '../ports/order-store.js';
import { isPauseActive } from './pause.js';

/** Orders read to count the day's fills. */
export const SUMMARY_ORDERS = 500;
const DAY_MS = 86_400_000;

export interface DailySummaryDeps {
  readonly accounts: Pick<AccountStore, 'get'>;
  readonly orders: Pick<OrderStore, 'listRecent'>;
  readonly control: Pick<ControlStore, 'getPause' | 'getReport'>;
  readonly exchange: Pick<Exchange, 'fetchTickers'>;
  readonly clock: Clock;
  readonly settings: { readonly quoteCurrency: string; readonly watchlist: readonly string[] };
}

export async function dailySummary(deps: DailySummaryDeps): Promise<DomainEvent> {
  const now = deps.clock.now();
  const [book, tickers, orders, pause, health] = await Promise.all([
    deps.accounts.get(deps.settings.quoteCurrency),
    deps.exchange.fetchTickers(deps.settings.watchlist),
    deps.orders.listRecent(SUMMARY_ORDERS),
    deps.control.getPause(),
    deps.control.getReport('health'),
  ]);
  const prices = Object.fromEntries(tickers.map((t) => [t.symbol, t.bid]));
  const positions = Object.values(book?.positions ?? {});
  const open = positions.filter((p) => !dec(p.qty).isZero());
  const realized = positions.reduce((acc, p) => acc.plus(p.realizedPnl), new Decimal(0));
  const unrealized = open.reduce((acc, p) => acc.plus(prices[p.symbol] ? unrealizedPnl(p, prices[p.symbol] ?? '0') : '0'), new Decimal(0));
  const since = new Date(now.getTime() - DAY_MS).toISOString();
  const day = now.toISOString().slice(0, 10);
  return {
    detailType: DomainEventType.DailySummary,
    detail: {
      eventId: `DailySummary:${day}`,
      at: now.toISOString(),
      day,
      currency: deps.settings.quoteCurrency,
      equity: book ? equity(book, prices) : '0',
      realizedPnl: str(realized),
      unrealizedPnl: str(unrealized),
      fills: orders.filter((o) => o.updatedAt >= since && !dec(o.filled).isZero()).length,
      openPositions: open.length,
      health: typeof health?.status === 'string' ? health.status : 'unknown',
      paused: isPauseActive(pause, now),
    },
  };
}
