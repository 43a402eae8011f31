/**
 * The scanner's last-slot marker (DATA-9): the latest schedule slot whose scan sent its intents.
 * A slot at or before it is not scanned again. The scanner refuses event times more than one
 * period ahead, so the marker cannot run ahead of the clock through the scanner; if it ever did
 * (a record restored from elsewhere, a clock jump), every real scan would be a duplicate. Operators
 * see it in `ops status` and reset it here, with an audit record.
 *
 * Primary course of the reset:
 * 1. Read the risk record (marker and version).
 * 2. Write it back without the marker, conditional on that version (a scan that wrote meanwhile
 *    makes the reset fail with ConcurrentModificationError; run it again).
 * 3. Append `control.scan-marker-reset` to the control audit stream: who, why, the old marker.
 * Scanning the current slot again is safe: its intent ids are the same, and the queue and the
 * executor deduplicate them.
 */
import type { AuditLog } from '../ports/audit-log.js';
import type { Clock } from '../ports/clock.js';
import type { RiskStateStore } from '../ports/tunables-store.js';

export interface ScanMarker {
  readonly lastSlot: string | null;
  /** The marker lies after the current time: no real scan can pass it. */
  readonly aheadOfClock: boolean;
}

export async function readScanMarker(deps: { readonly risk: RiskStateStore; readonly clock: Clock }): Promise<ScanMarker> {
  const { state } = await deps.risk.getRiskState();
  const lastSlot = state.lastSlot ?? null;
  return { lastSlot, aheadOfClock: lastSlot !== null && Date.parse(lastSlot) > deps.clock.now().getTime() };
}

export interface ResetScanMarkerDeps {
  readonly risk: RiskStateStore;
  readonly audit: AuditLog;
  readonly clock: Clock;
}

export async function resetScanMarker(deps: ResetScanMarkerDeps, input: { readonly author: string; readonly reason: string }): Promise<{ readonly previous: string | null }> {
  const now = deps.clock.now();
  const stored = await deps.risk.getRiskState();
  const { lastSlot, ...rest } = stored.state;
  await deps.risk.putRiskState(rest, stored.version, now);
  await deps.audit.append('control', { type: 'control.scan-marker-reset', data: { previous: lastSlot ?? null, author: input.author, reason: input.reason } }, now);
  return { previous: lastSlot ?? null };
}
