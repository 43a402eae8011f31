/**
 * What the console may change, as a port: the server validates input and authenticates, then
 * calls one of these. The implementation runs the operator's commands (the same code as
 * `npm run ops`), so the console and the terminal cannot drift apart.
 */
import type { LocalRuntime } from '../local-runtime/runtime.js';
import { commands, type OpsArgs } from '../scripts/ops.js';
import { ValidationError } from '../shared/domain/errors.js';
import { unrealizedPnl } from '../shared/domain/position.js';
import { profitText, statusText, type ChatOperations, type ChatSnapshot } from '../shared/use-cases/chat-commands.js';
import { isPauseActive } from '../shared/use-cases/pause.js';
import { collectStatus } from '../scripts/status.js';

/** Author recorded in the audit log for every change made from the console (SEC-7). */
export const CONSOLE_AUTHOR = 'console';

export interface ConsoleActions {
  pause(input: { readonly reason: string }): Promise<unknown>;
  resume(): Promise<unknown>;
  emergencyStop(input: { readonly reason: string }): Promise<unknown>;
  /** The stored tunables and the values in effect. */
  tunables(): Promise<unknown>;
  /** @throws ValidationError naming the problem when the value is refused (nothing is written). */
  setTunable(input: { readonly key: string; readonly value: string }): Promise<unknown>;
}

/** Runs one ops command and returns what it printed, parsed as JSON. */
async function run(runtime: LocalRuntime, name: string, args: Partial<OpsArgs>): Promise<unknown> {
  const command = commands[name];
  if (!command) throw new ValidationError(`no operator command ${name}`);
  const lines: string[] = [];
  await command(runtime, { json: true, operands: [], author: CONSOLE_AUTHOR, ...args, out: (line) => lines.push(line) });
  const parsed = lines.map((line) => JSON.parse(line) as unknown);
  return parsed.length === 1 ? parsed[0] : parsed;
}

/** The console's actions on a runtime (embedded, or a deployed stack's tables). */
export function operatorActions(runtime: LocalRuntime): ConsoleActions {
  return {
    pause: ({ reason }) => run(runtime, 'pause', { reason }),
    resume: () => run(runtime, 'resume', {}),
    emergencyStop: ({ reason }) => run(runtime, 'emergency-stop', { reason }),
    tunables: () => run(runtime, 'get', {}),
    setTunable: ({ key, value }) => run(runtime, 'set', { operands: [key, value] }),
  };
}

/** The chat's commands (OPS-10) on a runtime: the same operator commands as the console's. */
export function chatOperations(runtime: LocalRuntime): ChatOperations {
  const snapshot = async (): Promise<ChatSnapshot> => {
    const c = runtime.containers.health;
    const status = await collectStatus(c);
    const prices = Object.fromEntries((await c.exchange.fetchTickers(c.config.watchlist)).map((t) => [t.symbol, t.bid]));
    return {
      mode: status.mode,
      health: String(status.health?.status ?? 'unknown'),
      paused: isPauseActive(status.pause, c.clock.now()),
      ...(status.pause.reason ? { pauseReason: status.pause.reason } : {}),
      currency: c.config.quoteCurrency,
      equity: status.equity,
      openingBalance: c.config.paperInitialQuote,
      positions: Object.values(status.positions).map((p) => ({ symbol: p.symbol, qty: p.qty, realizedPnl: p.realizedPnl, unrealizedPnl: prices[p.symbol] ? unrealizedPnl(p, prices[p.symbol] ?? '0') : null })),
      recentOrders: status.orders.length,
      filledOrders: status.orders.filter((o) => o.state === 'FILLED').length,
    };
  };
  return {
    status: async () => statusText(await snapshot()),
    profit: async () => profitText(await snapshot()),
    pause: async (reason, author) => {
      await run(runtime, 'pause', { reason, author });
      return `paused: ${reason}`;
    },
    resume: async (author) => {
      await run(runtime, 'resume', { author });
      return 'resumed';
    },
  };
}
