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

/**
 * Walks every audit stream and names the first broken record of each bad one: the chain, the head
 * pointers, and every checkpoint ever stored (SEC-5), so a stream rewritten at or before a
 * checkpointed head fails even when the attacker recomputed the chain and moved the head.
 * `anchored` says whether a checkpoint store was there to check against.
 */
export async function verifyAudit(deps: Pick<OperatorDeps, 'audit' | 'checkpoints'>): Promise<AuditVerification & { readonly anchored: boolean }> {
  const checkpoints = deps.checkpoints ? await deps.checkpoints.list() : [];
  return { ...(await deps.audit.verify({ checkpoints })), anchored: deps.checkpoints !== undefined };
}
