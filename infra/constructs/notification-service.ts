/**
 * The notifier on AWS (OPS-10): its own function, so trading never waits on a chat service.
 * - An EventBridge rule on the domain bus sends it each notable event; a daily rule asks for
 *   the summary. Both targets retry, then put the event in the notifier's own dead-letter
 *   queue, which also receives the function's failed asynchronous invocations.
 * - Its secret holds the Telegram bot token, chat id and webhook secret and the Slack webhook
 *   URL. Like the exchange keys it is referenced by name from the deployment config, never
 *   created or written by the stack: no deploy, update or rollback can overwrite what the
 *   operator stored. The operator creates it once (`{}` for email only). Email goes to the
 *   alarm topic.
 * - Its function URL is Telegram's webhook. Telegram cannot sign requests, so the URL is
 *   public and the function answers only requests carrying the webhook secret token.
 */
import { CfnOutput, Duration } from 'aws-cdk-lib';
import { Rule, RuleTargetInput, Schedule, type IEventBus } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { FunctionUrlAuthType, type FunctionUrl } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret, type ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { join } from 'node:path';
import { EVENT_SOURCE } from '../../shared/adapters/aws/event-publishers.js';
import { DomainEventType } from '../../shared/domain/domain-events.js';
import { NOTIFIER_ENV } from '../../shared/runtime/notifier-config.js';
import { PROJECT_ROOT, type BundleSpec } from '../bundling/esbuild-options.js';
import { JobDeadLetterQueue } from './dead-letter-queue.js';
import { ExchangeSecret } from './exchange-secret.js';
import { JobFunction } from './job-function.js';
import { JobPermissions, NOTIFIER_ACCESS } from './job-permissions.js';
import type { TradewardenTables } from './tables.js';

/** Events the rule delivers (the daily summary comes from its own schedule). */
export const NOTIFIED_EVENTS = [
  DomainEventType.OrderFilled,
  DomainEventType.OrderRejected,
  DomainEventType.OrderUnknown,
  DomainEventType.TradingPaused,
  DomainEventType.TradingResumed,
  DomainEventType.DriftAlarm,
  DomainEventType.HealthChanged,
] as const;

/** Fields of the notifier secret (JSON), all optional: a channel without its fields is off. */
export const NOTIFIER_SECRET_FIELDS = ['telegramBotToken', 'telegramChatId', 'telegramWebhookSecret', 'slackWebhookUrl'] as const;

export interface NotificationServiceProps {
  /** The environment every function gets (the notifier parses the same configuration). */
  readonly environment: Readonly<Record<string, string>>;
  readonly bundle: BundleSpec;
  readonly logRetention: RetentionDays;
  readonly tables: TradewardenTables;
  readonly eventBus: IEventBus;
  readonly alarmTopic: ITopic;
  readonly executionQueue: IQueue;
  readonly executionDeadLetterQueue: IQueue;
  readonly exchangeSecret: ExchangeSecret;
  /** Name of the existing secret with the chat credentials (NOTIFIER_SECRET_FIELDS). */
  readonly secretName: string;
  readonly mode: 'paper' | 'live';
  /**
   * The handler's source file.
   * @default functions/notifier/handler.ts
   */
  readonly entry?: string;
  /**
   * When the daily summary goes out (UTC).
   * @default 08:00 UTC
   */
  readonly summaryAt?: { readonly hour: number; readonly minute: number };
}

export class NotificationService extends Construct {
  readonly function: JobFunction;
  readonly deadLetterQueue: IQueue;
  readonly secret: ISecret;
  readonly webhook: FunctionUrl;

  constructor(scope: Construct, id: string, props: NotificationServiceProps) {
    super(scope, id);
    this.deadLetterQueue = new JobDeadLetterQueue(this, 'Dlq').queue;
    this.secret = Secret.fromSecretNameV2(this, 'Secret', props.secretName);

    this.function = new JobFunction(this, 'Notifier', {
      job: 'notifier',
      memoryMb: 256,
      timeout: Duration.seconds(30),
      logRetention: props.logRetention,
      environment: {
        ...props.environment,
        POWERTOOLS_SERVICE_NAME: 'notifier',
        // The name: a valid SecretId that does not depend on the ARN's random suffix.
        [NOTIFIER_ENV.notifierSecretArn]: props.secretName,
        [NOTIFIER_ENV.alarmTopicArn]: props.alarmTopic.topicArn,
      },
      bundle: props.bundle,
      entry: props.entry ?? join(PROJECT_ROOT, 'functions', 'notifier', 'handler.ts'),
      deadLetterQueue: this.deadLetterQueue,
    });
    new JobPermissions(this.function, 'Permissions', {
      job: 'notifier',
      access: NOTIFIER_ACCESS,
      role: this.function.role,
      tables: props.tables,
      executionQueue: props.executionQueue,
      executionDeadLetterQueue: props.executionDeadLetterQueue,
      eventBus: props.eventBus,
      exchangeSecret: props.exchangeSecret,
      mode: props.mode,
    });
    this.secret.grantRead(this.function.role);
    props.alarmTopic.grantPublish(this.function.role);

    const target = (input?: RuleTargetInput) =>
      new LambdaFunction(this.function.function, { deadLetterQueue: this.deadLetterQueue, retryAttempts: 2, maxEventAge: Duration.hours(2), ...(input ? { event: input } : {}) });
    new Rule(this, 'Events', {
      description: 'Tradewarden events people are told about',
      eventBus: props.eventBus,
      eventPattern: { source: [EVENT_SOURCE], detailType: [...NOTIFIED_EVENTS] },
      targets: [target()],
    });
    const at = props.summaryAt ?? { hour: 8, minute: 0 };
    new Rule(this, 'DailySummary', {
      description: 'Tradewarden daily summary',
      schedule: Schedule.cron({ hour: String(at.hour), minute: String(at.minute) }),
      targets: [target(RuleTargetInput.fromObject({ summary: 'daily' }))],
    });

    new CfnOutput(this, 'SecretName', {
      value: props.secretName,
      description: 'Name of the notifier secret: create it with {"telegramBotToken","telegramChatId","telegramWebhookSecret","slackWebhookUrl"} (or {} for email only); the stack never writes it',
    });
    this.webhook = this.function.function.addFunctionUrl({ authType: FunctionUrlAuthType.NONE });
    new CfnOutput(this, 'TelegramWebhookUrl', {
      value: this.webhook.url,
      description: 'setWebhook url for the Telegram bot, with secret_token = the secret\'s telegramWebhookSecret',
    });
  }
}
