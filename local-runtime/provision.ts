/**
 * Creates the tables and queues of the embedded stack from the same definitions the CDK stack
 * uses (shared/definitions). Idempotent: existing tables and queues are left as they are.
 */
import {
  CreateTableCommand,
  DynamoDBClient,
  ResourceInUseException,
  waitUntilTableExists,
  type AttributeDefinition,
  type GlobalSecondaryIndex,
  type KeySchemaElement,
} from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { TABLES, type TableDefinition } from '../shared/definitions/tables.js';
import { DLQ_RETENTION_SECONDS, QUEUES, queueName } from '../shared/definitions/queues.js';

/** Seconds to wait for a new on-disk table to become ACTIVE. */
const TABLE_ACTIVE_WAIT_SECONDS = 30;

export function localTableName(prefix: string, def: TableDefinition): string {
  return `${prefix}-${def.logicalId}`;
}

function keySchema(pk: { name: string }, sk?: { name: string }): KeySchemaElement[] {
  return [{ AttributeName: pk.name, KeyType: 'HASH' }, ...(sk ? [{ AttributeName: sk.name, KeyType: 'RANGE' as const }] : [])];
}

export async function createTables(client: DynamoDBClient, prefix: string): Promise<Record<string, string>> {
  const names: Record<string, string> = {};
  for (const def of TABLES) {
    const name = localTableName(prefix, def);
    names[def.logicalId] = name;
    const attrs = new Map<string, AttributeDefinition>();
    for (const k of [def.partitionKey, def.sortKey, ...def.indexes.flatMap((i) => [i.partitionKey, i.sortKey])]) {
      if (k) attrs.set(k.name, { AttributeName: k.name, AttributeType: k.type });
    }
    const gsis: GlobalSecondaryIndex[] = def.indexes.map((i) => ({
      IndexName: i.indexName,
      KeySchema: keySchema(i.partitionKey, i.sortKey),
      Projection: { ProjectionType: 'ALL' },
    }));
    try {
      await client.send(
        new CreateTableCommand({
          TableName: name,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [...attrs.values()],
          KeySchema: keySchema(def.partitionKey, def.sortKey),
          ...(gsis.length > 0 ? { GlobalSecondaryIndexes: gsis } : {}),
        }),
      );
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
    }
    await waitUntilTableExists({ client, maxWaitTime: TABLE_ACTIVE_WAIT_SECONDS, minDelay: 0.05, maxDelay: 0.2 }, { TableName: name });
  }
  return names;
}

export interface QueueUrls {
  readonly executionQueueUrl: string;
  readonly executionDlqUrl: string;
}

export async function createQueues(client: SQSClient, prefix: string): Promise<QueueUrls> {
  const [def] = QUEUES;
  if (!def?.deadLetter) throw new Error('execution queue definition needs a dead-letter queue');
  const dlq = await client.send(
    new CreateQueueCommand({
      QueueName: queueName(prefix, def.deadLetter.logicalId, def.fifo),
      Attributes: {
        ...(def.fifo ? { FifoQueue: 'true' } : {}),
        MessageRetentionPeriod: String(DLQ_RETENTION_SECONDS),
      },
    }),
  );
  const dlqArn = await client.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }));
  const main = await client.send(
    new CreateQueueCommand({
      QueueName: queueName(prefix, def.logicalId, def.fifo),
      Attributes: {
        ...(def.fifo ? { FifoQueue: 'true' } : {}),
        VisibilityTimeout: String(def.visibilityTimeoutSeconds),
        MessageRetentionPeriod: String(def.retentionSeconds),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: dlqArn.Attributes?.QueueArn,
          maxReceiveCount: def.deadLetter.maxReceiveCount,
        }),
      },
    }),
  );
  if (!main.QueueUrl || !dlq.QueueUrl) throw new Error('queue creation returned no URL');
  return { executionQueueUrl: main.QueueUrl, executionDlqUrl: dlq.QueueUrl };
}
