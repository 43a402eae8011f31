/**
 * The scanner's decisions in the audit chain (OPS-4; issue 13's "scanner decisions are audited as
 * well"): after a scan that sent its intents, one record on the scanner's own stream with each
 * signal and why, each entry the protections blocked and why, and each symbol skipped and why
 * (bad or stale data, a failed fetch). A scan that decided nothing writes nothing, and neither
 * does a dry run, a paused scan or a duplicate slot.
 *
 * A failed append fails the invocation (never swallowed): the intents are already on the queue,
 * so the heartbeat records the failure and the error alarm fires; the retried slot is a duplicate
 * and sends nothing twice.
 */
import type { AuditLog, AuditRecord } from '../ports/audit-log.js';
import type { ScanResult } from './scan-market.js';

/** The scanner's audit stream: one record per deciding scan. */
export const SCANNER_AUDIT_STREAM = 'scanner';
export const SCAN_DECISIONS = 'scan.decisions';
/** Entries listed per kind in one record; beyond this they are only counted (a record stays far below DynamoDB's 400 KB). */
export const MAX_AUDITED_PER_KIND = 200;

export async function auditScanDecisions(audit: AuditLog, result: ScanResult, at: Date): Promise<AuditRecord | null> {
  if (result.status !== 'scanned' || result.dryRun) return null;
  const skipped = [...result.rejectedData.map((r) => ({ symbol: r.symbol, reason: r.reason })), ...result.failedSymbols.map((f) => ({ symbol: f.symbol, reason: `${f.code}: ${f.reason}` }))];
  if (result.signals.length === 0 && result.blocked.length === 0 && skipped.length === 0) return null;
  const first = <T>(list: readonly T[]) => list.slice(0, MAX_AUDITED_PER_KIND);
  return audit.append(
    SCANNER_AUDIT_STREAM,
    {
      type: SCAN_DECISIONS,
      correlationId: result.slot,
      data: {
        slot: result.slot,
        source: result.source,
        evaluated: result.evaluated,
        signals: first(result.signals.map((s) => ({ symbol: s.symbol, side: s.side, strategy: s.strategy, reason: s.reason }))),
        intents: first(result.intents.map((i) => i.id)),
        blocked: first(result.blocked.map((b) => ({ symbol: b.symbol, side: b.side, strategy: b.strategy, reason: b.reason }))),
        skipped: first(skipped),
        counts: { signals: result.signals.length, blocked: result.blocked.length, skipped: skipped.length, unreached: result.unreached.length },
      },
    },
    at,
  );
}
