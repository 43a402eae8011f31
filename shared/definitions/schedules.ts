/**
 * When each scheduled job runs. EventBridge Scheduler (CDK) and the local scheduler of
 * `npm start` both read this; health uses it to decide when a job is stale.
 */

export type ScheduledJob = 'scanner' | 'reconciler' | 'health';
export type JobName = ScheduledJob | 'executor';

export interface ScheduleDefinition {
  readonly job: ScheduledJob;
  /** Interval on AWS, in seconds (EventBridge Scheduler `rate(...)`). */
  readonly everySeconds: number;
  /** Interval of the local scheduler, compressed so a local run shows a few cycles a minute. */
  readonly localEverySeconds: number;
  /** Retries EventBridge Scheduler makes before the target's DLQ. */
  readonly retryAttempts: number;
  /** Oldest age of an event Scheduler still delivers. */
  readonly maxEventAgeSeconds: number;
}

export const SCHEDULES: readonly ScheduleDefinition[] = [
  { job: 'scanner', everySeconds: 60, localEverySeconds: 5, retryAttempts: 2, maxEventAgeSeconds: 120 },
  { job: 'reconciler', everySeconds: 300, localEverySeconds: 10, retryAttempts: 2, maxEventAgeSeconds: 600 },
  { job: 'health', everySeconds: 60, localEverySeconds: 5, retryAttempts: 2, maxEventAgeSeconds: 120 },
];

/**
 * A job is stale when its last success is older than this many intervals (HLT-2: "older than
 * twice its schedule").
 */
export const STALE_AFTER_INTERVALS = 2;

/**
 * The executor has no schedule of its own; it is fed by the queue. Its heartbeat is expected at
 * least as often as the scanner's when intents flow, so it is judged only when work is queued.
 */
export const JOBS: readonly JobName[] = ['scanner', 'executor', 'reconciler', 'health'];

export function scheduleOf(job: ScheduledJob): ScheduleDefinition {
  const found = SCHEDULES.find((s) => s.job === job);
  if (!found) throw new Error(`no schedule for ${job}`);
  return found;
}

/**
 * The audit checkpoint (SEC-5) is scheduled too, but is no job of JOBS: it has no heartbeat and
 * no freshness check in health (its schedule's dead-letter queue is alarmed instead). Its AWS
 * interval comes from the deployment config; locally it runs every `localEverySeconds`.
 */
export const AUDIT_CHECKPOINT_LOCAL_EVERY_SECONDS = 30;
/** The checkpoint schedule's constant payload; an ad hoc invoke sends the same. */
export const AUDIT_CHECKPOINT_EVENT = { checkpoint: 'audit' } as const;
