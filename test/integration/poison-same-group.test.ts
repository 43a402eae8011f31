/**
 * SEC-4 / EXE-9 on the emulators: a poison intent does not stall its symbol. On a FIFO queue the
 * next intent of a group waits until the one before it is gone; the executor moves a record that
 * can never succeed to the DLQ itself (error code and reason as message attributes) and
 * acknowledges it, so the good intent behind it executes in the same or the next delivery,
 * instead of after maxReceiveCount visibility timeouts.
 */
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { clientOrderIdFor } from '../../shared/domain/order.js';
import { ManualClock, type TestStack } from '../support/local-runtime.js';
import { T0, buyIntent, expectLedgerMatchesExchange, faultyRuntime, useExecStack } from './exec-support.js';

describe('Poison intent in a FIFO group (SEC-4)', () => {
  let t: TestStack;
  const clock = new ManualClock(T0);

  useExecStack((stack) => (t = stack));

  it('executes the good intent behind a poison one of the same symbol in the same or next delivery, and dead-letters the poison with its reason', async () => {
    // Prepare: a poison intent (an amount that is not a number) and then a good one, same group.
    const { runtime, faults } = faultyRuntime(t, clock);
    const good = buyIntent('poison-neighbour-good', clock.now(), { symbol: 'SOL/USDT' });
    const poison = JSON.stringify({ ...buyIntent('poison-neighbour-bad', clock.now(), { symbol: 'SOL/USDT' }), quoteAmount: 'NaN' });
    for (const [body, dedup] of [
      [poison, 'poison-neighbour-bad'],
      [JSON.stringify(good), 'poison-neighbour-good'],
    ] as const) {
      await t.sqs.send(new SendMessageCommand({ QueueUrl: t.config.executionQueueUrl, MessageBody: body, MessageGroupId: 'SOL/USDT', MessageDeduplicationId: dedup }));
    }
    const c = runtime.containers.executor;
    const goodOrder = clientOrderIdFor(good.id);

    // Act: deliveries as the event source makes them, with the queue's real visibility timeout
    // (a failed record would not come back within this test).
    const deliveries = [];
    for (let round = 0; round < 2 && (await c.orders.get(goodOrder))?.state !== 'FILLED'; round += 1) {
      deliveries.push(await runtime.deliverOnce());
    }

    // Assess: the good intent was executed exactly once, within two deliveries, with nothing failed.
    expect((await c.orders.get(goodOrder))?.state).toBe('FILLED');
    expect(faults.createsByClientOrderId.get(goodOrder)).toBe(1);
    expect(deliveries.reduce((n, d) => n + d.failed, 0)).toBe(0);
    expect(deliveries.reduce((n, d) => n + d.received, 0)).toBe(2);
    await expectLedgerMatchesExchange(c);

    // The poison intent is in the DLQ, unchanged, with why.
    const dead = await t.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: t.config.executionDlqUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['All'] }),
    );
    expect(dead.Messages?.map((m) => m.Body)).toEqual([poison]);
    const [letter] = dead.Messages ?? [];
    expect(letter?.Attributes?.['MessageGroupId']).toBe('SOL/USDT');
    expect(letter?.MessageAttributes?.['errorCode']?.StringValue).toBe('VALIDATION_FAILED');
    expect(letter?.MessageAttributes?.['errorReason']?.StringValue).toMatch(/quoteAmount/);
    // And the execution queue is empty: nothing waits for a visibility timeout.
    const left = await t.sqs.send(new ReceiveMessageCommand({ QueueUrl: t.config.executionQueueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 0 }));
    expect(left.Messages ?? []).toEqual([]);
  });
});
