/**
 * What the reconciler does with one order, as a pure decision over plain data (REC-1, REC-2,
 * EXE-10): `decideReconciliation(local, remote, now, settings)`. The use case
 * (use-cases/reconcile-order.ts) does the I/O: it asks first without the exchange's view
 * (`remote` undefined), looks the order up when the answer is `lookup`, asks again with what
 * the exchange said, and commits the events of an `apply`.
 *
 * Rules, in order:
 * - A live order changed within the settle time is left to the executor (scheduled pass only).
 * - NEW (claimed, never sent): once older than the lost grace nothing will send it: Expired.
 * - A live order the exchange reports: Reported. One it does not find: NotFound, and Lost
 *   (FAILED) with the answer that makes `lostAfterNotFound` answers spanning `lostGraceMs`
 *   (timing.ts). "Not found" is an answer; a network error never reaches this function.
 * - An ended order still watched (`watchUntil`): a report with more fill, or a lost order open
 *   again, is a LateFill; once the watch is over, WatchEnded.
 * - `confirm` mode (settling in-flight orders before balances are measured): reports are
 *   applied, "not found" changes nothing and nothing is expired or unwatched.
 */
import { applyOrderEvents, mergeFill, type OrderDecision, type OrderEvent, type OrderReport } from './order-aggregate.js';
import { dec } from './money.js';
import { isTerminal, type OrderRecord } from './order.js';

export interface ReconciliationSettings {
  /** `pass`: the scheduled pass; `confirm`: settle in-flight orders, answers of "not found" count for nothing. */
  readonly mode: 'pass' | 'confirm';
  readonly settleMs: number;
  readonly lostAfterNotFound: number;
  readonly lostGraceMs: number;
}

/** The exchange's answer to a lookup by client order id. */
export type RemoteOrder = { readonly found: OrderReport } | { readonly notFound: true };

export type ReconciliationOutcome = 'unchanged' | 'updated' | 'filled' | 'not-found' | 'lost' | 'expired' | 'late-fill' | 'settling';

export type ReconciliationAction =
  | { readonly kind: 'leave'; readonly outcome: 'unchanged' | 'settling' }
  | { readonly kind: 'lookup' }
  | {
      readonly kind: 'apply';
      readonly events: readonly OrderEvent[];
      readonly outcome: Exclude<ReconciliationOutcome, 'settling'>;
      /** The aggregate's decision of `events` on the order, where deciding needed it: the commit does not apply them again. */
      readonly decision?: OrderDecision;
    };

const LEAVE: ReconciliationAction = { kind: 'leave', outcome: 'unchanged' };

export function decideReconciliation(local: OrderRecord, remote: RemoteOrder | undefined, now: Date, settings: ReconciliationSettings): ReconciliationAction {
  const at = now;
  if (isTerminal(local.state)) return decideEnded(local, remote, now, settings);
  if (settings.mode === 'pass' && now.getTime() - Date.parse(local.updatedAt) < settings.settleMs) return { kind: 'leave', outcome: 'settling' };
  if (local.state === 'NEW') {
    if (settings.mode === 'confirm' || now.getTime() - Date.parse(local.createdAt) < settings.lostGraceMs) return LEAVE;
    return { kind: 'apply', events: [{ type: 'Expired', at, reason: 'claimed but never sent' }], outcome: 'expired' };
  }
  if (!remote) return { kind: 'lookup' };
  if ('found' in remote) {
    const events: OrderEvent[] = [{ type: 'Reported', at, report: remote.found }];
    const decision = applyOrderEvents(local, events);
    if (!decision.changed) return LEAVE;
    return { kind: 'apply', events, outcome: dec(decision.next.filled).gt(dec(local.filled)) ? 'filled' : 'updated', decision };
  }
  if (settings.mode === 'confirm') return LEAVE;
  const count = local.notFoundCount + 1;
  const first = local.firstNotFoundAt ?? now.toISOString();
  if (count >= settings.lostAfterNotFound && now.getTime() - Date.parse(first) >= settings.lostGraceMs) {
    return { kind: 'apply', events: [{ type: 'NotFound', at }, { type: 'Lost', at, reason: `not found on the exchange ${count} times since ${first}` }], outcome: 'lost' };
  }
  return { kind: 'apply', events: [{ type: 'NotFound', at }], outcome: 'not-found' };
}

function decideEnded(local: OrderRecord, remote: RemoteOrder | undefined, now: Date, settings: ReconciliationSettings): ReconciliationAction {
  if (!local.watchUntil || local.state === 'FILLED') return LEAVE;
  if (!remote) return { kind: 'lookup' };
  if ('found' in remote) {
    const report = remote.found;
    const more = dec(mergeFill(local, report).filled).gt(dec(local.filled));
    if (more || (report.status === 'open' && local.state === 'FAILED')) return { kind: 'apply', events: [{ type: 'LateFill', at: now, report }], outcome: 'late-fill' };
  }
  if (settings.mode === 'pass' && now.getTime() >= Date.parse(local.watchUntil)) return { kind: 'apply', events: [{ type: 'WatchEnded', at: now }], outcome: 'updated' };
  return LEAVE;
}
