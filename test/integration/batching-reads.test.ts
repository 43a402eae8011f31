/**
 * PERF-2 on the emulator: reads of the state table issued in one turn go out as one
 * BatchGetItem (adapters/aws/batching-reads.ts), and each caller gets exactly what its own
 * GetItem would have answered: its item, nothing for a missing key, the SDK's error when the
 * request fails. Keys DynamoDB leaves unprocessed are asked again.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchingReads } from '../../shared/adapters/aws/batching-reads.js';
import { StorageError } from '../../shared/domain/errors.js';
import { FaultInjectingStore } from '../../testkit/fault-injecting-store.js';
import { startTestDynamo, TEST_CREDENTIALS, TEST_REGION, type TestDynamo } from '../support/emulators.js';

let dynamo: TestDynamo;

beforeAll(async () => {
  dynamo = await startTestDynamo();
  for (const name of ['a', 'b', 'c']) await dynamo.doc.send(new PutCommand({ TableName: dynamo.tables.state, Item: { pk: `ITEM#${name}`, sk: 'X', name } }));
});

afterAll(async () => {
  await dynamo.stop();
});

interface Harness {
  readonly client: DynamoDBClient;
  readonly reads: DynamoDBDocumentClient;
  /** Operations sent, in order (one per request, before the SDK's retries). */
  readonly sent: string[];
}

