/**
 * Emulator fixtures for integration tests: dynalite and fauxqs on 127.0.0.1, port 0, in memory,
 * with the tables and queues created from the shared definitions.
 */
import { afterAll, beforeAll } from 'vitest';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { startDynamo, startSqs, type RunningEmulator } from '../../local-runtime/emulators.js';
import { createQueues, createTables, type QueueUrls } from '../../local-runtime/provision.js';

export const TEST_REGION = 'us-east-1';
export const TEST_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

export interface TestTables {
  readonly state: string;
  readonly audit: string;
  readonly idempotency: string;
  readonly paper: string;
}

export interface TestDynamo {
  readonly emulator: RunningEmulator;
  readonly client: DynamoDBClient;
  readonly doc: DynamoDBDocumentClient;
  readonly tables: TestTables;
  stop(): Promise<void>;
}

let prefixCounter = 0;

/** Starts dynalite and creates every table under a fresh prefix. */
export async function startTestDynamo(): Promise<TestDynamo> {
  const emulator = await startDynamo();
  const client = new DynamoDBClient({ endpoint: emulator.endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS });
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  prefixCounter += 1;
  const names = await createTables(client, `tw-test${prefixCounter}`);
  const tables: TestTables = {
    state: names.StateTable ?? '',
    audit: names.AuditTable ?? '',
    idempotency: names.IdempotencyTable ?? '',
    paper: names.PaperExchangeTable ?? '',
  };
  return {
    emulator,
    client,
    doc,
    tables,
    stop: async () => {
      client.destroy();
      await emulator.stop();
    },
  };
}

/**
 * For a file that needs only DynamoDB: one dynalite for the file (started before its tests,
 * stopped after), handed to `ready`, and a fresh state and audit table pair per call, so that each
 * test verifies only its own records.
 */
export function useAuditTables(prefix: string, ready: (dynamo: TestDynamo) => void): () => Promise<{ audit: string; state: string }> {
  let dynamo: TestDynamo | undefined;
  let set = 0;
  beforeAll(async () => {
    dynamo = await startTestDynamo();
    ready(dynamo);
  });
  afterAll(async () => {
    await dynamo?.stop();
  });
  return async () => {
    if (!dynamo) throw new Error('dynalite is not running: call the table factory inside a test');
    set += 1;
    const names = await createTables(dynamo.client, `${prefix}${set}`);
    return { audit: names.AuditTable ?? '', state: names.StateTable ?? '' };
  };
}

/**
 * A client of its own on the test's dynalite that counts its requests by table kind and operation
 * (`audit:PutItem`, `state:UpdateItem`, ...): what a change costs in DynamoDB requests.
 */
export function countingAuditDoc(dynamo: TestDynamo, names: { audit: string; state: string }): { doc: DynamoDBDocumentClient; counts: Map<string, number>; destroy(): void } {
  const client = new DynamoDBClient({ endpoint: dynamo.emulator.endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS });
  const counts = new Map<string, number>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const table = (args.input as { TableName?: string }).TableName;
      const key = `${table === names.audit ? 'audit' : 'state'}:${String(context.commandName).replace(/Command$/, '')}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'countRequests' },
  );
  return { doc: DynamoDBDocumentClient.from(client), counts, destroy: () => client.destroy() };
}

export interface TestSqs {
  readonly emulator: RunningEmulator;
  readonly client: SQSClient;
  readonly queues: QueueUrls;
  stop(): Promise<void>;
}

export async function startTestSqs(): Promise<TestSqs> {
  const emulator = await startSqs();
  const client = new SQSClient({ endpoint: emulator.endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS });
  const queues = await createQueues(client, 'tw-test');
  return {
    emulator,
    client,
    queues,
    stop: async () => {
      client.destroy();
      await emulator.stop();
    },
  };
}
