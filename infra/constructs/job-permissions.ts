/**
 * Least-privilege data access per job (SEC-2, SEC-6), derived from one access list per job
 * (`JOB_ACCESS`) as explicit policy statements instead of the broad `grant*` helpers: exactly
 * the actions the job's code calls, on the tables and the indexes it queries (no `index/*`); the
 * audit table is append-only for every role (OPS-4): PutItem and GetItem, never UpdateItem or
 * DeleteItem.
 *
 * Not here: consuming the execution queue (the executor's SQS event source grants it) and
 * writing logs (each function's own log group, see job-function.ts).
 */
import { Policy, PolicyStatement, type IRole } from 'aws-cdk-lib/aws-iam';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Validations } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { AUDIT_HEADS_INDEX, AUDIT_TABLE, HELD_LOCKS_INDEX, OPEN_ORDERS_INDEX, ORDERS_BY_TIME_INDEX, PAPER_TABLE, STATE_TABLE, type TableDefinition } from '../../shared/definitions/tables.js';
import type { JobName } from '../../shared/definitions/schedules.js';
import type { ExchangeSecret } from './exchange-secret.js';
import type { TradewardenTables } from './tables.js';

/** The DynamoDB item and query actions the functions' code issues. */
export type TableAction = 'GetItem' | 'PutItem' | 'UpdateItem' | 'DeleteItem' | 'Query' | 'Scan' | 'BatchGetItem';

/** Actions no role may hold on the audit table: it is append-only (OPS-4). */
export const AUDIT_FORBIDDEN_ACTIONS = ['dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem', 'dynamodb:*'] as const;
/** What a role may do on the audit table: add a record, and read one back after a lost append race. */
export const AUDIT_ALLOWED_ACTIONS: readonly TableAction[] = ['PutItem', 'GetItem'];

/** Exactly the calls one job makes on one table. */
export interface TableGrant {
  readonly table: TableDefinition;
  readonly actions: readonly TableAction[];
  /**
   * Indexes the job queries: `dynamodb:Query` on exactly these index ARNs, in a statement of
   * its own (the item actions stay on the table ARN).
   * @default none
   */
  readonly queriedIndexes?: readonly string[];
}

/**
 * What one job's code calls, and nothing more (SEC-2, SEC-6). test/infra/iam-from-code.test.ts
 * runs the functions against the emulators, records every AWS call, and fails when a role holds
 * an action its function did not call (or calls one its role lacks).
 */
export interface JobAccess {
  readonly tables: readonly TableGrant[];
  /** Send intents to the execution queue. */
  readonly sendIntents?: boolean;
  /** Send a record that can never succeed to the execution DLQ (SEC-4). */
  readonly sendDeadLetters?: boolean;
  /** Read the execution queue's and its dead-letter queue's attributes (depths, for the health report). */
  readonly readQueueDepths?: boolean;
  /** Read SQS's ApproximateAgeOfOldestMessage from CloudWatch (the oldest intent's age, for the health report). */
  readonly readQueueAges?: boolean;
  /** Publish domain events to the bus. */
  readonly putEvents?: boolean;
  /** Read the exchange API keys (live mode only: paper mode has none to read). */
  readonly exchangeKeys?: boolean;
  /** Put new audit checkpoints in the Object Lock bucket (the checkpoint function only, SEC-5). */
  readonly putCheckpoints?: boolean;
}

/** Key prefix of the checkpoint objects (shared/adapters/aws/s3-audit-checkpoint-store.ts). */
export const CHECKPOINT_OBJECTS = 'checkpoints/*';

/**
 * The access list of every job: one list per function, the only source of its data policy.
 * The paper table is granted only in paper mode (see `JobPermissions`). Notes:
 * - the audit table: PutItem of a new record and GetItem of the record that won a lost race;
 *   the head pointer lives in the state table (GetItem, UpdateItem);
 * - the idempotency table: no job uses it (the executor's order record answers duplicates and
 *   refuses changed content itself, INTENT_FINGERPRINT), so no role is granted it;
 * - no job scans a table (health finds held locks by the sparse held-locks index) and only
 *   health (heartbeats) and the executor (its first round trip's reads) read in batches.
 */
