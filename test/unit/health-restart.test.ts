/**
 * Right after a restart, heartbeats left by the previous run do not make health FAILING: the
 * jobs are 'starting' until they have had one stale interval to run (OPS-9, HLT-2).
 */
import { describe, expect, it } from 'vitest';
import { executorChecks, jobChecks } from '../../shared/use-cases/health-rules.js';

const EVERY = 5;
const STALE_AFTER = 2;
const hourAgo = '2026-03-02T09:00:00.000Z';
const restart = new Date('2026-03-02T10:00:00.000Z');
const after = (ms: number) => new Date(restart.getTime() + ms);
const beat = { job: 'scanner' as const, lastSuccess: hourAgo, lastOutcome: 'success' as const };

describe('Function: jobChecks after a restart', () => {
  it('says FAILING for an hour-old heartbeat when no restart is known', () => {
    expect(jobChecks('scanner', beat, EVERY, STALE_AFTER, after(3_000), false)[0]?.status).toBe('FAILING');
  });

  it("says 'starting' for the previous run's heartbeat within one stale interval of the restart", () => {
    const [check] = jobChecks('scanner', beat, EVERY, STALE_AFTER, after(3_000), false, restart);
    expect(check).toMatchObject({ status: 'OK', detail: 'starting: no run since the restart 3 s ago' });
    expect(jobChecks('reconciler', undefined, EVERY, STALE_AFTER, after(3_000), false, restart)[0]?.detail).toMatch(/^starting/);
  });

  it('judges the job normally once it ran since the restart, or once the grace is over', () => {
    expect(jobChecks('scanner', { ...beat, lastSuccess: after(1_000).toISOString() }, EVERY, STALE_AFTER, after(3_000), false, restart)[0]?.detail).toMatch(/^last success 2 s ago/);
    expect(jobChecks('scanner', beat, EVERY, STALE_AFTER, after(11_000), false, restart)[0]?.status).toBe('FAILING');
  });

  it("ignores the previous run's executor failure, not this run's", () => {
    const failed = { job: 'executor' as const, lastOutcome: 'failure' as const, lastErrorCode: 'STORAGE_FAILED' };
    expect(executorChecks({ ...failed, lastFailure: hourAgo }, restart)).toEqual([]);
    expect(executorChecks({ ...failed, lastFailure: after(1_000).toISOString() }, restart)[0]?.status).toBe('DEGRADED');
  });
});
