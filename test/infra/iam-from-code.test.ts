/**
 * SEC-2 / SEC-6: each function's role holds exactly what its code calls. The functions run a
 * representative workload on the emulators (scans with signals, executions, a duplicate
 * delivery, a poison intent, reconciliations, health reports publishing a domain event) while
 * every AWS call is recorded as IAM action x resource. The synthesized roles (paper and live)
 * must then hold every recorded call (no AccessDenied in production) and nothing else, except
 * the calls listed in RARE_PATHS (code paths this workload does not reach, each proven by the
 * named test) and the platform grants Lambda itself uses.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOBS, type JobName } from '../../shared/definitions/schedules.js';
import { AUDIT_TABLE, IDEMPOTENCY_TABLE, PAPER_TABLE, STATE_TABLE, type TableDefinition } from '../../shared/definitions/tables.js';
import type { Config } from '../../shared/runtime/config.js';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createAuditCheckpointHandler } from '../../functions/audit-checkpoint/app.js';
import { LOCAL_CREDENTIALS } from '../../local-runtime/stack.js';
import { DynamoDbAuditLog } from '../../shared/adapters/aws/dynamodb-audit-log.js';
import { S3AuditCheckpointStore } from '../../shared/adapters/aws/s3-audit-checkpoint-store.js';
import { CloudWatchQueueAges } from '../../shared/adapters/aws/cloudwatch-queue-ages.js';
import { AUDIT_CHECKPOINT_EVENT } from '../../shared/definitions/schedules.js';
import { AwsCallRecorder } from '../support/aws-call-recorder.js';
import { startMotoS3, type MotoS3 } from '../support/moto-s3.js';
import { ManualClock, startTestStack, type TestStack } from '../support/local-runtime.js';
import { Template } from 'aws-cdk-lib/assertions';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { buildStack, createStack, functionIds, logicalId, resourcesOf, type Built, type Statement } from './stack-fixture.js';

/** Calls a function's code makes only on paths this workload does not reach, with the test that reaches them. */
const RARE_PATHS: Readonly<Record<Fn, readonly { call: string; why: string }[]>> = {
  'audit-checkpoint': [],
  scanner: [{ call: 'dynamodb:GetItem AuditTable', why: 'lost audit append race: read the winning record (test/integration/audit-log.test.ts)' }],
  executor: [
    { call: 'dynamodb:GetItem AuditTable', why: 'lost audit append race: read the winning record (test/integration/audit-log.test.ts)' },
  ],
  reconciler: [
    { call: 'dynamodb:PutItem AuditTable', why: 'drift, adoption and stale-release audits (test/integration/reconcile-balances.test.ts, reconcile-orphans.test.ts)' },
    { call: 'dynamodb:GetItem AuditTable', why: 'lost audit append race (test/integration/audit-log.test.ts)' },
    { call: 'dynamodb:PutItem PaperExchangeTable', why: 'the paper exchange settles a resting order when it is fetched (test/integration/paper-exchange.test.ts)' },
    { call: 'events:PutEvents DomainEvents', why: 'its drift audits (test/integration/reconcile-balances.test.ts) are announced on the bus by the audit log (domain events: test/unit/notifier-handler.test.ts)' },
  ],
  health: [],
};

/** Live mode only: the keys are read at cold start (test/unit/entry-secrets.test.ts). */
const LIVE_ONLY: Readonly<Partial<Record<Fn, readonly string[]>>> = {
  executor: ['secretsmanager:GetSecretValue ExchangeSecret', 'secretsmanager:DescribeSecret ExchangeSecret'],
  reconciler: ['secretsmanager:GetSecretValue ExchangeSecret', 'secretsmanager:DescribeSecret ExchangeSecret'],
};

/**
 * Grants Lambda itself uses with the function's role, not the function's code: logs, X-Ray, a
 * scheduled job's failed-event DLQ, and the executor's event source polling the queue (its
 * ChangeMessageVisibility is also what the executor's retry backoff calls, see
 * test/integration/exec-retry-scheduling.test.ts).
 */
