import { describe, expect, it } from 'vitest';
import {
  circuitCheck,
  executorChecks,
  jobChecks,
  lockCheck,
  marketDataCheck,
  scanCoverageCheck,
  overall,
  pauseAgeSeconds,
  pauseCheck,
  queueCheck,
  reconciliationChecks,
} from '../../shared/use-cases/health-rules.js';

const NOW = new Date('2026-01-01T12:00:00Z');
const ago = (seconds: number): string => new Date(NOW.getTime() - seconds * 1000).toISOString();

describe('Function: jobChecks', () => {
  it.each([
    [60, 'OK'],
    [120, 'OK'],
    [121, 'DEGRADED'],
    [240, 'DEGRADED'],
    [241, 'FAILING'],
  ] as const)('rates a job last successful %i s ago on a 60 s schedule as %s', (age, status) => {
    const [check] = jobChecks('scanner', { job: 'scanner', lastSuccess: ago(age), lastOutcome: 'success' }, 60, 2, NOW, false);
    expect(check?.status).toBe(status);
  });

  it('degrades on a job that never succeeded, but not on the running job itself', () => {
    expect(jobChecks('reconciler', { job: 'reconciler' }, 300, 2, NOW, false)).toEqual([{ name: 'job:reconciler', status: 'DEGRADED', detail: 'no successful run yet' }]);
    expect(jobChecks('health', { job: 'health' }, 60, 2, NOW, true)).toEqual([]);
  });

  it('judges the running job on its previous successes and its last outcome', () => {
    const checks = jobChecks('health', { job: 'health', lastSuccess: ago(600), lastOutcome: 'failure', lastErrorCode: 'STORAGE_FAILED' }, 60, 2, NOW, true);
    expect(checks.map((c) => [c.name, c.status])).toEqual([
      ['job:health', 'FAILING'],
      ['job:health:last-run', 'DEGRADED'],
    ]);
    expect(checks[1]?.detail).toContain('STORAGE_FAILED');
  });
});

describe('Function: executorChecks', () => {
  it('judges the executor on its last run only', () => {
    expect(executorChecks({ job: 'executor', lastSuccess: ago(3600), lastOutcome: 'success' })).toEqual([]);
    expect(executorChecks(undefined)).toEqual([]);
    expect(executorChecks({ job: 'executor', lastOutcome: 'failure', lastErrorCode: 'LOCK_HELD' })).toEqual([
      { name: 'job:executor:last-run', status: 'DEGRADED', detail: 'last run failed (LOCK_HELD)' },
    ]);
  });
});

describe('Function: marketDataCheck', () => {
  const scan = (age: number, fresh: number, source = 'synthetic') => ({ at: ago(age), source, fresh, symbols: 3 });

  it.each([
    [10, 3, 'OK'],
    [10, 2, 'DEGRADED'],
    [91, 3, 'DEGRADED'],
    [181, 3, 'FAILING'],
    [10, 0, 'FAILING'],
  ] as const)('rates a scan %i s old with %i/3 fresh symbols as %s', (age, fresh, status) => {
    expect(marketDataCheck(scan(age, fresh), NOW, 90, false, false).status).toBe(status);
  });

  it('fails on synthetic data in live mode, and shows an old scan without alarm while paused', () => {
    expect(marketDataCheck(scan(10, 3), NOW, 90, true, false).status).toBe('FAILING');
    expect(marketDataCheck(scan(10, 3, 'exchange'), NOW, 90, true, false).status).toBe('OK');
    expect(marketDataCheck(scan(3600, 0), NOW, 90, false, true).status).toBe('OK');
    expect(marketDataCheck(null, NOW, 90, false, false).status).toBe('DEGRADED');
  });
});

describe('Function: queueCheck', () => {
  it('degrades on any dead letter and fails from the failing depth; work queues never count', () => {
    expect(queueCheck('execution', 50, false, 10).status).toBe('OK');
    expect(queueCheck('execution-dlq', 0, true, 10).status).toBe('OK');
    expect(queueCheck('execution-dlq', 1, true, 10).status).toBe('DEGRADED');
    expect(queueCheck('execution-dlq', 10, true, 10).status).toBe('FAILING');
  });
});

describe('Function: pauseCheck', () => {
  it('shows a pause as DEGRADED, FAILING once older than its limit, nothing when not or no longer paused', () => {
    expect(pauseCheck({ paused: false }, NOW, 3600)).toBeNull();
    expect(pauseCheck({ paused: true, since: ago(7200), until: ago(1) }, NOW, 3600)).toBeNull();
    expect(pauseCheck({ paused: true, reason: 'drift', author: 'reconciler', since: ago(60) }, NOW, 3600)).toMatchObject({ status: 'DEGRADED' });
    expect(pauseCheck({ paused: true, since: ago(3601) }, NOW, 3600)).toMatchObject({ status: 'FAILING' });
    expect(pauseCheck({ paused: true }, NOW, 3600)).toMatchObject({ status: 'DEGRADED' });
    expect(pauseAgeSeconds({ paused: true, since: ago(42) }, NOW)).toBe(42);
    expect(pauseAgeSeconds({ paused: false, since: ago(42) }, NOW)).toBe(0);
  });
});

