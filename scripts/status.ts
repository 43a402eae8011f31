/**
 * The one status line per cycle of `npm start` (`npm run ops -- status` shows the whole status).
 */
import { dec } from '../shared/domain/money.js';
import type { LocalRuntime, ExecutorDelivery } from '../local-runtime/runtime.js';
import type { ScanResult } from '../shared/use-cases/scan-market.js';
import { localOperatorDeps } from '../operator/local-transport.js';
import { collectStatus } from '../shared/operations/status.js';

export async function statusLine(runtime: LocalRuntime, cycle: number, scan: ScanResult, delivered: ExecutorDelivery): Promise<string> {
  const c = runtime.containers.health;
  const status = await collectStatus(localOperatorDeps(runtime));
  const filled = status.orders.filter((o) => o.state === 'FILLED').length;
  const open = Object.values(status.positions).filter((p) => !dec(p.qty).isZero()).length;
  const pause = scan.status === 'paused' ? ` PAUSED (${scan.pauseReason ?? ''})` : status.trading.startsWith('entries blocked') ? ` (${status.trading})` : '';
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
