/**
 * Checks an operator runs on demand: the health check (HLT-2) and the audit chain (OPS-4).
 */
import type { AuditVerification } from '../ports/audit-log.js';
import type { HealthReport } from '../use-cases/check-health.js';
import type { OperatorDeps } from './ports.js';

/** Runs the health check now, as its schedule would. */
export function runHealthCheck(deps: Pick<OperatorDeps, 'health'>): Promise<HealthReport> {
  return deps.health.run();
}

/** Walks every audit stream and names the first broken record of each bad one. */
export function verifyAudit(deps: Pick<OperatorDeps, 'audit'>): Promise<AuditVerification> {
  return deps.audit.verify();
}
