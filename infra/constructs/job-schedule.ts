/**
 * An EventBridge Scheduler schedule that runs one scheduled job, built from its shared schedule
 * definition. Delivery is retried by Scheduler and then dead-lettered; a failed run of the
 * function itself goes to the same queue through the function's DeadLetterConfig.
 */
import { Duration, Stack, Validations, type CfnResource } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { policiesOf } from './names.js';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { ContextAttribute, Schedule, ScheduleExpression, ScheduleTargetInput, TimeWindow } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct, type IDependable } from 'constructs';
import type { ScheduleDefinition } from '../../shared/definitions/schedules.js';

/**
 * Retries Lambda itself makes after a scheduled run fails. None: the next scheduled run is the
 * retry, and a failed event goes straight to the dead-letter queue, where it alarms and can be
 * replayed, instead of running late alongside newer runs.
 */
export const SCHEDULED_RUN_RETRY_ATTEMPTS = 0;

/**
 * The payload every scheduled run receives, as the functions' event schemas
 * (shared/runtime/events.ts) accept it: only the slot. `scheduledTime` (ISO 8601, filled in by
 * Scheduler) is the schedule slot the scanner derives deterministic intent ids from; a retried
 * delivery of the same run carries the same value.
 */
export interface ScheduledEvent {
  readonly scheduledTime: string;
}

export interface JobScheduleProps {
  readonly definition: ScheduleDefinition;
  readonly target: IFunction;
  /** Receives events whose delivery failed after Scheduler's retries. */
  readonly deadLetterQueue: IQueue;
  /**
   * Whether the schedule starts enabled.
   * @default true
   */
  readonly enabled?: boolean;
  /**
   * What the function needs before its first run (its role's policies, see `policiesOf`). The schedule is created
   * after them and after its own role's policy, so the first runs do not fail with AccessDenied
   * while IAM is still being created.
   * @default only the schedule's own role
   */
  readonly dependsOn?: readonly IDependable[];
}

export class JobSchedule extends Construct {
  readonly schedule: Schedule;
  /** The role Scheduler assumes to invoke the function and to dead-letter failed deliveries. */
  readonly role: Role;

  constructor(scope: Construct, id: string, props: JobScheduleProps) {
    super(scope, id);
    const { definition } = props;
    const maxEventAge = Duration.seconds(definition.maxEventAgeSeconds);
    const input: ScheduledEvent = { scheduledTime: ContextAttribute.scheduledTime };
    const stack = Stack.of(this);
    this.role = new Role(this, 'Role', {
      description: `EventBridge Scheduler: invoke the Tradewarden ${definition.job}`,
      // Only schedules of this account may assume it (confused-deputy protection).
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': stack.account } } }),
    });
    this.schedule = new Schedule(this, 'Schedule', {
      description: `Runs the Tradewarden ${definition.job} every ${definition.everySeconds} s`,
      schedule: ScheduleExpression.rate(Duration.seconds(definition.everySeconds)),
      timeWindow: TimeWindow.off(),
      enabled: props.enabled ?? true,
      target: new LambdaInvoke(props.target, {
        input: ScheduleTargetInput.fromObject(input),
        retryAttempts: definition.retryAttempts,
        maxEventAge,
        deadLetterQueue: props.deadLetterQueue,
        role: this.role,
      }),
    });
    this.schedule.node.addDependency(...policiesOf(this.role), ...(props.dependsOn ?? []));
    props.target.configureAsyncInvoke({ retryAttempts: SCHEDULED_RUN_RETRY_ATTEMPTS, maxEventAge });

    const functionLogicalId = stack.resolve((props.target.node.defaultChild as CfnResource).logicalId) as string;
    Validations.of(this.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${functionLogicalId}.Arn>:*]`,
      reason:
        'The target grant (Function.grantInvoke) allows lambda:InvokeFunction on the function and on ' +
        "`<function ARN>:*`, i.e. only this one function's versions and aliases; no other function and no other action.",
    });
  }
}
