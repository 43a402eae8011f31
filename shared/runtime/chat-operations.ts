/**
 * The chat's commands (OPS-10) over a container's ports: what `/status` and `/profit` report,
 * and pause and resume through the operator's use cases, so a chat pause is the same record,
 * audited the same way, as one from `ops` or the console.
 */
import { equity } from '../domain/account.js';
import { unrealizedPnl } from '../domain/position.js';
import { profitText, statusText, type ChatOperations, type ChatSnapshot } from '../use-cases/chat-commands.js';
import { pauseTrading, resumeTrading } from '../operations/pause.js';
import { isPauseActive } from '../use-cases/pause.js';
import type { Container } from './container.js';

/** Orders counted by `/status`. */
export const CHAT_RECENT_ORDERS = 20;

export async function chatSnapshot(c: Container): Promise<ChatSnapshot> {
  const [book, tickers, orders, pause, health] = await Promise.all([
    c.accounts.get(c.config.quoteCurrency),
    c.exchange.fetchTickers(c.config.watchlist),
    c.orders.listRecent(CHAT_RECENT_ORDERS),
    c.control.getPause(),
    c.control.getReport('health'),
  ]);
  const prices = Object.fromEntries(tickers.map((t) => [t.symbol, t.bid]));
  return {
    mode: c.config.mode,
    health: typeof health?.status === 'string' ? health.status : 'unknown',
    paused: isPauseActive(pause, c.clock.now()),
    ...(pause.reason ? { pauseReason: pause.reason } : {}),
    currency: c.config.quoteCurrency,
    equity: book ? equity(book, prices) : '0',
    openingBalance: c.config.paperInitialQuote,
    positions: Object.values(book?.positions ?? {}).map((p) => ({ symbol: p.symbol, qty: p.qty, realizedPnl: p.realizedPnl, unrealizedPnl: prices[p.symbol] ? unrealizedPnl(p, prices[p.symbol] ?? '0') : null })),
    recentOrders: orders.length,
    filledOrders: orders.filter((o) => o.state === 'FILLED').length,
  };
}

export function containerChatOperations(c: Container): ChatOperations {
  return {
    status: async () => statusText(await chatSnapshot(c)),
    profit: async () => profitText(await chatSnapshot(c)),
    pause: async (reason, author) => {
      await pauseTrading(c, { reason, author });
      return `paused: ${reason}`;
    },
    resume: async (author) => {
      await resumeTrading(c, { author });
      return 'resumed';
    },
  };
}
