/**
 * RELEASE_WITH_HEAD (PERF-2): the executor gives back the symbol lease and moves the head of the
 * symbol's audit stream (the same name, `symbol:<SYMBOL>`) in one conditional write, one request
 * per executed intent less than a release and a head update of their own.
 *
 * 1. Take the head move the audit log still has to make for the stream (the intent's records,
 *    appended in a batch past the head), if any.
 * 2. Release the lease, carrying that move. The write is fenced by the lease (owner and token):
 *    a holder whose lease expired and was taken moves nothing and clears nothing.
 * 3. Moved: tell the log, so that its `settle()` does not move it again. Not moved: the log's
 *    `settle()` makes the move with its own head update (forward only), as for every other writer.
 *
 * Why the fallback is rare: the head condition of the combined write fails only when another
 * writer moved the head past this intent's records, i.e. appended to the symbol's stream after
 * them. Every writer of a symbol's stream holds its lease (executor, reconciler, cancels) except
 * the reconciler's sweep of stale reservations; and the lease condition fails only for a holder
 * whose lease expired mid-intent. Correctness does not depend on which happened: the records are
 * stored either way, and the separate update is a no-op when the head is already there.
 */
import type { AuditLog } from '../ports/audit-log.js';
import type { Lease, LockService } from '../ports/lock-service.js';

export async function releaseWithHead(deps: { readonly locks: LockService; readonly audit: AuditLog }, lease: Lease): Promise<void> {
  const pending = deps.audit.pendingHead?.(lease.name);
  const moved = await deps.locks.release(lease, pending?.head);
  if (moved) pending?.written();
}
