/**
 * Operator commands from the chat (OPS-10): `/status`, `/pause <reason>`, `/resume`, `/profit`.
 *
 * Primary course:
 * 1. Ignore anything not from the configured chat (answered with nothing: a stranger learns
 *    nothing, not even that the bot is Tradewarden's), and record the refusal.
 * 2. Parse the command; an unknown one or a pause without a reason gets a usage answer and
 *    changes nothing.
 * 3. Run it through the operator's commands with the author `telegram:<user>`: a pause or a
 *    resume is audited by the command itself, like every other pause or resume.
 * 4. Answer in the chat.
 */
import { dec } from '../domain/money.js';
import { readable } from '../domain/notification.js';
import type { AuditLog } from '../ports/audit-log.js';
import type { Clock } from '../ports/clock.js';

/** What the chat may ask for; implemented by the operator use cases. */
export interface ChatOperations {
  status(): Promise<string>;
  profit(): Promise<string>;
  pause(reason: string, author: string): Promise<string>;
  resume(author: string): Promise<string>;
}

export interface ChatCommandDeps {
  readonly operations: ChatOperations;
  readonly audit: AuditLog;
  readonly clock: Clock;
  /** The one chat commands are taken from. */
  readonly chatId: string;
}

export interface ChatMessage {
  readonly chatId: string;
  readonly user: string;
  readonly text: string;
}

export const CHAT_USAGE = 'commands: /status, /pause <reason>, /resume, /profit';
/** Longest pause reason taken from the chat. */
export const CHAT_REASON_MAX = 200;

/** @returns the answer to send back, or null when nothing must be answered (a stranger). */
export async function handleChatCommand(deps: ChatCommandDeps, message: ChatMessage): Promise<string | null> {
  // 1. Only the configured chat.
  if (message.chatId !== deps.chatId) {
    await deps.audit.append('control', { type: 'chat.refused', data: { chatId: message.chatId, user: message.user.slice(0, 64), command: message.text.slice(0, 32) } }, deps.clock.now());
    return null;
  }
  // 2. Parse: "/cmd@botname args".
  const match = /^\/([a-z]+)(?:@\S+)?(?:\s+([\s\S]*))?$/.exec(message.text.trim());
  const command = match?.[1];
  const argument = (match?.[2] ?? '').trim();
  const author = `telegram:${message.user.slice(0, 64) || 'unknown'}`;
  // 3. Run.
  switch (command) {
    case 'status':
      return deps.operations.status();
    case 'profit':
      return deps.operations.profit();
    case 'pause':
      if (!argument) return `a pause needs a reason: /pause <reason>`;
      return deps.operations.pause(argument.slice(0, CHAT_REASON_MAX), author);
    case 'resume':
      return deps.operations.resume(author);
    default:
      return `unknown command; ${CHAT_USAGE}`;
  }
}

/** What `/status` and `/profit` report, gathered by the operator's status. */
export interface ChatSnapshot {
  readonly mode: string;
  readonly health: string;
  readonly paused: boolean;
  readonly pauseReason?: string;
  readonly currency: string;
  readonly equity: string;
  readonly openingBalance: string;
  readonly positions: readonly { readonly symbol: string; readonly qty: string; readonly unrealizedPnl: string | null; readonly realizedPnl: string }[];
  readonly recentOrders: number;
  readonly filledOrders: number;
}

const round = (v: string | null): string => (v === null ? '?' : readable(v, 6));

export function statusText(s: ChatSnapshot): string {
  const open = s.positions.filter((p) => !/^-?0(\.0+)?$/.test(p.qty));
  return [
    `Tradewarden ${s.mode}: health ${s.health}, ${s.paused ? `PAUSED (${s.pauseReason ?? ''})` : 'running'}`,
    `equity ${round(s.equity)} ${s.currency}`,
    `open positions ${open.length}${open.length ? `: ${open.map((p) => `${p.symbol} ${round(p.qty)}`).join(', ')}` : ''}`,
    `recent orders ${s.recentOrders}, filled ${s.filledOrders}`,
  ].join('\n');
}

export function profitText(s: ChatSnapshot): string {
  const sum = (values: readonly (string | null)[]) => values.reduce((acc, v) => acc.plus(v ?? '0'), dec('0'));
  const realized = sum(s.positions.map((p) => p.realizedPnl));
  const unrealized = sum(s.positions.map((p) => p.unrealizedPnl));
  const change = dec(s.equity).minus(s.openingBalance);
  return [
    `realized PnL ${round(realized.toFixed())} ${s.currency}`,
    `unrealized PnL ${round(unrealized.toFixed())} ${s.currency}`,
    `equity ${round(s.equity)} ${s.currency} (${change.isNegative() ? '' : '+'}${round(change.toFixed())} since the opening ${round(s.openingBalance)})`,
  ].join('\n');
}
