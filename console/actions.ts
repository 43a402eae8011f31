/**
 * What the console may change, as a port: the server validates input and authenticates, then
 * calls one of these. They are the operator use cases (shared/operations), the same code as
 * `npm run ops`, on whichever transport the console was opened with (the embedded stack or a
 * deployed one), so the console and the terminal cannot drift apart.
 */
import { cancelOneOrder, emergencyStop, getTunables, pauseTrading, resumeTrading, setTunable, type OperatorDeps } from '../shared/operations/index.js';
import type { LocalRuntime } from '../local-runtime/runtime.js';
import { containerChatOperations } from '../shared/runtime/chat-operations.js';
import type { ChatOperations } from '../shared/use-cases/chat-commands.js';

/** Author recorded in the audit log for every change made from the console (SEC-7). */
export const CONSOLE_AUTHOR = 'console';

export interface ConsoleActions {
  pause(input: { readonly reason: string }): Promise<unknown>;
  resume(): Promise<unknown>;
  /** Pause, then cancel every open order Tradewarden placed; failed cancels are in the result. */
  emergencyStop(input: { readonly reason: string }): Promise<unknown>;
  /**
   * Cancels one order (the cancel use case, as `ops cancel`); a failed cancel is in the result.
   * @throws ValidationError for an unknown order id (nothing changes).
   */
  cancelOrder(input: { readonly orderId: string; readonly reason: string }): Promise<unknown>;
  /** The stored tunables and the values in effect. */
  tunables(): Promise<unknown>;
  /** @throws ValidationError naming the problem when the value is refused (nothing is written). */
  setTunable(input: { readonly key: string; readonly value: string }): Promise<unknown>;
}

/** The console's actions through the operator use cases, audited with the author "console". */
export function operatorActions(deps: OperatorDeps): ConsoleActions {
  return {
    pause: ({ reason }) => pauseTrading(deps, { reason, author: CONSOLE_AUTHOR }),
    resume: () => resumeTrading(deps, { author: CONSOLE_AUTHOR }),
    emergencyStop: ({ reason }) => emergencyStop(deps, { reason, author: CONSOLE_AUTHOR }),
    cancelOrder: ({ orderId, reason }) => cancelOneOrder(deps, { orderId, reason, author: CONSOLE_AUTHOR }),
    tunables: () => getTunables(deps),
    setTunable: ({ key, value }) => setTunable(deps, { key, value, author: CONSOLE_AUTHOR }),
  };
}

/** The chat's commands (OPS-10) on a runtime: the same use cases as the notifier function's. */
export function chatOperations(runtime: LocalRuntime): ChatOperations {
  return containerChatOperations(runtime.containers.health);
}