export const JOB_ACCESS: Readonly<Record<JobName, JobAccess>> = {
  scanner: {
    tables: [
      { table: STATE_TABLE, actions: ['GetItem', 'PutItem', 'UpdateItem'] },
      // Paper mode: the markets of the paper account's holdings, so a position off the watchlist is priced (RISK-9).
      { table: PAPER_TABLE, actions: ['GetItem'] },
      // Its decisions (signals, blocked entries, skipped symbols) on its audit stream.
      { table: AUDIT_TABLE, actions: AUDIT_ALLOWED_ACTIONS },
    ],
    sendIntents: true,
  },
  executor: {
    tables: [
      // BatchGetItem: the first round trip's independent reads in one request (PERF-2).
      { table: STATE_TABLE, actions: ['GetItem', 'PutItem', 'UpdateItem', 'BatchGetItem'] },
      { table: PAPER_TABLE, actions: ['GetItem', 'PutItem'] },
      { table: AUDIT_TABLE, actions: AUDIT_ALLOWED_ACTIONS },
    ],
    sendDeadLetters: true,
    exchangeKeys: true,
    putEvents: true,
  },
  reconciler: {
    tables: [
      { table: STATE_TABLE, actions: ['GetItem', 'PutItem', 'UpdateItem'], queriedIndexes: [OPEN_ORDERS_INDEX] },
      { table: PAPER_TABLE, actions: ['GetItem', 'PutItem'], queriedIndexes: ['paper-open-orders'] },
      { table: AUDIT_TABLE, actions: AUDIT_ALLOWED_ACTIONS },
    ],
    exchangeKeys: true,
    putEvents: true,
  },
  health: {
    tables: [{ table: STATE_TABLE, actions: ['GetItem', 'UpdateItem', 'Query', 'BatchGetItem'], queriedIndexes: [HELD_LOCKS_INDEX] }],
    readQueueDepths: true,
    readQueueAges: true,
    putEvents: true,
  },
};

/**
 * The notifier: its deduplication and rate records (PutItem, UpdateItem) and, for the summary
 * and the chat commands, the account book, the pause and the health report (GetItem), the
 * recent orders (Query on the orders-by-time index) and a chat pause or resume (the pause
 * record and the audit head pointer) in the state table; the control stream of the audit log;
 * the bus (a chat pause is announced like any other). The paper exchange's prices need no
 * table: the paper market is computed.
 */
export const NOTIFIER_ACCESS: JobAccess = {
  tables: [
    { table: STATE_TABLE, actions: ['GetItem', 'PutItem', 'UpdateItem'], queriedIndexes: [ORDERS_BY_TIME_INDEX] },
    { table: AUDIT_TABLE, actions: AUDIT_ALLOWED_ACTIONS },
  ],
  putEvents: true,
};

/**
 * The audit checkpoint (SEC-5): one Query of the audit-heads index of the state table, and a put
 * of a new object in the checkpoint bucket. Nothing else: no table item action at all.
 */
export const AUDIT_CHECKPOINT_ACCESS: JobAccess = {
  tables: [{ table: STATE_TABLE, actions: [], queriedIndexes: [AUDIT_HEADS_INDEX] }],
  putCheckpoints: true,
};

export interface JobPermissionsProps {
  readonly job: JobName | 'notifier' | 'audit-checkpoint';
  readonly role: IRole;
  readonly tables: TradewardenTables;
  readonly executionQueue: IQueue;
  readonly executionDeadLetterQueue: IQueue;
  readonly eventBus: IEventBus;
  readonly exchangeSecret: ExchangeSecret;
  readonly mode: 'paper' | 'live';
  /**
   * The access to grant.
   * @default JOB_ACCESS[job]
   */
  readonly access?: JobAccess;
  /**
   * The audit checkpoint bucket; required when the access puts checkpoints.
   * @default none
   */
  readonly checkpointBucket?: IBucket;
}

