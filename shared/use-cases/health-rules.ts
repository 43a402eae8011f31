/**
 * The rules of the health report (HLT-2), pure: each check maps what was read to OK, DEGRADED
 * or FAILING with a reason. The overall status is the worst check.
 *
 * What the levels mean: DEGRADED = something needs a look but trading is still protected;
 * FAILING = the system is not doing its job (nothing trades or nothing is watched) and a person
 * is needed now. The health endpoint answers 503 for FAILING, and the HealthStatus alarm fires.
 *
 * | check          | DEGRADED                                       | FAILING                                          |
 * |----------------|------------------------------------------------|--------------------------------------------------|
 * | job freshness  | last success older than 2 intervals; last run  | older than 2 x 2 intervals                       |
 * |                | failed; never succeeded                        |                                                  |
 * | executor       | last run failed                                | (never: the DLQ check escalates)                 |
 * | market data    | some symbols stale; report older than the      | no fresh symbol at all; report older than twice  |
 * |                | stale-data age; no scan yet                    | that; synthetic data in live mode (DATA-4)       |
 * | dead letters   | at least one message                           | at least `dlqFailingDepth` messages              |
 * | queue age      | oldest intent older than the executor's normal | older than an intent's time-to-live: it can only |
 * |                | latency (EXECUTOR_NORMAL_LATENCY_SECONDS)      | expire (the IntentsExpiringInQueue alarm on AWS) |
 * | pause (RISK-3) | paused (a deliberate state, shown)             | paused for longer than `maxPauseAgeSeconds`      |
 * | circuit        | half-open (probing)                            | open: no exchange call is made, so nothing is    |
 * |                |                                                | placed, cancelled or reconciled                  |
 * | scan coverage  | symbols skipped (failed candles) or not        | the scanner succeeds but writes no scan report,  |
 * |                | reached before the deadline                    | or its scans evaluate no symbol at all           |
 * | locks          | held past the lease (a holder died or hangs)   |                                                  |
 * | reconciliation | orders declared lost; orphans on the exchange; | confirmed drift above the hard limit             |
 * |                | drift above the alarm threshold; orders or     |                                                  |
 * |                | sweeps skipped on an exchange failure (DATA-7) |                                                  |
 *
 * A pause past its age is FAILING rather than DEGRADED: RISK-3 asks for an alert, and FAILING
 * is the health signal that alerts (the PauseTooOld alarm on PauseAgeSeconds fires as well).
 */
import type { Heartbeat } from '../ports/heartbeat-store.js';
import type { LockInfo } from '../ports/lock-service.js';
import type { PauseState } from '../ports/control-store.js';
import { isPauseActive, tradingSummary } from './pause.js';

export type HealthStatus = 'OK' | 'DEGRADED' | 'FAILING';

export interface HealthCheck {
  readonly name: string;
  readonly status: HealthStatus;
  readonly detail: string;
}

/** A bound that makes a check DEGRADED makes it FAILING when exceeded this many times over. */
export const ESCALATION_FACTOR = 2;
/** Messages in a dead-letter queue from which health is FAILING: intents fail systematically. */
export const DLQ_FAILING_DEPTH = 10;

const RANK: Readonly<Record<HealthStatus, number>> = { OK: 0, DEGRADED: 1, FAILING: 2 };

export function worst(a: HealthStatus, b: HealthStatus): HealthStatus {
  return RANK[a] >= RANK[b] ? a : b;
}

/** The overall status and the reasons: every check that is not OK, worst first. */
export function overall(checks: readonly HealthCheck[]): { status: HealthStatus; reasons: string[] } {
  const status = checks.reduce<HealthStatus>((s, c) => worst(s, c.status), 'OK');
  const reasons = checks
    .filter((c) => c.status !== 'OK')
    .sort((a, b) => RANK[b.status] - RANK[a.status])
    .map((c) => `${c.name}: ${c.detail}`);
  return { status, reasons };
}

const seconds = (ms: number): number => Math.round(ms / 1000);

/**
 * Freshness of a scheduled job. `self` is the job running this check: it is running now, so
 * it is only judged on its previous runs (a gap means earlier runs failed or never ran).
 */
