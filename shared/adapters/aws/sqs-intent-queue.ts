/**
 * Sends intents to the FIFO execution queue: group = symbol (intents of one symbol are worked
 * in order, one at a time), deduplication id = intent id (SQS drops a re-send within its
 * five-minute window; the executor's claim covers any later one).
 */
import { GetQueueAttributesCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Intent } from '../../domain/intent.js';
import { StorageError } from '../../domain/errors.js';
import type { IntentQueue, QueueInspector } from '../../ports/intent-queue.js';

/** SQS accepts at most ten entries per SendMessageBatch. */
const SQS_BATCH_LIMIT = 10;

export class SqsIntentQueue implements IntentQueue {
  constructor(private readonly options: { sqs: SQSClient; queueUrl: string }) {}

  async send(intents: readonly Intent[]): Promise<void> {
    for (let i = 0; i < intents.length; i += SQS_BATCH_LIMIT) {
      const chunk = intents.slice(i, i + SQS_BATCH_LIMIT);
      const out = await this.options.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: this.options.queueUrl,
          Entries: chunk.map((intent, n) => ({
            Id: String(n),
            MessageBody: JSON.stringify(intent),
            MessageGroupId: intent.symbol,
            MessageDeduplicationId: intent.id,
          })),
        }),
      );
      // A partial batch failure must fail the scan, never be dropped (HLT-5).
      if (out.Failed && out.Failed.length > 0) {
        throw new StorageError(`SQS refused ${out.Failed.length} of ${chunk.length} intents`, {
          details: { failed: out.Failed.map((f) => ({ code: f.Code, message: f.Message })) },
        });
      }
    }
  }
}

export class SqsQueueInspector implements QueueInspector {
  constructor(private readonly options: { sqs: SQSClient; queues: Readonly<Record<string, string>> }) {}

  async depths(): Promise<Readonly<Record<string, number>>> {
    const result: Record<string, number> = {};
    for (const [name, url] of Object.entries(this.options.queues)) {
      const out = await this.options.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
      );
      const visible = Number(out.Attributes?.ApproximateNumberOfMessages ?? '0');
      const inFlight = Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? '0');
      result[name] = visible + inFlight;
    }
    return result;
  }
}
