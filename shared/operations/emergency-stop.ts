/**
 * Cancels from the operator's side (RISK-2, EXE-15): one order, or the emergency stop. Both are
 * the cancel use case (use-cases/cancel-order.ts): each order under its symbol lease, through
 * CANCEL_REQUESTED, audited, on the exchange path the circuit breaker does not block.
 */
import { cancelOpenOrders, cancelOrder, type CancelDeps, type CancelResult } from '../use-cases/cancel-order.js';
import { pauseTrading } from './pause.js';
import type { OperatorDeps } from './ports.js';

export interface EmergencyStopInput {
  readonly reason: string;
  readonly author: string;
  /** Also cancel orders Tradewarden did not place (no `tw-` prefix) on the watched symbols. */
  readonly all?: boolean;
}

export interface EmergencyStopResult {
  readonly paused: true;
  /** Orders the exchange confirmed canceled. */
  readonly canceled: number;
  /** Orders that filled before their cancel reached them (booked). */
  readonly filled: number;
  /** Every cancel that failed, with its code and message. */
  readonly failures: readonly CancelResult[];
  readonly results: readonly CancelResult[];
}

type CancelPorts = Pick<OperatorDeps, 'config' | 'clock' | 'orders' | 'accounts' | 'audit' | 'locks' | 'cancelExchange'>;

/** The cancel use case's ports from the operator's, with the lease owner naming who cancels. */
export function cancelDeps(deps: CancelPorts, owner: string, sleep?: CancelDeps['sleep']): CancelDeps {
  return {
    clock: deps.clock,
    orders: deps.orders,
    accounts: deps.accounts,
    audit: deps.audit,
    locks: deps.locks,
    exchange: deps.cancelExchange,
    settings: { quoteCurrency: deps.config.quoteCurrency, owner, lockLeaseMs: deps.config.lockLeaseSeconds * 1000, symbols: deps.config.watchlist },
    ...(sleep ? { sleep } : {}),
  };
}

/**
 * Cancels one order Tradewarden follows.
 * @throws ValidationError for a malformed or unknown order id (nothing changes).
 */
export function cancelOneOrder(deps: CancelPorts, input: { readonly orderId: string; readonly reason: string; readonly author: string }): Promise<CancelResult> {
  return cancelOrder(cancelDeps(deps, `cancel:${input.author}`), input);
}

/**
 * 1. Pause trading (no new intent passes the scanner or the executor).
 * 2. Cancel every open order Tradewarden placed (with `all`, every open order on the watched
 *    symbols), going on past each failure.
 * 3. Audit the counts and every failure on the control stream.
 */
export async function emergencyStop(deps: CancelPorts & Pick<OperatorDeps, 'control'>, input: EmergencyStopInput): Promise<EmergencyStopResult> {
  await pauseTrading(deps, { reason: input.reason, author: input.author });
  const sweep = await cancelOpenOrders(cancelDeps(deps, `emergency-stop:${input.author}`), { reason: input.reason, author: input.author, all: input.all ?? false });
  const canceled = sweep.results.filter((r) => r.ok && r.outcome === 'canceled').length;
  const filled = sweep.results.filter((r) => r.ok && r.outcome === 'filled').length;
  await deps.audit.append(
    'control',
    {
      type: 'control.emergency-stop',
      data: { author: input.author, reason: input.reason, all: input.all ?? false, canceled, filled, failed: sweep.failures.length, failures: sweep.failures.map((f) => ({ orderId: f.orderId, symbol: f.symbol, outcome: f.outcome, code: f.error?.code })) },
    },
    deps.clock.now(),
  );
  return { paused: true, canceled, filled, failures: sweep.failures, results: sweep.results };
}