function isPlatformGrant(job: Fn, action: string, resource: string): boolean {
  if (action.startsWith('logs:') || action.startsWith('xray:')) return true;
  if (resource === 'ScheduledJobDlq' && action === 'sqs:SendMessage') return true;
  return (
    job === 'executor' &&
    resource === 'ExecutionQueue' &&
    ['sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueUrl', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'].includes(action)
  );
}

const TABLES: readonly TableDefinition[] = [STATE_TABLE, AUDIT_TABLE, IDEMPOTENCY_TABLE, PAPER_TABLE];
/** The functions compared: the four jobs and the audit checkpoint (SEC-5). */
type Fn = JobName | 'audit-checkpoint';
const FUNCTIONS: readonly Fn[] = [...JOBS, 'audit-checkpoint'];
const CHECKPOINT_BUCKET = 'tw-iam-checkpoints';
const WORKLOAD_TIMEOUT_MS = 300_000;

/** `action resource` pairs each function's role holds, resources named by their definition. */
function grantedByRole(b: Built): Record<Fn, Set<string>> {
  const names = new Map<string, string>();
  for (const def of TABLES) names.set(logicalId(b.stack, b.stack.tables.table(def)), def.logicalId);
  names.set(logicalId(b.stack, b.stack.executionQueue.queue), 'ExecutionQueue');
  names.set(logicalId(b.stack, b.stack.executionQueue.deadLetterQueue), 'ExecutionDlq');
  const nameOf = (resource: unknown): string => {
    const text = JSON.stringify(resource);
    if (text === '"*"') return '*';
    if (text.includes(':secret:')) return 'ExchangeSecret';
    const index = /\/index\/([\w-]+)/.exec(text)?.[1];
    for (const [id, name] of names) if (text.includes(`"${id}"`)) return index ? `${name}/index/${index}` : name;
    if (text.includes('LogGroup')) return 'LogGroup';
    if (/AuditAnchorCheckpoints\w+/.test(text)) return text.includes('/checkpoints/*') ? 'CheckpointBucket/checkpoints/*' : 'CheckpointBucket';
    if (text.includes('DlqQueue')) return 'ScheduledJobDlq';
    if (text.includes('Bus')) return 'DomainEvents';
    return text;
  };
  const fns: Record<Fn, string> = { ...functionIds(b.template), 'audit-checkpoint': logicalId(b.stack, b.stack.auditAnchor.function.function) };
  const functions = resourcesOf(b.template, 'AWS::Lambda::Function');
  const out = {} as Record<Fn, Set<string>>;
  for (const job of FUNCTIONS) {
    const role = (functions[fns[job]]?.Properties?.['Role'] as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0];
    const held = new Set<string>();
    for (const policy of Object.values(resourcesOf(b.template, 'AWS::IAM::Policy'))) {
      if (!JSON.stringify(policy.Properties?.['Roles']).includes(`"${role}"`)) continue;
      for (const statement of (policy.Properties?.['PolicyDocument'] as { Statement: Statement[] }).Statement) {
        const actions = Array.isArray(statement.Action) ? statement.Action : [statement.Action];
        const resources = Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
        for (const action of actions) for (const resource of resources) if (!isPlatformGrant(job, action, nameOf(resource))) held.add(`${action} ${nameOf(resource)}`);
      }
    }
    out[job] = held;
  }
  return out;
}

/** Recorded calls with resources named by their definition, as in `grantedByRole`. */
function usedByCode(recorder: AwsCallRecorder, config: Config): Record<Fn, Set<string>> {
  const names = new Map<string, string>([
    [config.stateTable, STATE_TABLE.logicalId],
    [config.auditTable, AUDIT_TABLE.logicalId],
    [config.idempotencyTable, IDEMPOTENCY_TABLE.logicalId],
    [config.paperTable, PAPER_TABLE.logicalId],
    [config.executionQueueUrl, 'ExecutionQueue'],
    [config.executionDlqUrl, 'ExecutionDlq'],
    [config.eventBusName ?? '', 'DomainEvents'],
  ]);
  const out = Object.fromEntries(FUNCTIONS.map((job) => [job, new Set<string>()])) as Record<Fn, Set<string>>;
  for (const call of recorder.calls) {
    if (call.action.startsWith('s3:')) {
      // An object key's first segment is the prefix a policy names.
      const [bucket, prefix] = call.resource.split('/');
      out[call.job].add(`${call.action} ${bucket === CHECKPOINT_BUCKET ? 'CheckpointBucket' : bucket}${prefix ? `/${prefix}/*` : ''}`);
      continue;
    }
    const [base = '', index] = call.resource.split('/index/');
    out[call.job].add(`${call.action} ${names.get(base) ?? base}${index ? `/index/${index}` : ''}`);
  }
  return out;
}

describe('IAM: each role holds exactly what its function calls (SEC-6)', () => {
  const recorder = new AwsCallRecorder();
  let t: TestStack;
  let used: Record<Fn, Set<string>>;
  let moto: MotoS3;
  let paper: Built;
  let live: Built;

  beforeAll(async () => {
    paper = buildStack({}, { nag: false });
    live = buildStack({ live: 'true', alarmEmail: 'ops@example.com' }, { nag: false });
    process.env['AWS_ENDPOINT_URL_EVENTBRIDGE'] = await recorder.startEventBridge();
    t = await startTestStack({
      TW_PAPER_SEED: 'e2e-seed',
      TW_WATCHLIST: 'BTC/USDT,ETH/USDT,SOL/USDT,XRP/USDT',
      TW_STRATEGY_DROP_PERCENT: '0.1',
      TW_STRATEGY_TAKE_PROFIT_PERCENT: '0.1',
      TW_STRATEGY_LOOKBACK_CANDLES: '10',
      TW_EVENT_BUS_NAME: 'tw-test-bus',
    });
    const clock = new ManualClock(new Date('2026-03-02T10:00:00.000Z'));
    const runtime = t.runtime({ clock });
    for (const job of JOBS) recorder.attach(job, runtime.containers[job]);
    let sent = 0;
    for (let tick = 0; tick < 8; tick += 1) {
      const scan = await runtime.scan(clock.advance(60_000));
      sent += scan.intents.length;
      // Every intent twice: the second delivery meets the first one's records.
      for (const intent of scan.intents) {
        await t.sqs.send(new SendMessageCommand({ QueueUrl: t.config.executionQueueUrl, MessageBody: JSON.stringify(intent), MessageGroupId: intent.symbol, MessageDeduplicationId: `${intent.id}-again` }));
      }
      await runtime.drain();
      await runtime.reconcile();
      await runtime.health();
    }
    await t.sqs.send(new SendMessageCommand({ QueueUrl: t.config.executionQueueUrl, MessageBody: '{poison', MessageGroupId: 'BTC/USDT', MessageDeduplicationId: 'iam-poison' }));
    await runtime.drain();
    expect(sent).toBeGreaterThan(0);
    // The audit checkpoint, wired as its Lambda entry wires it (its own clients), on the emulators.
    moto = await startMotoS3();
    await moto.createLockedBucket(CHECKPOINT_BUCKET);
    const ddb = new DynamoDBClient({ endpoint: t.config.dynamodbEndpoint, region: t.config.region, credentials: LOCAL_CREDENTIALS });
    const s3 = moto.client();
    recorder.attachClient('audit-checkpoint', 'dynamodb', ddb);
    recorder.attachClient('audit-checkpoint', 's3', s3);
    const checkpoint = createAuditCheckpointHandler({
      heads: new DynamoDbAuditLog({ doc: DynamoDBDocumentClient.from(ddb), auditTable: t.config.auditTable, stateTable: t.config.stateTable }),
      checkpoints: new S3AuditCheckpointStore({ s3, bucket: CHECKPOINT_BUCKET }),
      clock,
      logger: runtime.containers.health.observability.logger,
    }) as unknown as (event: unknown, context: unknown) => Promise<{ streams: number }>;
    expect((await checkpoint(AUDIT_CHECKPOINT_EVENT, {})).streams).toBeGreaterThan(0);
    ddb.destroy();
    s3.destroy();
    // Health on AWS reads the queue ages from CloudWatch, with its own client (the Lambda entry's
    // wiring), here pointed at the same moto server.
    const cloudwatch = new CloudWatchClient({ endpoint: moto.endpoint, region: t.config.region, credentials: LOCAL_CREDENTIALS });
    recorder.attachClient('health', 'cloudwatch', cloudwatch);
    const withAges = t.runtime({ clock, queueAges: new CloudWatchQueueAges({ client: cloudwatch, queues: { execution: t.config.executionQueueUrl, 'execution-dlq': t.config.executionDlqUrl }, clock }) });
    recorder.attach('health', withAges.containers.health);
    expect((await withAges.health()).checks.some((c) => c.name === 'queue:execution:age')).toBe(true);
    cloudwatch.destroy();
    used = usedByCode(recorder, t.config);
  }, WORKLOAD_TIMEOUT_MS);

  afterAll(async () => {
    await t?.stop();
    await moto?.stop();
    await recorder.stop();
    delete process.env['AWS_ENDPOINT_URL_EVENTBRIDGE'];
  });

  for (const job of FUNCTIONS) {
    it(`${job}: its role holds every call its code made (paper and live)`, () => {
      const paperGrants = grantedByRole(paper)[job];
      const liveGrants = grantedByRole(live)[job];
      for (const call of used[job]) {
        expect(paperGrants.has(call), `${job} paper role lacks ${call}`).toBe(true);
        if (!call.includes('PaperExchangeTable')) expect(liveGrants.has(call), `${job} live role lacks ${call}`).toBe(true);
      }
    });

    it(`${job}: its role holds no action its code does not call`, () => {
      const rare = new Set(RARE_PATHS[job].map((r) => r.call));
      const liveOnly = new Set(LIVE_ONLY[job] ?? []);
      const unused = (grants: Set<string>, allowed: Set<string>) => [...grants].filter((g) => !used[job].has(g) && !rare.has(g) && !allowed.has(g)).sort();
      expect(unused(grantedByRole(paper)[job], new Set())).toEqual([]);
      expect(unused(grantedByRole(live)[job], liveOnly)).toEqual([]);
      // A rare path still granted must still exist in the role: the list cannot go stale silently.
      for (const call of rare) expect(grantedByRole(paper)[job].has(call), `${job}: stale rare path ${call}`).toBe(true);
    });
  }

  it('notices an action added to a role that its function does not call', () => {
    // Prepare: the paper stack with one extra grant on the health role, as a careless change would add it.
    const b = createStack({}, { nag: false });
    b.stack.functions.health.role.addToPrincipalPolicy(
      new PolicyStatement({ actions: ['dynamodb:DeleteItem'], resources: [b.stack.tables.table(STATE_TABLE).tableArn] }),
    );
    const template = Template.fromStack(b.stack);
    // Act + Assess: the same comparison as above reports it.
    const grants = grantedByRole({ ...b, template }).health;
    expect([...grants].filter((g) => !used.health.has(g))).toEqual(['dynamodb:DeleteItem StateTable']);
  }, WORKLOAD_TIMEOUT_MS);
});
