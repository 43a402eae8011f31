/**
 * Emergency stop: pause first (no new intent passes the scanner), then cancel every open order on
 * the exchange, and audit how many were canceled.
 */
import type { OperatorDeps } from './ports.js';
import { pauseTrading } from './pause.js';

export interface EmergencyStopInput {
  readonly reason: string;
  readonly author: string;
}

/**
 * 1. Pause trading.
 * 2. Cancel each open order on the exchange.
 * 3. Audit the count.
 */
export async function emergencyStop(deps: Pick<OperatorDeps, 'clock' | 'control' | 'audit' | 'exchange'>, input: EmergencyStopInput): Promise<{ canceled: number }> {
  await pauseTrading(deps, { reason: input.reason, author: input.author });
  let canceled = 0;
  for (const o of await deps.exchange.fetchOpenOrders()) {
    await deps.exchange.cancelOrder(o.symbol, o.clientOrderId);
    canceled += 1;
  }
  await deps.audit.append('control', { type: 'control.emergency-stop', data: { canceled } }, deps.clock.now());
  return { canceled };
}
