/**
 * The timing rules hold together (shared/domain/timing.ts): each value is named once, and the
 * relations that make a timed-out order safe are checked here, so changing one value alone
 * cannot silently break another rule.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { STAGES } from '../../infra/config/stages.js';
import { EXECUTION_QUEUE } from '../../shared/definitions/queues.js';
import {
  CLOCK_SKEW_ALLOWANCE_MS,
  DEFAULT_LOCK_LEASE_SECONDS,
  EXCHANGE_RECV_WINDOW_MS,
  EXECUTION_VISIBILITY_TIMEOUT_SECONDS,
  LOST_AFTER_NOT_FOUND,
  LOST_GRACE_MS,
  MAX_RECEIVE_COUNT,
  RESEND_GRACE_MS,
  RETRY_MAX_SECONDS,
  SETTLE_MS,
  SQS_MAX_VISIBILITY_SECONDS,
  VISIBILITY_TO_TIMEOUT_RATIO,
  retryDelaySeconds,
  retrySpanSeconds,
  scanRetryDelayMs,
} from '../../shared/domain/timing.js';

const SECOND = 1000;

describe('Timing rules', () => {
  it('re-sends only after an old attempt can no longer reach the matching engine', () => {
    expect(RESEND_GRACE_MS).toBeGreaterThan(EXCHANGE_RECV_WINDOW_MS + CLOCK_SKEW_ALLOWANCE_MS);
  });

  it('declares an order lost only after the executor could have re-sent it, on several answers', () => {
    expect(LOST_GRACE_MS).toBeGreaterThan(RESEND_GRACE_MS);
    expect(LOST_AFTER_NOT_FOUND).toBeGreaterThan(1);
    // The reconciler looks at an order (settle) well before it may declare it lost.
    expect(SETTLE_MS).toBeGreaterThan(0);
    expect(SETTLE_MS).toBeLessThan(LOST_GRACE_MS);
  });

  it('gives a timed-out order a lookup after the resend grace before its message can dead-letter, whatever the jitter', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 0.999999, noNaN: true }), (u) => {
        expect(retrySpanSeconds(() => u) * SECOND).toBeGreaterThan(RESEND_GRACE_MS);
      }),
    );
    expect(retrySpanSeconds(() => 0) * SECOND).toBeGreaterThan(RESEND_GRACE_MS);
  });

  it('dead-letters a message that keeps failing with retryable errors sooner than one that fails permanently (visibility x receives)', () => {
    const longest = retrySpanSeconds(() => 0.999999);
    expect(longest).toBeLessThan(EXECUTION_VISIBILITY_TIMEOUT_SECONDS * MAX_RECEIVE_COUNT);
    expect(RETRY_MAX_SECONDS).toBeLessThanOrEqual(SQS_MAX_VISIBILITY_SECONDS);
    for (let n = 1; n < 40; n += 1) expect(retryDelaySeconds(n, () => 0.999999)).toBeLessThanOrEqual(SQS_MAX_VISIBILITY_SECONDS);
  });

  it('is the queue the stack and the local runtime build', () => {
    expect(EXECUTION_QUEUE.visibilityTimeoutSeconds).toBe(EXECUTION_VISIBILITY_TIMEOUT_SECONDS);
    expect(EXECUTION_QUEUE.deadLetter?.maxReceiveCount).toBe(MAX_RECEIVE_COUNT);
  });

  it('keeps every stage\'s executor within the queue\'s visibility timeout and inside the symbol lease', () => {
    for (const [stage, config] of Object.entries(STAGES)) {
      const timeout = config.functions.executor.timeoutSeconds;
      expect(timeout * VISIBILITY_TO_TIMEOUT_RATIO, stage).toBeLessThanOrEqual(EXECUTION_VISIBILITY_TIMEOUT_SECONDS);
      expect(DEFAULT_LOCK_LEASE_SECONDS, stage).toBeGreaterThan(timeout);
    }
  });

  it('spreads the scan\'s retries over [half, full] of a doubling step', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.double({ min: 0, max: 0.999999, noNaN: true }), (retry, u) => {
        const step = 100 * 2 ** (retry - 1);
        const delay = scanRetryDelayMs(retry, 100, () => u);
        expect(delay).toBeGreaterThanOrEqual(step / 2);
        expect(delay).toBeLessThanOrEqual(step);
      }),
    );
    expect(new Set(Array.from({ length: 50 }, () => scanRetryDelayMs(1, 1000))).size).toBeGreaterThan(1);
  });
});
