/**
 * What the console may change, as a port: the server validates input and authenticates, then
 * calls one of these. The implementation runs the operator's commands (the same code as
 * `npm run ops`), so the console and the terminal cannot drift apart.
 */
import type { LocalRuntime } from '../local-runtime/runtime.js';
import { commands, type OpsArgs } from '../scripts/ops.js';
import { ValidationError } from '../shared/domain/errors.js';
import { containerChatOperations } from '../shared/runtime/chat-operations.js';
import type { ChatOperations } from '../shared/use-cases/chat-commands.js';

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

/** The chat's commands (OPS-10) on a runtime: the same use cases as the notifier function's. */
export function chatOperations(runtime: LocalRuntime): ChatOperations {
  return containerChatOperations(runtime.containers.health);
}