export function jobChecks(job: string, beat: Heartbeat | undefined, everySeconds: number, staleAfterIntervals: number, now: Date, self: boolean, startedAt?: Date): HealthCheck[] {
  const checks: HealthCheck[] = [];
  const staleMs = staleAfterIntervals * everySeconds * 1000;
  const last = beat?.lastSuccess ? Date.parse(beat.lastSuccess) : undefined;
  // Right after a restart, what the previous run left is no news: the job has not had its turn yet.
  if (startedAt && (last === undefined || last < startedAt.getTime()) && now.getTime() - startedAt.getTime() <= staleMs) {
    if (!self) checks.push({ name: `job:${job}`, status: 'OK', detail: `starting: no run since the restart ${seconds(now.getTime() - startedAt.getTime())} s ago` });
    return checks;
  }
  if (last === undefined) {
    if (!self) checks.push({ name: `job:${job}`, status: 'DEGRADED', detail: 'no successful run yet' });
  } else {
    const age = now.getTime() - last;
    const status: HealthStatus = age > ESCALATION_FACTOR * staleMs ? 'FAILING' : age > staleMs ? 'DEGRADED' : 'OK';
    checks.push({ name: `job:${job}`, status, detail: `last success ${seconds(age)} s ago (stale after ${seconds(staleMs)} s)` });
  }
  if (beat?.lastOutcome === 'failure') {
    checks.push({ name: `job:${job}:last-run`, status: 'DEGRADED', detail: `last run failed (${beat.lastErrorCode ?? 'unknown error'})` });
  }
  return checks;
}

/**
 * The executor has no schedule: it is judged on its last run only. A stalled executor shows as
 * intents expiring in the queue and dead letters (and the ExecutorHeartbeatMissing alarm, which
 * looks at queued work over minutes); judging it on queue depth at one instant would flap
 * whenever health runs between a scan and the executor picking its intents up.
 */
export function executorChecks(beat: Heartbeat | undefined, startedAt?: Date): HealthCheck[] {
  if (beat?.lastOutcome !== 'failure') return [];
  // A failure of the previous run is not this run's.
  if (startedAt && beat.lastFailure && Date.parse(beat.lastFailure) < startedAt.getTime()) return [];
  return [{ name: 'job:executor:last-run', status: 'DEGRADED', detail: `last run failed (${beat.lastErrorCode ?? 'unknown error'})` }];
}

/**
 * The scan report's view of market data (DATA-2, DATA-4). While trading is paused the scanner
 * fetches nothing, so an old report is expected then and only shown.
 */
export function marketDataCheck(scan: Readonly<Record<string, unknown>> | null, now: Date, staleDataSeconds: number, live: boolean, paused: boolean): HealthCheck {
  if (!scan || typeof scan.at !== 'string') return { name: 'market-data', status: paused ? 'OK' : 'DEGRADED', detail: 'no scan recorded yet' };
  const source = String(scan.source);
  const age = now.getTime() - Date.parse(scan.at);
  const fresh = Number(scan.fresh ?? 0);
  const symbols = Number(scan.symbols ?? 0);
  const error = scan.failed === true && typeof scan.error === 'object' && scan.error !== null ? (scan.error as { code?: unknown }).code : undefined;
  const detail = `source ${source}, ${fresh}/${symbols} fresh, ${seconds(age)} s old${error !== undefined ? `, last scan failed (${String(error)})` : ''}`;
  const staleMs = staleDataSeconds * 1000;
  if (live && source !== 'exchange') return { name: 'market-data', status: 'FAILING', detail: `${detail}: live mode on a ${source} source` };
  if (paused) return { name: 'market-data', status: 'OK', detail: `${detail} (not scanned while paused)` };
  if (fresh <= 0 || age > ESCALATION_FACTOR * staleMs) return { name: 'market-data', status: 'FAILING', detail };
  if (fresh < symbols || age > staleMs) return { name: 'market-data', status: 'DEGRADED', detail };
  return { name: 'market-data', status: 'OK', detail };
}

/**
 * Whether the scanner really scans (DATA-7, DATA-9): a scanner that keeps succeeding while no
 * scan report is written (every run a `duplicate`, e.g. behind a last-slot marker in the future)
 * or whose scans evaluate no symbol at all is FAILING: it runs but watches nothing. Symbols
 * skipped for failed candles, or not reached before the deadline, are DEGRADED. Nothing is judged
 * while trading is paused (the scanner then fetches nothing).
 */
