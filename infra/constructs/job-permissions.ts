/**
 * Least-privilege data access per job (SEC-2), written as explicit policy statements instead of
 * the broad `grant*` helpers: every table statement names the table and each of its indexes
 * (no `index/*`), and the audit table is append-only for every role (OPS-4): PutItem, GetItem,
 * Query and DescribeTable, never UpdateItem or DeleteItem.
 *
 * Not here: consuming the execution queue (the executor's SQS event source grants it) and
 * writing logs (each function's own log group, see job-function.ts).
 */
import { Policy, PolicyStatement, type IRole } from 'aws-cdk-lib/aws-iam';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { AUDIT_TABLE, IDEMPOTENCY_TABLE, PAPER_TABLE, STATE_TABLE, type TableDefinition } from '../../shared/definitions/tables.js';
import type { JobName } from '../../shared/definitions/schedules.js';
import type { ExchangeSecret } from './exchange-secret.js';
import type { TradewardenTables } from './tables.js';

/** Reads, including queries on the named indexes. Scan is granted separately, per job. */
export const TABLE_READ_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:ConditionCheckItem',
  'dynamodb:DescribeTable',
] as const;
/** Conditional single-item writes are the backbone; batch writes for bulk clean-up. */
export const TABLE_WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'] as const;
/** Append-only: a new record (conditional on `attribute_not_exists`) and reads of the chain head. */
export const TABLE_APPEND_ACTIONS = ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:DescribeTable'] as const;
/** Actions no role may hold on the audit table. */
export const AUDIT_FORBIDDEN_ACTIONS = ['dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem', 'dynamodb:*'] as const;

export type TableAccess = 'read' | 'readWrite' | 'append';

/** Access to one table. */
export interface TableGrant {
  readonly table: TableDefinition;
  readonly access: TableAccess;
  /** Also `dynamodb:Scan` (never on the audit table). */
  readonly scan?: boolean;
}

/** What one job may touch. */
export interface JobAccess {
  readonly tables: readonly TableGrant[];
  /** Send intents to the execution queue. */
  readonly sendIntents?: boolean;
  /** Read the execution queue's and its dead-letter queue's attributes (depths, for the health report). */
  readonly readQueueDepths?: boolean;
  /** Publish domain events to the bus. */
  readonly putEvents?: boolean;
  /** Read the exchange API keys (live mode only: paper mode has none to read). */
  readonly exchangeKeys?: boolean;
}

/**
 * The access matrix. The paper table is granted only in paper mode (see `JobPermissions`).
 * The scanner reads public market data only, so it gets no exchange keys; the audit table is
 * append-only everywhere; no job scans a table on its schedule (health finds held locks by the
 * sparse held-locks index).
 */
export const JOB_ACCESS: Readonly<Record<JobName, JobAccess>> = {
  scanner: {
    tables: [
      { table: STATE_TABLE, access: 'readWrite' },
      { table: PAPER_TABLE, access: 'readWrite' },
      { table: AUDIT_TABLE, access: 'append' },
    ],
    sendIntents: true,
  },
  executor: {
    tables: [
      { table: STATE_TABLE, access: 'readWrite' },
      { table: IDEMPOTENCY_TABLE, access: 'readWrite' },
      { table: PAPER_TABLE, access: 'readWrite' },
      { table: AUDIT_TABLE, access: 'append' },
    ],
    exchangeKeys: true,
  },
  reconciler: {
    tables: [
      { table: STATE_TABLE, access: 'readWrite' },
      { table: PAPER_TABLE, access: 'readWrite' },
      { table: AUDIT_TABLE, access: 'append' },
    ],
    exchangeKeys: true,
  },
  health: {
    tables: [{ table: STATE_TABLE, access: 'readWrite' }],
    readQueueDepths: true,
    putEvents: true,
  },
};

function tableActions(access: TableAccess): readonly string[] {
  switch (access) {
    case 'read':
      return TABLE_READ_ACTIONS;
    case 'readWrite':
      return [...TABLE_READ_ACTIONS, ...TABLE_WRITE_ACTIONS];
    case 'append':
      return TABLE_APPEND_ACTIONS;
    default: {
      const unknown: never = access;
      throw new Error(`unknown table access ${String(unknown)}`);
    }
  }
}

export interface JobPermissionsProps {
  readonly job: JobName;
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
}

/** One policy per job holding exactly its data access. */
export class JobPermissions extends Construct {
  readonly policy: Policy;

  constructor(scope: Construct, id: string, props: JobPermissionsProps) {
    super(scope, id);
    const access = props.access ?? JOB_ACCESS[props.job];
    const statements: PolicyStatement[] = [];
    for (const grant of access.tables) {
      const { logicalId } = grant.table;
      if (logicalId === PAPER_TABLE.logicalId && props.mode !== 'paper') continue;
      if (logicalId === AUDIT_TABLE.logicalId && (grant.access !== 'append' || grant.scan)) {
        throw new Error(`${props.job}: the audit table is append-only (OPS-4)`);
      }
      statements.push(
        new PolicyStatement({
          sid: `${logicalId}${grant.access[0]?.toUpperCase()}${grant.access.slice(1)}`,
          actions: [...tableActions(grant.access), ...(grant.scan ? ['dynamodb:Scan'] : [])],
          resources: props.tables.resourceArns(grant.table),
        }),
      );
    }
    if (access.sendIntents) {
      statements.push(new PolicyStatement({ sid: 'SendIntents', actions: ['sqs:SendMessage'], resources: [props.executionQueue.queueArn] }));
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
    if (access.putEvents) {
      statements.push(new PolicyStatement({ sid: 'PutDomainEvents', actions: ['events:PutEvents'], resources: [props.eventBus.eventBusArn] }));
    }
    this.policy = new Policy(this, 'Policy', { statements });
    this.policy.attachToRole(props.role);
    if (access.exchangeKeys && props.mode === 'live') props.exchangeSecret.grantRead(props.role);
  }
}
