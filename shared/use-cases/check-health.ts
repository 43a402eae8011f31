/**
 * The health report (HLT-2): per-job freshness, market data freshness and source, dead-letter
 * depth, circuit states, pause state and age (RISK-3), locks held past their lease, the last
 * reconciliation (lost orders, orphans, drift). The rules are in health-rules.ts; the overall
 * status is the worst check.
 *
 * Primary course:
 * 1. Read heartbeats, the scan report, queue depths, the pause, circuits, locks and the last
 *    reconciliation report. A read that fails fails the run with a coded StorageError (HLT-5):
 *    health never reports on what it could not read.
 * 2. Apply the rules.
 * 3. On a change of the overall status, publish HealthChanged, THEN store the report: if the
 *    store fails, the next run publishes again (at least once), never zero times.
 */
import type { JobName } from '../definitions/schedules.js';
import { StorageError, TradewardenError } from '../domain/errors.js';
import type { Clock } from '../ports/clock.js';
import type { ControlStore } from '../ports/control-store.js';
import type { EventPublisher } from '../ports/event-publisher.js';
import type { HeartbeatStore } from '../ports/heartbeat-store.js';
import type { QueueAgeReader, QueueInspector } from '../ports/intent-queue.js';
import type { LockService } from '../ports/lock-service.js';
import {
  circuitCheck,
  executorChecks,
  jobChecks,
  lockCheck,
  marketDataCheck,
  overall,
  pauseAgeSeconds,
  pauseCheck,
  queueAgeCheck,
  queueCheck,
  reconciliationChecks,
  scanCoverageCheck,
  type CircuitState,
  type HealthCheck,
  type HealthStatus,
} from './health-rules.js';
import { pauseScope } from './pause.js';

export type { CircuitState, HealthCheck, HealthStatus } from './health-rules.js';

/** Event published on every change of the overall status. */
export const HEALTH_CHANGED = 'HealthChanged';

/**
 * Circuit breaker states (RISK-5), one per exchange. Until the breaker exists the health
 * function reads `CIRCUIT#<exchange>` items of the state table, if any were written.
 */
export interface CircuitStateReader {
  list(): Promise<CircuitState[]>;
}

export interface HealthReport {
  readonly status: HealthStatus;
  readonly at: string;
  readonly reasons: readonly string[];
  readonly checks: readonly HealthCheck[];
  readonly dataSource?: string;
  readonly changed: boolean;
  /** Figures the handler emits as metrics. */
  readonly metrics: {
    readonly dlqDepth: number;
    readonly pauseAgeSeconds: number;
    /** 1 when any circuit is open. */
    readonly circuitOpen: number;
    /** Seconds the oldest intent has waited in the execution queues (0 when unknown or empty). */
    readonly oldestIntentAgeSeconds: number;
  };
}

export interface HealthDeps {
  readonly heartbeats: HeartbeatStore;
  readonly control: ControlStore;
  readonly queues: QueueInspector;
  /**
   * The age of the oldest message per queue (EXE-13).
   * @default none: the age is not judged (on AWS the Lambda entry reads it from CloudWatch)
   */
  readonly queueAges?: QueueAgeReader;
  readonly locks: LockService;
  readonly events: EventPublisher;
  readonly clock: Clock;
  /** @default no circuit is checked */
  readonly circuits?: CircuitStateReader;
  readonly settings: {
    /** Expected interval of each scheduled job in seconds. */
    readonly schedules: Readonly<Record<'scanner' | 'reconciler' | 'health', number>>;
    readonly staleAfterIntervals: number;
    readonly staleDataSeconds: number;
    readonly maxPauseAgeSeconds: number;
    /** Names of dead-letter queues among the inspected queues. */
    readonly deadLetterQueues: readonly string[];
    /** Dead-lettered messages from which health is FAILING. */
    readonly dlqFailingDepth: number;
    /** How long an intent normally waits in the queue (EXECUTOR_NORMAL_LATENCY_SECONDS). */
    readonly executorLatencySeconds: number;
    /** An intent's time-to-live: an intent that waited longer can only expire. */
    readonly intentTtlSeconds: number;
    /** Live mode refuses synthetic market data (DATA-4). */
    readonly mode: 'paper' | 'live';
    /**
     * When the stack (re)started. Heartbeats older than this were left by the previous run: for one
     * stale interval after it, a job without a run since is 'starting', not stale or failed.
     * @default no restart is known
     */
    readonly startedAt?: string;
  };
}

