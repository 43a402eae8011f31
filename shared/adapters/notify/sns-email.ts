/** Email through the SNS alarm topic (OPS-10): its email subscriptions receive each message. */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { Notification } from '../../domain/notification.js';
import { NotificationError, type NotificationChannel } from '../../ports/notifier.js';

/** SNS refuses email subjects longer than this. */
export const SNS_SUBJECT_MAX = 100;

export class SnsEmail implements NotificationChannel {
  readonly name = 'email';

  constructor(private readonly options: { readonly client: Pick<SNSClient, 'send'>; readonly topicArn: string }) {}

  async send(notification: Notification): Promise<void> {
    try {
      await this.options.client.send(
        new PublishCommand({
          TopicArn: this.options.topicArn,
          // Subjects are ASCII without line breaks.
          Subject: `Tradewarden: ${notification.title}`.replace(/[^\x20-\x7e]/g, ' ').slice(0, SNS_SUBJECT_MAX),
          Message: notification.text,
        }),
      );
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 0;
      throw new NotificationError(`sns publish: ${error instanceof Error ? error.name : 'failed'}`, status === 0 || status === 429 || status >= 500, { cause: error });
    }
  }
}
