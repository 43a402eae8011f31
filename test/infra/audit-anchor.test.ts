/**
 * SEC-5 in the template: the audit checkpoints go to a versioned bucket with Object Lock and a
 * default retention from the deployment config, written by a scheduled function that alone may
 * put objects, and no role of the stack may delete an object or touch retention.
 */
import { describe, expect, it } from 'vitest';
import { STACK_OUTPUT } from '../../shared/definitions/stack-outputs.js';
import { ENV } from '../../shared/runtime/config.js';
import { actionsOf, buildStack, logicalId, policyStatements, resourcesOf, resourcesOfStatement } from './stack-fixture.js';

/** S3 actions that could remove a checkpoint or weaken its lock. */
const FORBIDDEN_S3 = /^s3:(\*|Delete.*|PutObjectRetention|PutObjectLegalHold|BypassGovernanceRetention|PutBucketObjectLockConfiguration|PutBucketVersioning|PutLifecycleConfiguration|PutBucketPolicy|PutObjectVersionAcl|PutObjectAcl)$/;

describe('Construct: AuditAnchor (SEC-5)', () => {
  const dev = buildStack({}, { nag: false });
  const prodLive = buildStack({ stage: 'prod', live: 'true', alarmEmail: 'ops@example.com' }, { nag: false });
  const idOf = (b: typeof dev, construct: { node: { defaultChild?: unknown } }) => logicalId(b.stack, construct);

  it('keeps the checkpoints in a versioned bucket with Object Lock and the configured default retention', () => {
    for (const [b, mode, days] of [
      [dev, 'GOVERNANCE', 7],
      [prodLive, 'COMPLIANCE', 400],
    ] as const) {
      const bucket = resourcesOf(b.template, 'AWS::S3::Bucket')[idOf(b, b.stack.auditAnchor.bucket)];
      expect(b.config.auditCheckpoints).toMatchObject({ lockMode: mode, retentionDays: days });
      expect(bucket?.Properties).toMatchObject({
        ObjectLockEnabled: true,
        VersioningConfiguration: { Status: 'Enabled' },
        ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: mode, Days: days } } },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      });
      expect(bucket?.DeletionPolicy).toBe('Retain');
    }
  });

  it('runs the checkpoint on its schedule, after its permissions exist, with its own alarmed dead-letter queue', () => {
    const rules = resourcesOf(dev.template, 'AWS::Events::Rule');
    const fn = idOf(dev, dev.stack.auditAnchor.function.function);
    const [id, rule] = Object.entries(rules).find(([, r]) => JSON.stringify(r.Properties?.['Targets']).includes(`"${fn}"`)) ?? [];
    expect(rule?.Properties).toMatchObject({ ScheduleExpression: `rate(${dev.config.auditCheckpoints.everyMinutes} minutes)`, State: 'ENABLED' });
    const target = (rule?.Properties?.['Targets'] as { Input: string; DeadLetterConfig: unknown }[])[0];
    expect(JSON.parse(target?.Input ?? '{}')).toEqual({ checkpoint: 'audit' });
    expect(target?.DeadLetterConfig).toBeDefined();
    const dependsOn = (dev.template.toJSON() as { Resources: Record<string, { DependsOn?: string[] }> }).Resources[id ?? '']?.DependsOn ?? [];
    expect(dependsOn.some((d) => d.startsWith('AuditAnchorFunctionPermissionsPolicy'))).toBe(true);
    const dlq = idOf(dev, dev.stack.auditAnchor.deadLetterQueue);
    const alarms = Object.values(resourcesOf(dev.template, 'AWS::CloudWatch::Alarm')).filter((a) => JSON.stringify(a.Properties).includes(`"${dlq}"`));
    expect(alarms.length).toBeGreaterThan(0);
  });

  it('lets only the checkpoint function put objects, only under checkpoints/, and no role delete or unlock one', () => {
    for (const b of [dev, prodLive]) {
      const role = idOf(b, b.stack.auditAnchor.function.role);
      const s3Statements = policyStatements(b.template).filter(({ statement }) => actionsOf(statement).some((a) => a.startsWith('s3:')));
      expect(s3Statements).toHaveLength(1);
      const [only] = s3Statements;
      expect(only?.statement).toMatchObject({ Effect: 'Allow', Action: 's3:PutObject' });
      expect(only?.roles).toEqual([{ Ref: role }]);
      expect(JSON.stringify(resourcesOfStatement(only?.statement ?? { Effect: '', Action: [], Resource: [] }))).toContain('/checkpoints/*');
      for (const { policy, statement } of policyStatements(b.template)) {
        for (const action of actionsOf(statement)) expect(FORBIDDEN_S3.test(action), `${policy}: ${action}`).toBe(false);
      }
      // The bucket policy only denies (insecure transport); it grants nothing.
      for (const p of Object.values(resourcesOf(b.template, 'AWS::S3::BucketPolicy'))) {
        const statements = (p.Properties?.['PolicyDocument'] as { Statement: { Effect: string }[] }).Statement;
        expect(statements.every((s) => s.Effect === 'Deny')).toBe(true);
      }
    }
  });

  it('gives the bucket name to the checkpoint function only, and to the operator as an output', () => {
    const fns = resourcesOf(dev.template, 'AWS::Lambda::Function');
    const withBucket = Object.keys(fns).filter((id) => (fns[id]?.Properties?.['Environment'] as { Variables: Record<string, unknown> }).Variables[ENV.auditCheckpointBucket] !== undefined);
    expect(withBucket).toEqual([idOf(dev, dev.stack.auditAnchor.function.function)]);
    expect(Object.keys(dev.template.findOutputs(STACK_OUTPUT.auditCheckpointBucket))).toEqual([STACK_OUTPUT.auditCheckpointBucket]);
  });
});