export function scanCoverageCheck(
  scan: Readonly<Record<string, unknown>> | null,
  scanner: Heartbeat | undefined,
  everySeconds: number,
  staleAfterIntervals: number,
  now: Date,
  paused: boolean,
): HealthCheck | null {
  if (paused) return null;
  const lastSuccess = scanner?.lastSuccess ? Date.parse(scanner.lastSuccess) : undefined;
  const reportAt = scan && typeof scan.at === 'string' ? Date.parse(scan.at) : undefined;
  const gapMs = staleAfterIntervals * everySeconds * 1000;
  if (lastSuccess !== undefined && now.getTime() - lastSuccess <= gapMs && (reportAt === undefined ? false : lastSuccess - reportAt > gapMs)) {
    const marker = `last scan report ${seconds(lastSuccess - (reportAt ?? lastSuccess))} s older than the last successful run`;
    return { name: 'scan-coverage', status: 'FAILING', detail: `scanner runs but scans nothing: ${marker} (a last-slot marker ahead of the clock? see ops status)` };
  }
  if (!scan || scan.failed === true) return null;
  const symbols = Number(scan.symbols ?? 0);
  const evaluated = typeof scan.evaluated === 'number' ? scan.evaluated : undefined;
  const failed = Array.isArray(scan.failedSymbols) ? scan.failedSymbols.length : 0;
  const unreached = Array.isArray(scan.unreached) ? scan.unreached.length : 0;
  const detail = `${evaluated ?? '?'}/${symbols} symbols evaluated, ${failed} failed, ${unreached} not reached${typeof scan.stoppedBy === 'string' ? ` (stopped by ${scan.stoppedBy})` : ''}`;
  if (evaluated === 0 && symbols > 0) return { name: 'scan-coverage', status: 'FAILING', detail: `scanner runs but scans nothing: ${detail}` };
  if (failed > 0 || unreached > 0) return { name: 'scan-coverage', status: 'DEGRADED', detail };
  return { name: 'scan-coverage', status: 'OK', detail };
}

export function queueCheck(name: string, depth: number, deadLetter: boolean, dlqFailingDepth: number): HealthCheck {
  const status: HealthStatus = !deadLetter || depth === 0 ? 'OK' : depth >= dlqFailingDepth ? 'FAILING' : 'DEGRADED';
  return { name: `queue:${name}`, status, detail: `${depth} message(s)${deadLetter && depth > 0 ? ' dead-lettered: inspect, then redrive or delete' : ''}` };
}

/**
 * How long the oldest message of a work queue has waited (EXE-13): longer than the executor
 * normally takes means intents pile up behind a stalled, throttled or failing executor.
 */
export function queueAgeCheck(name: string, ageSeconds: number, normalSeconds: number, ttlSeconds: number): HealthCheck {
  const check = `queue:${name}:age`;
  if (ageSeconds <= 0) return { name: check, status: 'OK', detail: 'no message waiting' };
  const detail = `oldest message waited ${ageSeconds} s`;
  if (ageSeconds > ttlSeconds) return { name: check, status: 'FAILING', detail: `${detail}, more than an intent lives (${ttlSeconds} s): the executor is not taking intents` };
  if (ageSeconds > normalSeconds) return { name: check, status: 'DEGRADED', detail: `${detail}, more than the executor's normal ${normalSeconds} s` };
  return { name: check, status: 'OK', detail: `${detail} (normal up to ${normalSeconds} s)` };
}

/** Seconds the pause has held, 0 when not paused (also the PauseAgeSeconds metric). */
export function pauseAgeSeconds(pause: PauseState, now: Date): number {
  if (!isPauseActive(pause, now) || !pause.since) return 0;
  return Math.max(0, Math.round((now.getTime() - Date.parse(pause.since)) / 1000));
}

/** RISK-3. `null` when trading is not paused. */
export function pauseCheck(pause: PauseState, now: Date, maxPauseAgeSeconds: number): HealthCheck | null {
  if (!isPauseActive(pause, now)) return null;
  const author = pause.author ?? 'unknown';
  // RISK-8: an entries-only pause (the drift halt) leads with what it blocks and its figures.
  if (pause.scope === 'entries') {
    const what = tradingSummary(pause, now);
    if (!pause.since) return { name: 'pause', status: 'DEGRADED', detail: `${what} (since an unknown time, by ${author}; exits keep working)` };
    const age = pauseAgeSeconds(pause, now);
    const status: HealthStatus = age > maxPauseAgeSeconds ? 'FAILING' : 'DEGRADED';
    return { name: 'pause', status, detail: `${what} (for ${age} s, by ${author}; exits keep working)${status === 'FAILING' ? ` (longer than ${maxPauseAgeSeconds} s)` : ''}` };
  }
  const by = `by ${author}: ${pause.reason ?? 'no reason given'}`;
  if (!pause.since) return { name: 'pause', status: 'DEGRADED', detail: `paused since an unknown time ${by}` };
  const age = pauseAgeSeconds(pause, now);
  const status: HealthStatus = age > maxPauseAgeSeconds ? 'FAILING' : 'DEGRADED';
  return { name: 'pause', status, detail: `paused ${age} s ${by}${status === 'FAILING' ? ` (longer than ${maxPauseAgeSeconds} s)` : ''}` };
}