/** Runs a state read or write; an uncoded failure becomes a coded, retryable StorageError. */
async function storage<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof TradewardenError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new StorageError(`health: ${what} failed: ${message}`, { cause: error, details: { what } });
  }
}

export async function checkHealth(deps: HealthDeps, self: JobName = 'health'): Promise<HealthReport> {
  const now = deps.clock.now();
  const { settings } = deps;

  // 1. Read everything first.
  const beats = await storage('reading heartbeats', () => deps.heartbeats.list());
  const scan = await storage('reading the scan report', () => deps.control.getReport('scan'));
  const depths = await storage('reading queue depths', () => deps.queues.depths());
  const ages: Readonly<Record<string, number>> = deps.queueAges ? await storage('reading queue ages', () => deps.queueAges?.oldestAges() ?? Promise.resolve({})) : {};
  const pause = await storage('reading the pause state', () => deps.control.getPause());
  const circuits = deps.circuits ? await storage('reading circuit states', () => deps.circuits?.list() ?? Promise.resolve([])) : [];
  const locks = await storage('reading locks', () => deps.locks.list());
  const reconciliation = await storage('reading the reconciliation report', () => deps.control.getReport('reconciliation'));
  const previous = await storage('reading the last health report', () => deps.control.getReport('health'));

  // 2. The rules.
  const startedAt = settings.startedAt ? new Date(settings.startedAt) : undefined;
  const checks: HealthCheck[] = [];
  for (const job of ['scanner', 'reconciler', 'health'] as const) {
    checks.push(...jobChecks(job, beats.find((b) => b.job === job), settings.schedules[job], settings.staleAfterIntervals, now, job === self, startedAt));
  }
  checks.push(...executorChecks(beats.find((b) => b.job === 'executor'), startedAt));
  // Only a pause of all trading stops the scanner; under an entries-only pause it still scans for exits.
  const paused = pauseScope(pause, now) === 'all';
  checks.push(marketDataCheck(scan, now, settings.staleDataSeconds, settings.mode === 'live', paused));
  const coverage = scanCoverageCheck(scan, beats.find((b) => b.job === 'scanner'), settings.schedules.scanner, settings.staleAfterIntervals, now, paused);
  if (coverage) checks.push(coverage);
  let dlqDepth = 0;
  for (const [name, depth] of Object.entries(depths)) {
    const deadLetter = settings.deadLetterQueues.includes(name);
    if (deadLetter) dlqDepth += depth;
    checks.push(queueCheck(name, depth, deadLetter, settings.dlqFailingDepth));
  }
  let oldestIntentAgeSeconds = 0;
  for (const [name, age] of Object.entries(ages)) {
    if (settings.deadLetterQueues.includes(name)) continue;
    oldestIntentAgeSeconds = Math.max(oldestIntentAgeSeconds, age);
    checks.push(queueAgeCheck(name, age, settings.executorLatencySeconds, settings.intentTtlSeconds));
  }
  const pauseResult = pauseCheck(pause, now, settings.maxPauseAgeSeconds);
  if (pauseResult) checks.push(pauseResult);
  checks.push(...circuits.map(circuitCheck));
  for (const lock of locks) {
    const held = lockCheck(lock, now);
    if (held) checks.push(held);
  }
  checks.push(...reconciliationChecks(reconciliation));

  // 3. Publish a change, then store.
  const { status, reasons } = overall(checks);
  const changed = previous?.status !== status;
  const at = now.toISOString();
  if (changed) {
    await storage(`publishing ${HEALTH_CHANGED}`, () => deps.events.publish(HEALTH_CHANGED, { from: previous?.status ?? null, to: status, at, reasons }));
  }
  await storage('storing the health report', () => deps.control.putReport('health', { status, at, reasons }));
  const dataSource = scan && typeof scan.source === 'string' ? scan.source : undefined;
  return {
    status,
    at,
    reasons,
    checks,
    ...(dataSource ? { dataSource } : {}),
    changed,
    metrics: { dlqDepth, pauseAgeSeconds: pauseAgeSeconds(pause, now), circuitOpen: circuits.some((c) => c.state === 'open') ? 1 : 0, oldestIntentAgeSeconds },
  };
}
