/**
 * Redrive of the execution DLQ (OPS-2) over SQS, two ways:
 * - a message move task (StartMessageMoveTask, the API behind the console's "Start DLQ
 *   redrive"): SQS moves the messages asynchronously;
 * - a client-side move: receive from the DLQ, send to the queue, delete; for SQS endpoints
 *   without move tasks (the embedded emulator has none).
 */
import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  StartMessageMoveTaskCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { ConfigError } from '../../domain/errors.js';
import type { DeadLetterRedrive, RedriveResult } from '../../operations/ports.js';

/** Most messages one ReceiveMessage returns. */
const SQS_RECEIVE_LIMIT = 10;
/** Errors of an SQS endpoint that does not implement message move tasks. */
const MOVE_TASK_UNSUPPORTED = new Set(['InvalidAction', 'UnsupportedOperation', 'AWS.SimpleQueueService.UnsupportedOperation']);

export interface RedriveQueues {
  readonly queueUrl: string;
  readonly dlqUrl: string;
}

/**
 * Client-side move: send first, delete second. A crash in between duplicates the message, which
 * the executor absorbs (EXE-1); the other order could lose it. Each message keeps its group and
 * gets a new deduplication id (the original may still be in the FIFO deduplication window).
 * @returns how many moved.
 */
export async function redriveByClientMove(sqs: Pick<SQSClient, 'send'>, queues: RedriveQueues): Promise<number> {
  let moved = 0;
  for (;;) {
    const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queues.dlqUrl, MaxNumberOfMessages: SQS_RECEIVE_LIMIT, MessageSystemAttributeNames: ['All'] }));
    const messages = out.Messages ?? [];
    if (messages.length === 0) return moved;
    for (const m of messages) {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: queues.queueUrl,
          MessageBody: m.Body ?? '',
          MessageGroupId: m.Attributes?.MessageGroupId ?? 'redrive',
          MessageDeduplicationId: `${m.MessageId ?? ''}-redrive-${Date.now()}`,
        }),
      );
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queues.dlqUrl, ReceiptHandle: m.ReceiptHandle ?? '' }));
      moved += 1;
    }
  }
}

/** What a message move task was started with. */
export interface MoveTask {
  readonly taskHandle: string;
  readonly sourceArn: string;
  readonly destinationArn: string;
}

/**
 * One SQS message move task from the DLQ (source) back to the execution queue (destination).
 * `aws sqs list-message-move-tasks --source-arn <DLQ ARN>` shows its progress.
 */
export async function startMoveTask(sqs: Pick<SQSClient, 'send'>, queues: RedriveQueues): Promise<MoveTask> {
  const arnOf = async (url: string): Promise<string> => {
    const out = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
    const arn = out.Attributes?.QueueArn;
    if (!arn) throw new ConfigError([`no QueueArn for ${url}`]);
    return arn;
  };
  const sourceArn = await arnOf(queues.dlqUrl);
  const destinationArn = await arnOf(queues.queueUrl);
  const task = await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: sourceArn, DestinationArn: destinationArn }));
  return { taskHandle: task.TaskHandle ?? '', sourceArn, destinationArn };
}

function isMoveTaskUnsupported(error: unknown): boolean {
  const e = error as { name?: unknown; Code?: unknown } | null;
  return typeof e === 'object' && e !== null && (MOVE_TASK_UNSUPPORTED.has(String(e.name)) || MOVE_TASK_UNSUPPORTED.has(String(e.Code)));
}

export class SqsDeadLetterRedrive implements DeadLetterRedrive {
  constructor(
    private readonly options: {
      readonly sqs: Pick<SQSClient, 'send'>;
      readonly queues: RedriveQueues;
      /** Start a move task first, and move client-side only when the endpoint has none. */
      readonly preferMoveTask: boolean;
    },
  ) {}

  async redrive(): Promise<RedriveResult> {
    const { sqs, queues } = this.options;
    if (this.options.preferMoveTask) {
      try {
        const task = await startMoveTask(sqs, queues);
        return { method: 'move-task', taskHandle: task.taskHandle };
      } catch (error) {
        if (!isMoveTaskUnsupported(error)) throw error;
        // The endpoint cannot move messages itself: this process moves them.
      }
    }
    return { method: 'client-move', redriven: await redriveByClientMove(sqs, queues) };
  }
}