function harness(options: { maxAttempts?: number } = {}): Harness {
  const client = new DynamoDBClient({ endpoint: dynamo.emulator.endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
  const sent: string[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      sent.push(String(context.commandName).replace(/Command$/, ''));
      return next(args);
    },
    { step: 'initialize', name: 'recordOperations' },
  );
  const reads = batchingReads(DynamoDBDocumentClient.from(client), { tables: [dynamo.tables.state], ...options, baseDelayMs: 1 });
  return { client, reads, sent };
}

const get = (reads: DynamoDBDocumentClient, name: string, consistent = true) =>
  reads.send(new GetCommand({ TableName: dynamo.tables.state, Key: { pk: `ITEM#${name}`, sk: 'X' }, ConsistentRead: consistent }));

describe('Function: batchingReads', () => {
  it('sends the reads of one turn as one BatchGetItem and answers each caller with its own item', async () => {
    // Prepare
    const h = harness();

    // Act
    const [a, b, missing, c] = await Promise.all([get(h.reads, 'a'), get(h.reads, 'b'), get(h.reads, 'nope'), get(h.reads, 'c')]);

    // Assess
    expect(h.sent).toEqual(['BatchGetItem']);
    expect([a.Item?.['name'], b.Item?.['name'], c.Item?.['name']]).toEqual(['a', 'b', 'c']);
    expect(missing.Item).toBeUndefined();
    h.client.destroy();
  });

  it('sends a read alone in its turn as a GetItem, and reads of later turns apart', async () => {
    // Prepare
    const h = harness();

    // Act
    const first = await get(h.reads, 'a');
    const second = await get(h.reads, 'b');

    // Assess
    expect(h.sent).toEqual(['GetItem', 'GetItem']);
    expect([first.Item?.['name'], second.Item?.['name']]).toEqual(['a', 'b']);
    h.client.destroy();
  });

  it('asks once for a key read twice, and never answers a strongly consistent read from an eventually consistent one', async () => {
    // Prepare
    const h = harness();

    // Act
    const answers = await Promise.all([get(h.reads, 'a'), get(h.reads, 'a'), get(h.reads, 'b', false), get(h.reads, 'c', false)]);

    // Assess: one request per consistency, the repeated key asked once
    expect(h.sent).toEqual(['BatchGetItem', 'BatchGetItem']);
    expect(answers.map((o) => o.Item?.['name'])).toEqual(['a', 'a', 'b', 'c']);
    h.client.destroy();
  });

  it('leaves reads of other tables and reads with a projection as they are', async () => {
    // Prepare
    const h = harness();

    // Act
    await Promise.all([
      h.reads.send(new GetCommand({ TableName: dynamo.tables.audit, Key: { stream: 's', seq: 1 } })),
      h.reads.send(new GetCommand({ TableName: dynamo.tables.audit, Key: { stream: 's', seq: 2 } })),
      h.reads.send(new GetCommand({ TableName: dynamo.tables.state, Key: { pk: 'ITEM#a', sk: 'X' }, ProjectionExpression: '#n', ExpressionAttributeNames: { '#n': 'name' } })),
    ]);

    // Assess
    expect(h.sent).toEqual(['GetItem', 'GetItem', 'GetItem']);
    h.client.destroy();
  });

  it('asks again for the keys DynamoDB left unprocessed', async () => {
    // Prepare: the first BatchGetItem leaves its last key unprocessed, as DynamoDB does under load
    const h = harness();
    let leftOnce = false;
    h.client.middlewareStack.add(
      (next) => async (args) => {
        const out = await next(args);
        const output = out.output as { Responses?: Record<string, Record<string, unknown>[]>; UnprocessedKeys?: unknown };
        const items = output.Responses?.[dynamo.tables.state];
        if (leftOnce || !items || items.length < 2) return out;
        leftOnce = true;
        // The item is taken out of the answer and its key handed back as unprocessed.
        const item = items.pop() as Record<string, unknown>;
        output.UnprocessedKeys = { [dynamo.tables.state]: { Keys: [{ pk: item['pk'], sk: item['sk'] }], ConsistentRead: true } };
        return out;
      },
      { step: 'initialize', name: 'leaveOneKeyUnprocessed' },
    );

    // Act
    const answers = await Promise.all([get(h.reads, 'a'), get(h.reads, 'b'), get(h.reads, 'c')]);

    // Assess
    expect(leftOnce).toBe(true);
    expect(h.sent).toEqual(['BatchGetItem', 'BatchGetItem']);
    expect(answers.map((o) => o.Item?.['name'])).toEqual(['a', 'b', 'c']);
    h.client.destroy();
  });

  it('fails the callers with a retryable StorageError when keys stay unprocessed', async () => {
    // Prepare: every BatchGetItem leaves every key unprocessed
    const h = harness({ maxAttempts: 3 });
    let calls = 0;
    h.client.middlewareStack.add(
      (next) => async (args) => {
        calls += 1;
        const out = await next(args);
        const keys = (args.input as { RequestItems: Record<string, { Keys: unknown[] }> }).RequestItems[dynamo.tables.state]?.Keys ?? [];
        (out.output as { UnprocessedKeys?: unknown }).UnprocessedKeys = { [dynamo.tables.state]: { Keys: keys } };
        return out;
      },
      { step: 'initialize', name: 'leaveEverything' },
    );

    // Act
    const answers = await Promise.allSettled([get(h.reads, 'a'), get(h.reads, 'b')]);

    // Assess
    expect(calls).toBe(3);
    for (const answer of answers) {
      expect(answer.status).toBe('rejected');
      expect((answer as PromiseRejectedResult).reason).toBeInstanceOf(StorageError);
      expect(((answer as PromiseRejectedResult).reason as StorageError).retryable).toBe(true);
    }
    h.client.destroy();
  });

  it('fails every read of a throttled request with the SDK error, as each GetItem would have failed', async () => {
    // Prepare
    const h = harness();
    new FaultInjectingStore({ rate: 1, kinds: { throttling: 1 }, commands: ['BatchGetItem'] }).attach(h.client);

    // Act
    const answers = await Promise.allSettled([get(h.reads, 'a'), get(h.reads, 'b')]);

    // Assess
    expect(answers.map((a) => (a.status === 'rejected' ? (a.reason as Error).name : a.status))).toEqual(['ThrottlingException', 'ThrottlingException']);
    h.client.destroy();
  });
});
