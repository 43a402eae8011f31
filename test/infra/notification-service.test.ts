/**
 * OPS-10 on AWS: the notifier is its own function, fed by a rule on the domain bus and a daily
 * rule, each target with retries and the notifier's own dead-letter queue; its secret is
 * referenced by name (never created or written by the stack) and readable by the notifier only;
 * its webhook is a public function URL (checked by a secret token).
 */
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { NOTIFIED_EVENTS } from '../../infra/constructs/notification-service.js';
import { NOTIFIER_ENV } from '../../shared/runtime/notifier-config.js';
import { actionsOf, buildStack, logicalId, policyStatements, resourcesOf, type Built } from './stack-fixture.js';

describe('Construct: NotificationService', () => {
  let b: Built;
  let notifierFn: string;
  let dlq: string;

  beforeAll(() => {
    b = buildStack();
    notifierFn = logicalId(b.stack, b.stack.notifier.function.function);
    dlq = logicalId(b.stack, b.stack.notifier.deadLetterQueue as unknown as { node: { defaultChild?: unknown } });
  });

  it('runs as its own function with its own dead-letter queue for failed invocations', () => {
    const fn = resourcesOf(b.template, 'AWS::Lambda::Function')[notifierFn];
    const env = (fn?.Properties?.['Environment'] as { Variables: Record<string, unknown> }).Variables;
    expect(env['POWERTOOLS_SERVICE_NAME']).toBe('notifier');
    expect(env[NOTIFIER_ENV.notifierSecretArn]).toBeDefined();
    expect(env[NOTIFIER_ENV.alarmTopicArn]).toBeDefined();
    expect(fn?.Properties?.['DeadLetterConfig']).toEqual({ TargetArn: { 'Fn::GetAtt': [dlq, 'Arn'] } });
  });

  it('is driven by a rule on the domain bus for the notable events, with retries then its DLQ', () => {
    b.template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['tradewarden'], 'detail-type': [...NOTIFIED_EVENTS] },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [notifierFn, 'Arn'] }, DeadLetterConfig: { Arn: { 'Fn::GetAtt': [dlq, 'Arn'] } }, RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 2 }) })],
    });
  });

  it('asks for the daily summary once a day', () => {
    b.template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'cron(0 8 * * ? *)',
      Targets: [Match.objectLike({ Input: JSON.stringify({ summary: 'daily' }), DeadLetterConfig: { Arn: { 'Fn::GetAtt': [dlq, 'Arn'] } } })],
    });
  });

  it('references its secret by name from the deployment config, readable by the notifier alone', () => {
    const fn = resourcesOf(b.template, 'AWS::Lambda::Function')[notifierFn];
    const env = (fn?.Properties?.['Environment'] as { Variables: Record<string, unknown> }).Variables;
    expect(env[NOTIFIER_ENV.notifierSecretArn]).toBe(b.config.notifierSecretName);
    expect(resourcesOf(b.template, 'AWS::SecretsManager::Secret')).toEqual({});
    const role = (fn?.Properties?.['Role'] as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0];
    const readers = policyStatements(b.template)
      .filter(({ statement }) => actionsOf(statement).includes('secretsmanager:GetSecretValue') && JSON.stringify(statement.Resource).includes(`:secret:${b.config.notifierSecretName}-`))
      .map(({ roles }) => JSON.stringify(roles));
    expect(readers).toEqual([JSON.stringify([{ Ref: role }])]);
    expect(Object.values(b.template.findOutputs('*')).some((o) => o['Value'] === b.config.notifierSecretName)).toBe(true);
  });

  it('exposes the Telegram webhook as a function URL of the notifier', () => {
    b.template.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'NONE', TargetFunctionArn: { 'Fn::GetAtt': [notifierFn, 'Arn'] } });
    expect(Object.keys(b.template.findOutputs('*')).some((k) => k.includes('TelegramWebhookUrl'))).toBe(true);
  });
});
