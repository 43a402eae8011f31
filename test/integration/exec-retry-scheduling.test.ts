/**
 * EXE-4 on the queue emulator: a record that failed with a retryable error is made visible
 * again after its backoff through ChangeMessageVisibility; a poison record is dead-lettered by
 * the executor and acknowledged (it never comes back); if that dead-letter send fails, the poison
 * record fails and comes back after a backoff (nothing is lost).
 */
import { ChangeMessageVisibilityCommand, DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand, type Message } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { SqsRetryScheduler } from '../../shared/adapters/aws/sqs-retry-scheduler.js';
import { StorageError } from '../../shared/domain/errors.js';
import type { RetryRequest, RetryScheduler } from '../../shared/ports/retry-scheduler.js';
import { ManualClock, type TestStack } from '../support/local-runtime.js';
import { T0, buyIntent, executorHandler, faultyRuntime, sendIntents, useExecStack } from './exec-support.js';

const SHORT_VISIBILITY_SECONDS = 1;
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Retry scheduling of failed intent messages (EXE-4)', () => {
  let t: TestStack;
  const clock = new ManualClock(T0);

  useExecStack((stack) => (t = stack));

  async function receive(visibility: number): Promise<Message[]> {
    const out = await t.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: t.config.executionQueueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: visibility, MessageSystemAttributeNames: ['All'] }),
    );
    return out.Messages ?? [];
  }

  function toEvent(messages: readonly Message[]): SQSEvent {
    return {
      Records: messages.map((m) => ({
        messageId: m.MessageId ?? '',
        receiptHandle: m.ReceiptHandle ?? '',
        body: m.Body ?? '',
        attributes: {
          ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? '1',
          SentTimestamp: '0',
          SenderId: 'test',
          ApproximateFirstReceiveTimestamp: '0',
          ...(m.Attributes?.MessageGroupId ? { MessageGroupId: m.Attributes.MessageGroupId } : {}),
        },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:execution.fifo',
        awsRegion: 'us-east-1',
      })),
    };
  }

  it('delays a retryable failure by its backoff and dead-letters a poison message at once', async () => {
    const { runtime, faults } = faultyRuntime(t, clock);
    // A duplicate of an executed intent succeeds without calling the exchange: the batch is a
    // partial failure, answered with batchItemFailures.
    const done = buyIntent('retry-duplicate', clock.now(), { symbol: 'BTC/USDT' });
    await runtime.invoke('executor', { intent: done });
    const good = buyIntent('retry-transient', clock.now(), { symbol: 'ETH/USDT' });
    await sendIntents(t, [done, good]);
    await t.sqs.send(new SendMessageCommand({ QueueUrl: t.config.executionQueueUrl, MessageBody: '{not json', MessageGroupId: 'POISON', MessageDeduplicationId: 'poison-1' }));
    faults.script('createOrder', 'rate-limit-429');

    const messages = await receive(SHORT_VISIBILITY_SECONDS);
    expect(messages).toHaveLength(3);
    const requests: RetryRequest[] = [];
    const real = new SqsRetryScheduler({ sqs: t.sqs, queueUrl: t.config.executionQueueUrl });
    const recording: RetryScheduler = {
      retryLater: async (r) => {
        requests.push(...r);
        await real.retryLater(r);
      },
    };
    const response = (await executorHandler(runtime, { retryScheduler: recording, random: () => 0.999999 })(toEvent(messages))) as { batchItemFailures: { itemIdentifier: string }[] };
    const transient = messages.find((m) => m.Body === JSON.stringify(good));
    const poison = messages.find((m) => m.Body === '{not json');
    expect(poison).toBeDefined();
    expect(response.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([transient?.MessageId]);
    expect(requests).toEqual([{ messageId: transient?.MessageId, receiptHandle: transient?.ReceiptHandle, delaySeconds: 10 }]);

    // The event source deletes what succeeded, the dead-lettered poison message included.
    for (const m of messages.filter((x) => x !== transient)) {
      await t.sqs.send(new DeleteMessageCommand({ QueueUrl: t.config.executionQueueUrl, ReceiptHandle: m.ReceiptHandle ?? '' }));
    }

    // After the short visibility nothing is back (the transient one still waits its backoff);
    // the poison message is in the DLQ with its reason.
    await wait(SHORT_VISIBILITY_SECONDS * 1000 + 500);
    expect(await receive(30)).toEqual([]);
    const dead = await t.sqs.send(new ReceiveMessageCommand({ QueueUrl: t.config.executionDlqUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'] }));
    const letter = (dead.Messages ?? []).find((m) => m.Body === '{not json');
    expect(letter?.MessageAttributes?.['errorCode']?.StringValue).toBe('VALIDATION_FAILED');
    for (const m of [...(dead.Messages ?? [])]) await t.sqs.send(new DeleteMessageCommand({ QueueUrl: t.config.executionDlqUrl, ReceiptHandle: m.ReceiptHandle ?? '' }));
    if (transient?.ReceiptHandle) await t.sqs.send(new DeleteMessageCommand({ QueueUrl: t.config.executionQueueUrl, ReceiptHandle: transient.ReceiptHandle }));
  });

  it('fails a poison record whose dead-letter send failed and brings it back after a backoff, so it is never lost', async () => {
    const { runtime } = faultyRuntime(t, clock);
    await t.sqs.send(new SendMessageCommand({ QueueUrl: t.config.executionQueueUrl, MessageBody: '{still not json', MessageGroupId: 'POISON', MessageDeduplicationId: 'poison-2' }));
    const messages = await receive(60);
    const requests: RetryRequest[] = [];
    const handler = executorHandler(runtime, {
      retryScheduler: { retryLater: async (r) => void requests.push(...r) },
      random: () => 0,
      deadLetters: { send: async () => Promise.reject(new Error('the DLQ is unreachable')) },
    });
    // The only record failed, so the invocation fails (the event source deletes nothing).
    await expect(handler(toEvent(messages))).rejects.toBeDefined();
    // The failed send is a transient problem: the record comes back after the first backoff step.
    expect(requests).toEqual([{ messageId: messages[0]?.MessageId, receiptHandle: messages[0]?.ReceiptHandle, delaySeconds: 5 }]);
    expect(await receive(30)).toEqual([]);
    await t.sqs.send(new DeleteMessageCommand({ QueueUrl: t.config.executionQueueUrl, ReceiptHandle: messages[0]?.ReceiptHandle ?? '' }));
  });

  it('still schedules the retry when every record of the batch failed and the invocation fails', async () => {
    const { runtime, faults } = faultyRuntime(t, clock);
    const intent = buyIntent('retry-full-batch', clock.now(), { symbol: 'XRP/USDT' });
    await sendIntents(t, [intent]);
    faults.script('fetchTickers', 'maintenance');
    const messages = await receive(SHORT_VISIBILITY_SECONDS);
    const requests: RetryRequest[] = [];
    await expect(
      executorHandler(runtime, { retryScheduler: { retryLater: async (r) => void requests.push(...r) }, random: () => 0 })(toEvent(messages)),
    ).rejects.toMatchObject({ code: 'EXCHANGE_TRANSIENT' });
    expect(requests.map((r) => r.delaySeconds)).toEqual([5]);
    await t.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: t.config.executionQueueUrl, ReceiptHandle: messages[0]?.ReceiptHandle ?? '', VisibilityTimeout: 0 }));
    expect(await runtime.drain({ visibilityTimeoutSeconds: 0 })).toMatchObject({ succeeded: 1 });
  });

  describe('Class: SqsRetryScheduler', () => {
    it('makes a message visible again after the given delay', async () => {
      const intent = buyIntent('retry-adapter', clock.now(), { symbol: 'SOL/USDT' });
      await sendIntents(t, [intent]);
      const [m] = await receive(60);
      const scheduler = new SqsRetryScheduler({ sqs: t.sqs, queueUrl: t.config.executionQueueUrl });
      await scheduler.retryLater([{ messageId: m?.MessageId ?? '', receiptHandle: m?.ReceiptHandle ?? '', delaySeconds: 0 }]);
      const again = await receive(60);
      expect(again.map((x) => x.MessageId)).toEqual([m?.MessageId]);
      await t.sqs.send(new DeleteMessageCommand({ QueueUrl: t.config.executionQueueUrl, ReceiptHandle: again[0]?.ReceiptHandle ?? '' }));
    });

    it('reports the entries SQS refused as a coded storage error', async () => {
      const scheduler = new SqsRetryScheduler({ sqs: t.sqs, queueUrl: t.config.executionQueueUrl });
      await expect(scheduler.retryLater([{ messageId: 'm-1', receiptHandle: 'not-a-receipt-handle', delaySeconds: 5 }])).rejects.toBeInstanceOf(StorageError);
    });
  });
});
