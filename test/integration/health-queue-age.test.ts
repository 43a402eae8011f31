/**
 * EXE-13 / HLT-2: health reports intents that wait in the execution queue longer than the
 * executor normally takes, with the figure: the age of the oldest message, as the AWS alarm reads
 * ApproximateAgeOfOldestMessage. Locally the age comes from the embedded SQS, read without
 * receiving anything (no receive count, no visibility change).
 */
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FauxqsQueueAges } from '../../local-runtime/fauxqs-queue-ages.js';
import type { LocalRuntime } from '../../local-runtime/runtime.js';
import { EXECUTOR_NORMAL_LATENCY_SECONDS } from '../../shared/domain/timing.js';
import { EXECUTION_DLQ_NAME, EXECUTION_QUEUE_NAME } from '../../shared/runtime/container.js';
import { ManualClock, startTestStack, type TestStack } from '../support/local-runtime.js';
import { T0, buyIntent, sendIntents } from './exec-support.js';

describe('Health: intents waiting in the execution queue (EXE-13, HLT-2)', () => {
  let t: TestStack;
  let runtime: LocalRuntime;
  /** How far the emulator's clock is moved ahead when health reads the ages, in seconds. */
  let ahead = 0;
  const clock = new ManualClock(T0);

  beforeAll(async () => {
    t = await startTestStack({ TW_PAPER_SEED: 'queue-age', TW_WATCHLIST: 'BTC/USDT', TW_INTENT_TTL_SECONDS: '120' });
    const endpoint = t.config.sqsEndpoint ?? '';
    runtime = t.runtime({
      clock,
      queueAges: new FauxqsQueueAges({
        endpoint,
        queues: { [EXECUTION_QUEUE_NAME]: t.config.executionQueueUrl, [EXECUTION_DLQ_NAME]: t.config.executionDlqUrl },
        now: () => Date.now() + ahead * 1000,
      }),
    });
  });

  afterAll(async () => {
    await t?.stop();
  });

  const ageCheck = async () => (await runtime.health()).checks.find((c) => c.name === `queue:${EXECUTION_QUEUE_NAME}:age`);

  it('is OK with an empty queue', async () => {
    expect(await ageCheck()).toMatchObject({ status: 'OK', detail: 'no message waiting' });
  });

  it('is DEGRADED, with the figure, while an intent waits longer than the executor normally takes, FAILING past its time-to-live, and OK once worked', async () => {
    // Prepare: the executor is stopped; one intent is queued.
    await sendIntents(t, [buyIntent('waiting', clock.now())]);

    // Act and assess: a wait within the executor's normal latency is no news.
    ahead = 5;
    expect((await ageCheck())?.status).toBe('OK');

    ahead = EXECUTOR_NORMAL_LATENCY_SECONDS + 30;
    const degraded = await runtime.health();
    const check = degraded.checks.find((c) => c.name === `queue:${EXECUTION_QUEUE_NAME}:age`);
    expect(check?.status).toBe('DEGRADED');
    expect(check?.detail).toMatch(new RegExp(`^oldest message waited (9[0-9]) s, more than the executor's normal ${EXECUTOR_NORMAL_LATENCY_SECONDS} s`));
    expect(degraded.status).not.toBe('OK');
    expect(degraded.metrics.oldestIntentAgeSeconds).toBeGreaterThanOrEqual(90);

    ahead = 130;
    expect((await ageCheck())?.status).toBe('FAILING');

    // Reading the age received nothing: the message was never delivered.
    const attributes = await t.sqs.send(new GetQueueAttributesCommand({ QueueUrl: t.config.executionQueueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }));
    expect(attributes.Attributes?.ApproximateNumberOfMessages).toBe('1');

    // The executor starts and works the queue.
    expect(await runtime.drain({ visibilityTimeoutSeconds: 0 })).toMatchObject({ succeeded: 1 });
    expect(await ageCheck()).toMatchObject({ status: 'OK', detail: 'no message waiting' });
  });
});
