/**
 * EXE-4: the redelivery backoff of failed intent messages and which records get it.
 */
import { SqsFifoMessageGroupShortCircuitError } from '@aws-lambda-powertools/batch';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ExchangeTransientError, LockHeldError, ValidationError } from '../../shared/domain/errors.js';
import { planRetries, type FailedRecord } from '../../functions/executor/retry-policy.js';
import { RETRY_BASE_SECONDS, RETRY_MAX_SECONDS, retryDelaySeconds } from '../../shared/domain/timing.js';

const record = (id: string, group: string, receives = 1): FailedRecord => ({
  messageId: id,
  receiptHandle: `rh-${id}`,
  attributes: { ApproximateReceiveCount: String(receives), MessageGroupId: group },
});

describe('Function: retryDelaySeconds', () => {
  it('doubles with each receive, stays between half and all of its step, and is capped', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (receives, u) => {
        const step = Math.min(RETRY_MAX_SECONDS, RETRY_BASE_SECONDS * 2 ** (receives - 1));
        const delay = retryDelaySeconds(receives, () => u);
        expect(delay).toBeGreaterThanOrEqual(Math.max(1, Math.floor(step / 2)));
        expect(delay).toBeLessThanOrEqual(step);
        expect(delay).toBeLessThanOrEqual(RETRY_MAX_SECONDS);
      }),
    );
  });

  it('grows exponentially: the full steps are 10, 20, 40, 80 s for receives 1 to 4', () => {
    expect([1, 2, 3, 4].map((n) => retryDelaySeconds(n, () => 0.999999))).toEqual([10, 20, 40, 80]);
    expect([1, 2, 3, 4].map((n) => retryDelaySeconds(n, () => 0))).toEqual([5, 10, 20, 40]);
  });

  it('treats a missing or nonsense receive count as the first receive', () => {
    for (const n of [0, -3, Number.NaN]) expect(retryDelaySeconds(n, () => 0.999999)).toBe(10);
  });
});

describe('Function: planRetries', () => {
  it('reschedules retryable failures with their backoff and leaves permanent ones to dead-letter', () => {
    const plan = planRetries(
      [
        { record: record('transient', 'BTC/USDT', 2), error: new ExchangeTransientError('429') },
        { record: record('poison', 'ETH/USDT'), error: new ValidationError('bad intent') },
        { record: record('crash', 'SOL/USDT', 3), error: new Error('unexpected') },
      ],
      () => 0,
    );
    expect(plan).toEqual([
      { messageId: 'transient', receiptHandle: 'rh-transient', delaySeconds: 10 },
      { messageId: 'crash', receiptHandle: 'rh-crash', delaySeconds: 20 },
    ]);
  });

  it('brings the records skipped behind a failed one back with it, and leaves those behind a poison message alone', () => {
    const plan = planRetries(
      [
        { record: record('first', 'BTC/USDT', 1), error: new LockHeldError('symbol:BTC/USDT') },
        { record: record('behind', 'BTC/USDT', 1), error: new SqsFifoMessageGroupShortCircuitError() },
        { record: record('poison', 'ETH/USDT'), error: new ValidationError('bad') },
        { record: record('behind-poison', 'ETH/USDT'), error: new SqsFifoMessageGroupShortCircuitError() },
      ],
      () => 0.5,
    );
    expect(plan.map((p) => [p.messageId, p.delaySeconds])).toEqual([
      ['first', 8],
      ['behind', 8],
    ]);
  });
});
