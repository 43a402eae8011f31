/**
 * The scanner's last-slot marker (DATA-9) as an operator sees it: shown by status, cleared by
 * `ops reset-scan-marker` with an audit record (the use case is shared/use-cases/scan-marker.ts).
 */
import { resetScanMarker } from '../use-cases/scan-marker.js';
import type { OperatorDeps } from './ports.js';

export type { ScanMarker } from '../use-cases/scan-marker.js';

export function clearScanMarker(deps: Pick<OperatorDeps, 'tunables' | 'audit' | 'clock'>, input: { readonly author: string; readonly reason: string }): Promise<{ readonly previous: string | null }> {
  return resetScanMarker({ risk: deps.tunables, audit: deps.audit, clock: deps.clock }, input);
}

