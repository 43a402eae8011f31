/**
 * Sanity of a scheduled job's event time (DATA-9). The scanner derives its slot (and with it the
 * intent ids and the last-slot marker) from the event's `scheduledTime`, and the reconciler its
 * window; an ad hoc event with a time far in the future would mark that slot as done and make
 * every real scan after it a duplicate. So a time more than one period in the future, or older
 * than the intent TTL (an intent of that slot would already have expired), is refused with a
 * coded ValidationError before anything is read or written.
 */
import { ValidationError } from './errors.js';

export interface ScheduledTimeLimits {
  /** The job's schedule period: a time up to one period ahead is tolerated (clock skew, early delivery). */
  readonly periodMs: number;
  /** The oldest accepted time, as an age: the intent TTL. */
  readonly maxAgeMs: number;
}

/**
 * @returns the scheduled time as a Date.
 * @throws ValidationError (VALIDATION_FAILED) when it lies more than one period ahead of `now`
 *   or further back than `maxAgeMs`.
 */
export function checkScheduledTime(job: string, scheduledTime: string, now: Date, limits: ScheduledTimeLimits): Date {
  const at = Date.parse(scheduledTime);
  if (Number.isNaN(at)) throw new ValidationError(`${job}: scheduledTime ${JSON.stringify(scheduledTime)} is not a time`, ['scheduledTime: not a time']);
  const ahead = at - now.getTime();
  if (ahead > limits.periodMs) {
    throw new ValidationError(`${job}: scheduledTime ${scheduledTime} is ${Math.round(ahead / 1000)} s in the future (more than one period of ${limits.periodMs / 1000} s)`, [
      'scheduledTime: more than one period in the future',
    ]);
  }
  if (-ahead > limits.maxAgeMs) {
    throw new ValidationError(`${job}: scheduledTime ${scheduledTime} is ${Math.round(-ahead / 1000)} s old (older than the intent TTL of ${limits.maxAgeMs / 1000} s)`, [
      'scheduledTime: older than the intent TTL',
    ]);
  }
  return new Date(at);
}
