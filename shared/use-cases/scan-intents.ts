/**
 * Steps 9 and 10 of a scan: its signals become intents whose ids are derived from the schedule
 * slot (so the same slot scanned twice sends the same ids), its entries become pending entries of
 * the risk record (EXE-13), and the risk record, the intents and the scan report are written, in
 * that order.
 */
import { intentIdFor, type Intent } from '../domain/intent.js';
import type { DecimalString } from '../domain/money.js';
import type { PendingEntry, RiskState } from '../domain/protections.js';
import type { Signal } from '../domain/strategies/strategy.js';
import type { ScanDeps } from './scan-market.js';

/** One intent per signal, for `slot`, created `now` and expiring `ttlSeconds` later. */
export function intentsFor(signals: readonly Signal[], slot: string, now: Date, ttlSeconds: number): Intent[] {
  // Most scans signal nothing: no times to format.
  if (signals.length === 0) return [];
  const createdAt = now.toISOString();
  const expiresAt = new Date(now.getTime() + ttlSeconds * 1000).toISOString();
  return signals.map((s) => {
    const id = intentIdFor({ strategy: s.strategy, symbol: s.symbol, side: s.side, slot });
    return {
      id,
      strategy: s.strategy,
      symbol: s.symbol,
      side: s.side,
      type: 'market',
      ...(s.quoteAmount ? { quoteAmount: s.quoteAmount } : {}),
      ...(s.amount ? { amount: s.amount } : {}),
      createdAt,
      expiresAt,
      correlationId: id,
      reason: s.reason.slice(0, 200),
    };
  });
}

/**
 * The risk record to write: `risk` with the entries still in flight and this scan's entries as
 * pending (none: the record as it is).
 */
export function withPendingEntries(risk: RiskState, inFlight: Readonly<Record<string, PendingEntry & { counted: boolean }>>, intents: readonly Intent[], orderQuoteAmount: DecimalString, slot: string): RiskState {
  const pendingEntries: Record<string, PendingEntry> = {};
  let any = false;
  for (const [symbol, { counted: _counted, ...entry }] of Object.entries(inFlight)) {
    pendingEntries[symbol] = entry;
    any = true;
  }
  for (const intent of intents) {
    if (intent.side !== 'buy') continue;
    pendingEntries[intent.symbol] = { intentId: intent.id, quote: intent.quoteAmount ?? orderQuoteAmount, expiresAt: intent.expiresAt, slot };
    any = true;
  }
  return any ? { ...risk, pendingEntries } : risk;
}

/** What the scan report for health says beyond the slot's identity. */
export type ScanReportBody = Readonly<Record<string, unknown>>;

/**
 * Writes the scan's outcome: the risk record first, conditional on the version the scan read (of
 * two concurrent scans only one sends, and an exit is never sent without its cooldown), then the
 * intents, then the report for health.
 */
export async function commitScan(deps: ScanDeps, risk: RiskState, riskVersion: number, intents: readonly Intent[], now: Date, report: ScanReportBody): Promise<void> {
  await deps.risk.putRiskState(risk, riskVersion, now);
  if (intents.length > 0) await deps.queue.send(intents);
  await deps.control.putReport('scan', report);
}