describe('Function: circuitCheck', () => {
  it('fails on an open circuit, degrades on half-open and on an unreadable state', () => {
    expect(circuitCheck({ name: 'paper', state: 'closed' }).status).toBe('OK');
    expect(circuitCheck({ name: 'paper', state: 'half-open' }).status).toBe('DEGRADED');
    expect(circuitCheck({ name: 'paper', state: 'open', since: ago(5) })).toMatchObject({ name: 'circuit:paper', status: 'FAILING' });
    expect(circuitCheck({ name: 'paper', state: 'OPEN' }).status).toBe('DEGRADED');
  });
});

describe('Function: lockCheck', () => {
  it('flags only a lock with an owner whose lease has run out', () => {
    expect(lockCheck({ name: 'symbol:BTC/USDT', owner: 'executor:1', token: 3, expiresAt: NOW.getTime() - 1 }, NOW)?.status).toBe('DEGRADED');
    expect(lockCheck({ name: 'symbol:BTC/USDT', owner: 'executor:1', token: 3, expiresAt: NOW.getTime() + 1000 }, NOW)).toBeNull();
    expect(lockCheck({ name: 'symbol:BTC/USDT', owner: null, token: 3, expiresAt: 0 }, NOW)).toBeNull();
  });
});

describe('Function: reconciliationChecks', () => {
  it('degrades on lost orders, unadopted orphans and alarm drift; fails on confirmed hard drift', () => {
    expect(reconciliationChecks(null)).toEqual([]);
    expect(reconciliationChecks({ lost: 0, orphans: 2, adopted: 2 })).toEqual([]);
    const checks = reconciliationChecks({ lost: 1, orphans: 3, adopted: 1, balances: { drift: { level: 'alarm', quote: '50', currency: 'USDT' }, confirmed: true } });
    expect(checks.map((c) => [c.name, c.status])).toEqual([
      ['reconciliation:lost', 'DEGRADED'],
      ['reconciliation:orphans', 'DEGRADED'],
      ['reconciliation:drift', 'DEGRADED'],
    ]);
    expect(reconciliationChecks({ balances: { drift: { level: 'pause', quote: '150', currency: 'USDT' }, confirmed: true } })[0]?.status).toBe('FAILING');
    expect(reconciliationChecks({ balances: { drift: { level: 'pause', quote: '150', currency: 'USDT' }, confirmed: false } })[0]?.status).toBe('DEGRADED');
  });
});

describe('Function: overall', () => {
  it('is the worst check, with the reasons of every check that is not OK, worst first', () => {
    const result = overall([
      { name: 'a', status: 'OK', detail: 'fine' },
      { name: 'b', status: 'DEGRADED', detail: 'meh' },
      { name: 'c', status: 'FAILING', detail: 'bad' },
    ]);
    expect(result).toEqual({ status: 'FAILING', reasons: ['c: bad', 'b: meh'] });
    expect(overall([]).status).toBe('OK');
  });
});

describe('Function: scanCoverageCheck', () => {
  const beat = (secondsAgo: number) => ({ job: 'scanner' as const, lastSuccess: new Date(NOW.getTime() - secondsAgo * 1000).toISOString(), lastOutcome: 'success' as const });
  const report = (secondsAgo: number, extra: Record<string, unknown> = {}) => ({ at: new Date(NOW.getTime() - secondsAgo * 1000).toISOString(), failed: false, symbols: 3, evaluated: 3, failedSymbols: [], unreached: [], ...extra });

  it('is FAILING when the scanner succeeds but has written no scan report for more than the stale gap', () => {
    expect(scanCoverageCheck(report(600), beat(10), 60, 2, NOW, false)).toMatchObject({ status: 'FAILING', detail: expect.stringMatching(/runs but scans nothing/) });
  });

  it('is FAILING when the last scan evaluated no symbol at all', () => {
    expect(scanCoverageCheck(report(10, { evaluated: 0, failedSymbols: [{ symbol: 'A' }], unreached: ['B', 'C'] }), beat(10), 60, 2, NOW, false)).toMatchObject({ status: 'FAILING' });
  });

  it('is DEGRADED when some symbols failed or were not reached, OK when all were scanned', () => {
    expect(scanCoverageCheck(report(10, { evaluated: 2, failedSymbols: [{ symbol: 'A' }] }), beat(10), 60, 2, NOW, false)?.status).toBe('DEGRADED');
    expect(scanCoverageCheck(report(10, { evaluated: 2, unreached: ['A'] }), beat(10), 60, 2, NOW, false)?.status).toBe('DEGRADED');
    expect(scanCoverageCheck(report(10), beat(10), 60, 2, NOW, false)?.status).toBe('OK');
  });

  it('judges nothing while trading is paused', () => {
    expect(scanCoverageCheck(report(600, { evaluated: 0 }), beat(10), 60, 2, NOW, true)).toBeNull();
  });
});
