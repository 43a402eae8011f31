/**
 * OPS-2 / EXE-1 / SEC-4: the dead-letter round trip on the emulators. A message whose failure
 * persists dead-letters after maxReceiveCount; `npm run ops -- redrive` (run in-process) moves it
 * back and the executor processes it exactly once. A poison message goes straight back to the
 * DLQ on its first receive and changes no state on the way. On AWS the same command starts
 * an SQS message move task from the DLQ to the queue.
 */
import { GetQueueAttributesCommand, SendMessageCommand, StartMessageMoveTaskCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { EXECUTION_QUEUE } from '../../shared/definitions/queues.js';
import { clientOrderIdFor } from '../../shared/domain/order.js';
import { runOps, startAwsRedrive } from '../../scripts/ops.js';
import { ManualClock, type TestStack } from '../support/local-runtime.js';
import { snapshotState } from '../support/snapshot.js';
import { PAST_LEASES_MS, T0, buyIntent, expectAtMostOneOrderPerIntent, expectAudited, expectLedgerMatchesExchange, faultyRuntime, paperOrders, sendIntents, useExecStack } from './exec-support.js';

const MAX_RECEIVES = EXECUTION_QUEUE.deadLetter?.maxReceiveCount ?? 5;

async function visibleMessages(t: TestStack, url: string): Promise<number> {
  const out = await t.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
  return Number(out.Attributes?.ApproximateNumberOfMessages ?? '0') + Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? '0');
}

