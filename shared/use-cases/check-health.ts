/**
 * The health report (HLT-2): per-job freshness, market data freshness and source, queue and DLQ
 * depth, pause state and age, locks held past their lease, last reconciliation. The overall
 * status is the worst check. A change of status is published as a HealthChanged event.
 */
import type { JobName } from '../definitions/schedules.js';
import type { Clock } from '../ports/clock.js';
import type { ControlStore } from '../ports/control-store.js';
import type { EventPublisher } from '../ports/event-publisher.js';
import type { HeartbeatStore } from '../ports/heartbeat-store.js';
import type { QueueInspector } from '../ports/intent-queue.js';
import type { LockService } from '../ports/lock-service.js';
import { isPauseActive } from './pause.js';

export type HealthStatus = 'OK' | 'DEGRADED' | 'FAILING';

export interface HealthCheck {
  readonly name: string;
  readonly status: HealthStatus;
  readonly detail: string;
}

export interface HealthReport {
  readonly status: HealthStatus;
  readonly at: string;
  readonly reasons: readonly string[];
  readonly checks: readonly HealthCheck[];
  readonly dataSource?: string;
  readonly changed: boolean;
}

export interface HealthDeps {
  readonly heartbeats: HeartbeatStore;
  readonly control: ControlStore;
  readonly queues: QueueInspector;
  readonly locks: LockService;
  readonly events: EventPublisher;
  readonly clock: Clock;
  readonly settings: {
    /** Expected interval of each scheduled job in seconds. */
    readonly schedules: Readonly<Record<'scanner' | 'reconciler' | 'health', number>>;
    readonly staleAfterIntervals: number;
    readonly staleDataSeconds: number;
    readonly maxPauseAgeSeconds: number;
    /** Names of dead-letter queues among the inspected queues. */
    readonly deadLetterQueues: readonly string[];
  };
}

const RANK: Record<HealthStatus, number> = { OK: 0, DEGRADED: 1, FAILING: 2 };
const worst = (a: HealthStatus, b: HealthStatus): HealthStatus => (RANK[a] >= RANK[b] ? a : b);

export async function checkHealth(deps: HealthDeps, self: JobName = 'health'): Promise<HealthReport> {
  const now = deps.clock.now();
  const { settings } = deps;
  const checks: HealthCheck[] = [];

  // Per-job freshness: stale after twice the interval, failing after four times.
  const beats = await deps.heartbeats.list();
  for (const job of ['scanner', 'reconciler', 'health'] as const) {
    if (job === self) continue;
    const beat = beats.find((b) => b.job === job);
    const everyMs = settings.schedules[job] * 1000;
    const last = beat?.lastSuccess ? Date.parse(beat.lastSuccess) : undefined;
    if (last === undefined) checks.push({ name: `job:${job}`, status: 'DEGRADED', detail: 'no successful run yet' });
    else {
      const age = now.getTime() - last;
      const status: HealthStatus = age > 2 * settings.staleAfterIntervals * everyMs ? 'FAILING' : age > settings.staleAfterIntervals * everyMs ? 'DEGRADED' : 'OK';
      checks.push({ name: `job:${job}`, status, detail: `last success ${Math.round(age / 1000)} s ago` });
    }
    if (beat?.lastOutcome === 'failure') checks.push({ name: `job:${job}:last-run`, status: 'DEGRADED', detail: `last run failed (${beat.lastErrorCode ?? 'unknown error'})` });
  }
  const executor = beats.find((b) => b.job === 'executor');
  if (executor?.lastOutcome === 'failure') checks.push({ name: 'job:executor:last-run', status: 'DEGRADED', detail: `last run failed (${executor.lastErrorCode ?? 'unknown error'})` });

  // Market data freshness and source.
  const scan = await deps.control.getReport('scan');
  let dataSource: string | undefined;
  if (!scan || typeof scan.at !== 'string') checks.push({ name: 'market-data', status: 'DEGRADED', detail: 'no scan recorded yet' });
  else {
    dataSource = String(scan.source);
    const age = now.getTime() - Date.parse(scan.at);
    const fresh = Number(scan.fresh ?? 0);
    const symbols = Number(scan.symbols ?? 0);
    const status: HealthStatus = age > settings.staleDataSeconds * 1000 || fresh === 0 ? 'DEGRADED' : fresh < symbols ? 'DEGRADED' : 'OK';
    checks.push({ name: 'market-data', status, detail: `source ${dataSource}, ${fresh}/${symbols} fresh, ${Math.round(age / 1000)} s old` });
  }

  // Queues: any message in a dead-letter queue needs a person.
  const depths = await deps.queues.depths();
  for (const [name, depth] of Object.entries(depths)) {
    const isDlq = settings.deadLetterQueues.includes(name);
    checks.push({ name: `queue:${name}`, status: isDlq && depth > 0 ? 'DEGRADED' : 'OK', detail: `${depth} message(s)` });
  }

  // Pause state and age (RISK-3).
  const pause = await deps.control.getPause();
  if (isPauseActive(pause, now)) {
    const age = pause.since ? (now.getTime() - Date.parse(pause.since)) / 1000 : 0;
    checks.push({
      name: 'pause',
      status: age > settings.maxPauseAgeSeconds ? 'FAILING' : 'DEGRADED',
      detail: `paused ${Math.round(age)} s by ${pause.author ?? 'unknown'}: ${pause.reason ?? ''}`,
    });
  }

  // Locks held past their lease: a holder died or hangs.
  for (const lock of await deps.locks.list()) {
    if (lock.owner && lock.expiresAt < now.getTime()) {
      checks.push({ name: `lock:${lock.name}`, status: 'DEGRADED', detail: `held by ${lock.owner} past its lease` });
    }
  }

  // Last reconciliation.
  const rec = await deps.control.getReport('reconciliation');
  if (rec && Number(rec.lost ?? 0) > 0) checks.push({ name: 'reconciliation', status: 'DEGRADED', detail: `${String(rec.lost)} order(s) declared lost in the last run` });

  const status = checks.reduce<HealthStatus>((s, c) => worst(s, c.status), 'OK');
  const reasons = checks.filter((c) => c.status !== 'OK').map((c) => `${c.name}: ${c.detail}`);
  const previous = await deps.control.getReport('health');
  const changed = previous?.status !== status;
  const report: HealthReport = { status, at: now.toISOString(), reasons, checks, ...(dataSource ? { dataSource } : {}), changed };
  await deps.control.putReport('health', { status, at: report.at, reasons });
  if (changed) await deps.events.publish('HealthChanged', { from: previous?.status ?? null, to: status, reasons });
  return report;
}