/** One policy per job holding exactly its data access. */
export class JobPermissions extends Construct {
  readonly policy: Policy;

  constructor(scope: Construct, id: string, props: JobPermissionsProps) {
    super(scope, id);
    const access = props.access ?? (props.job === 'notifier' ? NOTIFIER_ACCESS : props.job === 'audit-checkpoint' ? AUDIT_CHECKPOINT_ACCESS : JOB_ACCESS[props.job]);
    const statements: PolicyStatement[] = [];
    for (const grant of access.tables) {
      const { logicalId } = grant.table;
      if (logicalId === PAPER_TABLE.logicalId && props.mode !== 'paper') continue;
      if (logicalId === AUDIT_TABLE.logicalId && grant.actions.some((a) => !AUDIT_ALLOWED_ACTIONS.includes(a))) {
        throw new Error(`${props.job}: the audit table is append-only (OPS-4)`);
      }
      const tableArn = props.tables.resourceArns(grant.table)[0] ?? '';
      if (grant.actions.length > 0) {
        statements.push(new PolicyStatement({ sid: `${logicalId}Access`, actions: grant.actions.map((a) => `dynamodb:${a}`), resources: [tableArn] }));
      }
      const indexes = grant.queriedIndexes ?? [];
      for (const index of indexes) {
        if (!grant.table.indexes.some((i) => i.indexName === index)) throw new Error(`${props.job}: ${logicalId} has no index ${index}`);
      }
      if (indexes.length > 0) {
        statements.push(
          new PolicyStatement({ sid: `${logicalId}IndexQueries`, actions: ['dynamodb:Query'], resources: indexes.map((index) => `${tableArn}/index/${index}`) }),
        );
      }
    }
    if (access.sendIntents) {
      statements.push(new PolicyStatement({ sid: 'SendIntents', actions: ['sqs:SendMessage'], resources: [props.executionQueue.queueArn] }));
    }
    if (access.sendDeadLetters) {
      statements.push(new PolicyStatement({ sid: 'SendDeadLetters', actions: ['sqs:SendMessage'], resources: [props.executionDeadLetterQueue.queueArn] }));
    }
    if (access.readQueueDepths) {
      statements.push(
        new PolicyStatement({
          sid: 'ReadQueueDepths',
          actions: ['sqs:GetQueueAttributes'],
          resources: [props.executionQueue.queueArn, props.executionDeadLetterQueue.queueArn],
        }),
      );
    }
    if (access.readQueueAges) {
      // CloudWatch's GetMetricData supports no resource-level permission: AWS requires "*".
      statements.push(new PolicyStatement({ sid: 'ReadQueueAges', actions: ['cloudwatch:GetMetricData'], resources: ['*'] }));
    }
    if (access.putEvents) {
      statements.push(new PolicyStatement({ sid: 'PutDomainEvents', actions: ['events:PutEvents'], resources: [props.eventBus.eventBusArn] }));
    }
    if (access.putCheckpoints) {
      if (!props.checkpointBucket) throw new Error(`${props.job}: putting checkpoints needs the checkpoint bucket`);
      // A new object only: no delete, no retention or legal-hold change, no governance bypass (SEC-5).
      statements.push(new PolicyStatement({ sid: 'PutAuditCheckpoints', actions: ['s3:PutObject'], resources: [props.checkpointBucket.arnForObjects(CHECKPOINT_OBJECTS)] }));
    }
    this.policy = new Policy(this, 'Policy', { statements });
    this.policy.attachToRole(props.role);
    if (access.readQueueAges) {
      Validations.of(this.policy).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Health reads the execution queue\'s ApproximateAgeOfOldestMessage with cloudwatch:GetMetricData, which supports no ' +
          'resource-level permissions, so AWS requires Resource "*". The statement holds that one read-only action; every ' +
          'other statement of this policy names its resources.',
      });
    }
    if (access.exchangeKeys && props.mode === 'live') props.exchangeSecret.grantRead(props.role);
  }
}