describe('DLQ round trip (OPS-2)', () => {
  let t: TestStack;
  const clock = new ManualClock(T0);

  useExecStack((stack) => (t = stack));

  it('dead-letters an intent whose transient fault persists, then processes the redriven message exactly once', async () => {
    // Prepare: the exchange is "under maintenance" for longer than five deliveries.
    const r = faultyRuntime(t, clock);
    const intent = buyIntent('dlq-transient', clock.now());
    const id = clientOrderIdFor(intent.id);
    r.faults.script('createOrder', ...Array<'maintenance'>(MAX_RECEIVES + 5).fill('maintenance'));
    await sendIntents(t, [intent]);

    // Act: deliver until SQS gives up on it.
    const delivered = await r.runtime.drain({ visibilityTimeoutSeconds: 0 });

    // Assess: five failed receives, then the DLQ; the order waits in a resumable state, unsent.
    expect(delivered).toEqual({ received: MAX_RECEIVES, succeeded: 0, failed: MAX_RECEIVES });
    expect(await visibleMessages(t, t.config.executionDlqUrl)).toBe(1);
    expect(await visibleMessages(t, t.config.executionQueueUrl)).toBe(0);
    expect((await r.runtime.containers.executor.orders.get(id))?.state).toBe('SUBMITTING');
    expect(r.faults.createsByClientOrderId.get(id) ?? 0).toBe(0);

    // The fault stops; time passes beyond the re-send grace and the open circuit.
    r.faults.clearScript();
    clock.advance(PAST_LEASES_MS);
    const out: string[] = [];
    expect(await runOps(['redrive'], r.runtime, (line) => out.push(line))).toBe(0);
    expect(JSON.parse(out.join(''))).toEqual({ method: 'client-move', redriven: 1 });
    expect(await visibleMessages(t, t.config.executionDlqUrl)).toBe(0);

    expect(await r.runtime.drain({ visibilityTimeoutSeconds: 0 })).toEqual({ received: 1, succeeded: 1, failed: 0 });
    const c = r.runtime.containers.executor;
    expect((await c.orders.get(id))?.state).toBe('FILLED');
    expect(r.faults.createsByClientOrderId.get(id)).toBe(1);
    expect((await paperOrders(c)).filter((o) => o.clientOrderId === id)).toHaveLength(1);
    await expectAtMostOneOrderPerIntent(c, [intent], r.faults);
    await expectLedgerMatchesExchange(c);
    await expectAudited(c, id, ['intent.accepted', 'budget.reserved', 'order.submitting', 'order.sent']);
  });

  it('absorbs a second redrive of an intent that was already executed: no new order, no ledger change', async () => {
    const r = faultyRuntime(t, clock);
    const intent = buyIntent('dlq-twice', clock.now());
    await sendIntents(t, [intent]);
    await r.runtime.drain({ visibilityTimeoutSeconds: 0 });
    const c = r.runtime.containers.executor;
    const bookBefore = await c.accounts.get(c.config.quoteCurrency);
    const ordersBefore = await paperOrders(c);

    // The same intent lands in the DLQ again (an operator copy, a crash between send and delete).
    await t.sqs.send(
      new SendMessageCommand({ QueueUrl: t.config.executionDlqUrl, MessageBody: JSON.stringify(intent), MessageGroupId: intent.symbol, MessageDeduplicationId: `${intent.id}-copy` }),
    );
    expect(await runOps(['redrive'], r.runtime, () => undefined)).toBe(0);
    expect(await r.runtime.drain({ visibilityTimeoutSeconds: 0 })).toEqual({ received: 1, succeeded: 1, failed: 0 });

    expect(await paperOrders(c)).toEqual(ordersBefore);
    expect(r.faults.createsByClientOrderId.get(clientOrderIdFor(intent.id))).toBe(1);
    expect((await c.accounts.get(c.config.quoteCurrency))?.version).toBe(bookBefore?.version);
    await expectLedgerMatchesExchange(c);
  });

  it('sends redriven poison messages straight back to the DLQ, changing nothing but the heartbeat', async () => {
    const r = faultyRuntime(t, clock);
    const h = r.runtime.containers.health;
    const good = buyIntent('dlq-poison', clock.now());
    const poison = ['{not json', JSON.stringify({ ...good, quoteAmount: 'NaN' }), JSON.stringify({ ...good, surprise: true })];
    for (const [i, body] of poison.entries()) {
      await t.sqs.send(new SendMessageCommand({ QueueUrl: t.config.executionQueueUrl, MessageBody: body, MessageGroupId: `poison-${i}`, MessageDeduplicationId: `poison-${i}` }));
    }
    const notHeartbeat = (item: Record<string, unknown>) => String(item.pk).startsWith('HEARTBEAT#');
    await r.runtime.drain({ visibilityTimeoutSeconds: 0 });
    expect(await visibleMessages(t, t.config.executionDlqUrl)).toBe(poison.length);
    const before = await snapshotState(h.doc, t.config, h.queues, notHeartbeat);

    expect(await runOps(['redrive'], r.runtime, () => undefined)).toBe(0);
    const again = await r.runtime.drain({ visibilityTimeoutSeconds: 0 });

    // One receive each: dead-lettered by the executor and acknowledged.
    expect(again).toEqual({ received: poison.length, succeeded: poison.length, failed: 0 });
    expect(await visibleMessages(t, t.config.executionDlqUrl)).toBe(poison.length);
    expect(await visibleMessages(t, t.config.executionQueueUrl)).toBe(0);
    expect(await snapshotState(h.doc, t.config, h.queues, notHeartbeat)).toBe(before);
    expect(r.faults.forwarded.createOrder).toBe(0);
  });

  it('on AWS, starts one message move task from the DLQ ARN to the queue ARN', async () => {
    // The deployed queues cannot be reached here: a recording client stands in for SQS.
    const sent: unknown[] = [];
    const arns: Record<string, string> = {
      'https://sqs.eu-west-1.amazonaws.com/123456789012/tw-ExecutionQueue.fifo': 'arn:aws:sqs:eu-west-1:123456789012:tw-ExecutionQueue.fifo',
      'https://sqs.eu-west-1.amazonaws.com/123456789012/tw-ExecutionDlq.fifo': 'arn:aws:sqs:eu-west-1:123456789012:tw-ExecutionDlq.fifo',
    };
    const sqs = {
      send: async (command: unknown) => {
        sent.push(command);
        if (command instanceof GetQueueAttributesCommand) return { Attributes: { QueueArn: arns[command.input.QueueUrl ?? ''] } };
        if (command instanceof StartMessageMoveTaskCommand) return { TaskHandle: 'task-1' };
        throw new Error('unexpected command');
      },
    } as unknown as Parameters<typeof startAwsRedrive>[0];

    const task = await startAwsRedrive(sqs, {
      queueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/tw-ExecutionQueue.fifo',
      dlqUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/tw-ExecutionDlq.fifo',
    });

    expect(task).toEqual({ taskHandle: 'task-1', sourceArn: 'arn:aws:sqs:eu-west-1:123456789012:tw-ExecutionDlq.fifo', destinationArn: 'arn:aws:sqs:eu-west-1:123456789012:tw-ExecutionQueue.fifo' });
    const move = sent.find((c): c is StartMessageMoveTaskCommand => c instanceof StartMessageMoveTaskCommand);
    expect(move?.input).toEqual({ SourceArn: task.sourceArn, DestinationArn: task.destinationArn });
  });
});
