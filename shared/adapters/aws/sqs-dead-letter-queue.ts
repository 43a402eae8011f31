/**
 * The execution queue's dead-letter queue on SQS. The error code and reason travel as message
 * attributes, so the console and `ops` show why a message is there without parsing its body.
 * In a FIFO DLQ the message keeps its group; its deduplication id is the failed message's id, so
 * dead-lettering the same delivery twice (a crash before the acknowledgement) stores it once,
 * while a redriven copy (a new message id) that fails again is stored again.
 */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DeadLetter, DeadLetterQueue } from '../../ports/dead-letter-queue.js';

/** Message attribute names on a dead letter. */
export const DEAD_LETTER_ATTRIBUTE = { errorCode: 'errorCode', errorReason: 'errorReason', sourceMessageId: 'sourceMessageId' } as const;
/** Longest reason kept in the attribute: enough to read, small next to the 256 KB message limit. */
export const MAX_REASON_CHARS = 1024;
/**
 * Characters outside what every SQS implementation accepts in a message attribute (#x9, #xA,
 * #xD, #x20-#xD7FF, #xE000-#xFFFD). A reason quotes the bad input, which may hold any decoded
 * character (a JSON escape of a control character, a lone surrogate): those become U+FFFD.
 */
const NOT_SQS_TEXT = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD]/gu;
/** Group of a dead letter whose source message had none. */
const FALLBACK_GROUP = 'dead-letters';

export class SqsDeadLetterQueue implements DeadLetterQueue {
  readonly #fifo: boolean;

  constructor(private readonly options: { readonly sqs: SQSClient; readonly queueUrl: string }) {
    this.#fifo = options.queueUrl.endsWith('.fifo');
  }

  async send(letter: DeadLetter): Promise<void> {
    const text = (value: string) => {
      const clean = value.replace(NOT_SQS_TEXT, '\uFFFD');
      return { DataType: 'String', StringValue: clean.length > 0 ? clean : '-' };
    };
    await this.options.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.options.queueUrl,
        MessageBody: letter.body,
        MessageAttributes: {
          [DEAD_LETTER_ATTRIBUTE.errorCode]: text(letter.errorCode),
          [DEAD_LETTER_ATTRIBUTE.errorReason]: text(letter.reason.slice(0, MAX_REASON_CHARS)),
          [DEAD_LETTER_ATTRIBUTE.sourceMessageId]: text(letter.messageId),
        },
        ...(this.#fifo ? { MessageGroupId: letter.groupId ?? FALLBACK_GROUP, MessageDeduplicationId: letter.messageId } : {}),
      }),
    );
  }
}