export type CircuitPosition = 'open' | 'half-open' | 'closed';

/** The stored state of one exchange's circuit breaker (RISK-5). */
export interface CircuitState {
  readonly name: string;
  /** Anything else than the three positions is reported as unreadable. */
  readonly state: string;
  readonly since?: string;
}

export function isCircuitPosition(value: string): value is CircuitPosition {
  return value === 'open' || value === 'half-open' || value === 'closed';
}

export function circuitCheck(circuit: CircuitState): HealthCheck {
  const name = `circuit:${circuit.name}`;
  const since = circuit.since ? ` since ${circuit.since}` : '';
  if (!isCircuitPosition(circuit.state)) return { name, status: 'DEGRADED', detail: `unreadable state ${JSON.stringify(circuit.state)}` };
  switch (circuit.state) {
    case 'open':
      return { name, status: 'FAILING', detail: `open${since}: no exchange calls` };
    case 'half-open':
      return { name, status: 'DEGRADED', detail: `half-open${since}: probing the exchange` };
    case 'closed':
      return { name, status: 'OK', detail: 'closed' };
    default: {
      const exhaustive: never = circuit.state;
      return exhaustive;
    }
  }
}

/** A lock whose lease ran out while an owner is still recorded: its holder died or hangs. */
export function lockCheck(lock: LockInfo, now: Date): HealthCheck | null {
  if (!lock.owner || lock.expiresAt >= now.getTime()) return null;
  return { name: `lock:${lock.name}`, status: 'DEGRADED', detail: `held by ${lock.owner} ${seconds(now.getTime() - lock.expiresAt)} s past its lease` };
}

/** The last reconciliation report: lost orders, orphans and balance drift (REC-2..4). */
export function reconciliationChecks(report: Readonly<Record<string, unknown>> | null): HealthCheck[] {
  if (!report) return [];
  const checks: HealthCheck[] = [];
  const lost = Number(report.lost ?? 0);
  if (lost > 0) checks.push({ name: 'reconciliation:lost', status: 'DEGRADED', detail: `${lost} order(s) declared lost in the last run` });
  const orphans = Number(report.orphans ?? 0) - Number(report.adopted ?? 0);
  if (orphans > 0) checks.push({ name: 'reconciliation:orphans', status: 'DEGRADED', detail: `${orphans} order(s) open on the exchange that Tradewarden does not follow` });
  // DATA-7: orders or sweeps skipped on their own failure are looked at again next run.
  const failures = Array.isArray(report.failures) ? (report.failures as { scope?: unknown }[]) : [];
  if (failures.length > 0) {
    const sweeps = failures.filter((f) => f.scope !== 'order').map((f) => String(f.scope));
    const failed = Number(report.failed ?? 0);
    const parts = [...(failed > 0 ? [`${failed} order(s)`] : []), ...sweeps.map((s) => `the ${s} check`)];
    checks.push({ name: 'reconciliation:skipped', status: 'DEGRADED', detail: `skipped on an exchange or data failure in the last run: ${parts.join(', ')}` });
  }
  const balances = report.balances as { drift?: { level?: unknown; quote?: unknown; currency?: unknown }; confirmed?: unknown } | undefined;
  const drift = balances?.drift;
  if (drift?.level === 'alarm' || drift?.level === 'pause') {
    const hard = drift.level === 'pause' && balances?.confirmed !== false;
    checks.push({
      name: 'reconciliation:drift',
      status: hard ? 'FAILING' : 'DEGRADED',
      detail: `balances drift by ${String(drift.quote)} ${String(drift.currency)}${drift.level === 'pause' ? ' (above the hard limit' + (hard ? ')' : ', unconfirmed)') : ''}`,
    });
  }
  return checks;
}
