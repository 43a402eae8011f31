/**
 * Operator use cases (OPS-7): everything an operator does to a running stack, written once over
 * ports (`OperatorDeps`). The transports in `operator/` provide the ports for the embedded local
 * stack or a deployed one; `npm run ops` and the console only pick a transport and call these.
 *
 * To add a command: write the use case here over `OperatorDeps` (add a port there when it needs
 * one, and provide it in both transports), then give it a line in `scripts/ops.ts`.
 */
export type { DeadLetterRedrive, ExportSink, ExportSource, ExportStream, HealthRunner, ImportTarget, OperatorDeps, RedriveResult, TimeWindow } from './ports.js';
export { NotConfirmedError, StackUnavailableError } from './errors.js';
export { pauseTrading, resumeTrading, type PauseInput } from './pause.js';
export { cancelOneOrder, emergencyStop, type EmergencyStopInput, type EmergencyStopResult } from './emergency-stop.js';
export type { CancelOutcome, CancelResult } from '../use-cases/cancel-order.js';
export { effectiveTunables, getTunables, setTunable, tunablesKeyPath, type SetTunableInput, type SetTunableResult, type TunablesView } from './tunables.js';
export { collectStatus, STATUS_OPEN_ORDERS, STATUS_RECENT_ORDERS, type StackStatus } from './status.js';
export { runHealthCheck, verifyAudit } from './checks.js';
export { redriveDeadLetters } from './redrive.js';
export { clearScanMarker, type ScanMarker } from './scan-marker.js';
export { exportState, fillsOf, importState, type ExportSummary, type Fill, type ImportSource } from './export-state.js';
