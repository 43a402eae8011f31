import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoDbAuditLog } from '../../shared/adapters/aws/dynamodb-audit-log.js';
import { auditHeadKey } from '../../shared/adapters/aws/dynamodb-keys.js';
import { hashRecord, sealRecord } from '../../shared/domain/audit-chain.js';
import type { AuditRecord } from '../../shared/ports/audit-log.js';
import { type TestDynamo, useAuditTables } from '../support/emulators.js';

let dynamo: TestDynamo;
const tablePair = useAuditTables('audit', (started) => (dynamo = started));

/** A fresh pair of state and audit tables, so each test verifies only its own records. */
async function freshLog(): Promise<{ log: DynamoDbAuditLog; audit: string; state: string }> {
  const { audit, state } = await tablePair();
  return { log: new DynamoDbAuditLog({ doc: dynamo.doc, auditTable: audit, stateTable: state }), audit, state };
}

async function appendMany(log: DynamoDbAuditLog, stream: string, n: number): Promise<AuditRecord[]> {
  const records: AuditRecord[] = [];
  for (let i = 0; i < n; i += 1) {
    records.push(await log.append(stream, { type: 'order.sent', correlationId: `c-${i}`, data: { i, qty: '0.1' } }, new Date(Date.UTC(2025, 0, 1, 0, 0, i))));
  }
  return records;
}

describe('Class: DynamoDbAuditLog', () => {
  describe('Method: append', () => {
    it('gives 50 concurrent appends over 3 streams contiguous seqs and a valid chain', async () => {
      // Prepare
      const { log } = await freshLog();
      const streams = ['BTC/USDT', 'ETH/USDT', 'control'];

      // Act
      const records = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          log.append(streams[i % 3] ?? 'x', { type: 'intent.accepted', data: { i } }, new Date(Date.UTC(2025, 0, 1, 0, 0, i))),
        ),
      );
      const verification = await log.verify();

      // Assess
      for (const stream of streams) {
        const seqs = records
          .filter((r) => r.stream === stream)
          .map((r) => r.seq)
          .sort((a, b) => a - b);
        expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
      }
      expect(verification).toEqual({ valid: true, streams: 3, records: 50, checkpoints: 0, problems: [] });
    }, 30_000);

    it('chains onto the tail it appended last without reading the head pointer, and recovers when another writer appended', async () => {
      // Prepare: two logs on the same tables, one counting its requests by command.
      const { log: other, audit, state } = await freshLog();
      const sent: string[] = [];
      const counting = { send: (command: { constructor: { name: string } }) => (sent.push(command.constructor.name), dynamo.doc.send(command as never)) } as unknown as DynamoDBDocumentClient;
      const log = new DynamoDbAuditLog({ doc: counting, auditTable: audit, stateTable: state });

      // Act
      await appendMany(log, 'btc', 1);
      sent.length = 0;
      await appendMany(log, 'btc', 2);
      const warm = [...sent];
      await appendMany(other, 'btc', 2);
      sent.length = 0;
      const afterOther = await log.append('btc', { type: 'order.sent', data: {} }, new Date(Date.UTC(2025, 0, 2)));

      // Assess: a put and a head update per record while nobody else writes; a stale tail costs
      // one refused put and a head read, and the chain stays contiguous and valid.
      expect(warm).toEqual(['PutCommand', 'UpdateCommand', 'PutCommand', 'UpdateCommand']);
      expect(sent).toEqual(['PutCommand', 'GetCommand', 'PutCommand', 'UpdateCommand']);
      expect(afterOther.seq).toBe(6);
      expect(await log.verify()).toMatchObject({ valid: true, records: 6 });
    });

    it('stores the record it returns, without credential-named keys', async () => {
      // Prepare
      const { log, audit } = await freshLog();

      // Act
      const record = await log.append('s', { type: 'account.synced', data: { apiKey: 'k', secret: 's', balance: '10', note: '' } }, new Date('2025-01-01T00:00:00Z'));
      const { Item } = await dynamo.doc.send(new GetCommand({ TableName: audit, Key: { stream: 's', seq: 1 } }));

      // Assess
      expect(record.data).toEqual({ balance: '10', note: '' });
      expect(Item).toEqual(record);
      expect(hashRecord(record)).toBe(record.hash);
    });

    it('heals a crash between the put and the head advance, and the chain stays valid', async () => {
      // Prepare: a record 4 written with the right hash whose appender died before moving the head
      const { log, audit, state } = await freshLog();
      const [, , third] = await appendMany(log, 'btc', 3);
      if (!third) throw new Error('no third record');
      const orphan = sealRecord('btc', third, { type: 'order.sent', data: { orphan: true } }, '2025-01-01T01:00:00.000Z');
      await dynamo.doc.send(new PutCommand({ TableName: audit, Item: orphan }));
      const beforeHeal = await log.verify();

      // Act
      const next = await log.append('btc', { type: 'order.filled', data: {} }, new Date('2025-01-01T02:00:00Z'));
      const afterHeal = await log.verify();
      const { Item: head } = await dynamo.doc.send(new GetCommand({ TableName: state, Key: auditHeadKey('btc') }));

      // Assess
      expect(beforeHeal.valid).toBe(true);
      expect(next).toMatchObject({ seq: 5, prevHash: orphan.hash });
      expect(head).toMatchObject({ seq: 5, hash: next.hash });
      expect(afterHeal).toMatchObject({ valid: true, records: 5 });
    });

    it('keeps the chain verifiable when the appender that heals a crash crashes too', async () => {
      // Prepare: record 3 orphaned by a crash, and an appender that dies after writing record 4
      const { log, audit, state } = await freshLog();
      const [, second] = await appendMany(log, 'btc', 2);
      if (!second) throw new Error('no second record');
      const orphan = sealRecord('btc', second, { type: 'order.sent', data: {} }, '2025-01-01T01:00:00.000Z');
      await dynamo.doc.send(new PutCommand({ TableName: audit, Item: orphan }));
      const dying = Object.create(dynamo.doc) as DynamoDBDocumentClient;
      dying.send = ((command: { input: { ExpressionAttributeValues?: Record<string, unknown> } }) => {
        if (command instanceof UpdateCommand && command.input.ExpressionAttributeValues?.[':seq'] === 4) {
          return Promise.reject(new Error('process died'));
        }
        return dynamo.doc.send(command as never);
      }) as DynamoDBDocumentClient['send'];
      const dyingLog = new DynamoDbAuditLog({ doc: dying, auditTable: audit, stateTable: state });

      // Act
      const died = dyingLog.append('btc', { type: 'order.filled', data: {} }, new Date('2025-01-01T02:00:00Z'));

      // Assess
      await expect(died).rejects.toThrow('process died');
      const { Item: head } = await dynamo.doc.send(new GetCommand({ TableName: state, Key: auditHeadKey('btc') }));
      expect(head).toMatchObject({ seq: 3, hash: orphan.hash });
      expect(await log.verify()).toMatchObject({ valid: true, records: 4 });
    });
  });

  describe('Method: verify', () => {
    it('is valid while records are appended between its reads: a stream whose head moved is read again until its head holds still', async () => {
      // Prepare: a verifier whose every Scan first lets a writer append to two streams, one of
      // them new, so each of verify's reads (heads, records, heads) sees a longer log than the last.
      const { audit, state } = await freshLog();
      const writer = new DynamoDbAuditLog({ doc: dynamo.doc, auditTable: audit, stateTable: state });
      await appendMany(writer, 'btc', 3);
      const client = new DynamoDBClient({ endpoint: dynamo.emulator.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
      let scans = 0;
      client.middlewareStack.add(
        (next, context) => async (args) => {
          if (context.commandName === 'ScanCommand') {
            scans += 1;
            await appendMany(writer, 'btc', 2);
            await appendMany(writer, `new-${scans}`, 3);
          }
          return next(args);
        },
        { step: 'initialize', name: 'appendDuringVerify' },
      );
      const verifier = new DynamoDbAuditLog({ doc: DynamoDBDocumentClient.from(client), auditTable: audit, stateTable: state });

      // Act
      const verification = await verifier.verify();
      client.destroy();

      // Assess: every read was interleaved with appends, and nothing they wrote is a problem.
      expect(scans).toBeGreaterThanOrEqual(3);
      expect(verification.problems).toEqual([]);
      expect(verification.valid).toBe(true);
      expect((await writer.verify()).valid).toBe(true);
    });

    it('still finds a deleted tail while records are appended between its reads', async () => {
      // Prepare
      const { audit, state } = await freshLog();
      const writer = new DynamoDbAuditLog({ doc: dynamo.doc, auditTable: audit, stateTable: state });
      await appendMany(writer, 'btc', 5);
      await dynamo.doc.send(new DeleteCommand({ TableName: audit, Key: { stream: 'btc', seq: 5 } }));
      const client = new DynamoDBClient({ endpoint: dynamo.emulator.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
      client.middlewareStack.add(
        (next, context) => async (args) => {
          if (context.commandName === 'ScanCommand') await appendMany(writer, 'eth', 2);
          return next(args);
        },
        { step: 'initialize', name: 'appendDuringVerify' },
      );
      const verifier = new DynamoDbAuditLog({ doc: DynamoDBDocumentClient.from(client), auditTable: audit, stateTable: state });

      // Act
      const verification = await verifier.verify();
      client.destroy();

      // Assess
      expect(verification.valid).toBe(false);
      expect(verification.problems).toEqual([{ stream: 'btc', seq: 5, problem: expect.stringMatching(/^tail-missing/) }]);
    });

    it('names the stream and seq of a record edited in place', async () => {
      // Prepare
      const { log, audit } = await freshLog();
      await appendMany(log, 'intact', 3);
      await appendMany(log, 'btc', 5);

      // Act
      await dynamo.doc.send(
        new UpdateCommand({
          TableName: audit,
          Key: { stream: 'btc', seq: 3 },
          UpdateExpression: 'SET #data.#qty = :qty',
          ExpressionAttributeNames: { '#data': 'data', '#qty': 'qty' },
          ExpressionAttributeValues: { ':qty': '100' },
        }),
      );
      const verification = await log.verify();

      // Assess
      expect(verification.valid).toBe(false);
      expect(verification.problems).toEqual([{ stream: 'btc', seq: 3, problem: expect.stringMatching(/^edited/) }]);
    });

    it('names an attribute added to a record as an edit', async () => {
      const { log, audit } = await freshLog();
      await appendMany(log, 'btc', 3);
      await dynamo.doc.send(
        new UpdateCommand({ TableName: audit, Key: { stream: 'btc', seq: 2 }, UpdateExpression: 'SET #n = :n', ExpressionAttributeNames: { '#n': 'note' }, ExpressionAttributeValues: { ':n': 'x' } }),
      );
      expect((await log.verify()).problems).toEqual([{ stream: 'btc', seq: 2, problem: expect.stringMatching(/^edited: unexpected attribute/) }]);
    });

    it('detects a deleted middle record', async () => {
      const { log, audit } = await freshLog();
      await appendMany(log, 'btc', 5);
      await dynamo.doc.send(new DeleteCommand({ TableName: audit, Key: { stream: 'btc', seq: 3 } }));
      expect((await log.verify()).problems).toEqual([{ stream: 'btc', seq: 3, problem: expect.stringMatching(/^missing/) }]);
    });

    it('detects a deleted last record through the head pointer', async () => {
      const { log, audit } = await freshLog();
      await appendMany(log, 'btc', 5);
      await dynamo.doc.send(new DeleteCommand({ TableName: audit, Key: { stream: 'btc', seq: 5 } }));
      expect((await log.verify()).problems).toEqual([{ stream: 'btc', seq: 5, problem: expect.stringMatching(/^tail-missing/) }]);
    });

    it('detects a stream whose records were all deleted', async () => {
      const { log, audit } = await freshLog();
      await appendMany(log, 'btc', 2);
      for (const seq of [1, 2]) await dynamo.doc.send(new DeleteCommand({ TableName: audit, Key: { stream: 'btc', seq } }));
      expect(await log.verify()).toMatchObject({ valid: false, problems: [{ stream: 'btc', seq: 1 }] });
    });

    it('detects a forged record appended with a hash that does not match its content', async () => {
      // Prepare
      const { log, audit } = await freshLog();
      const [, second] = await appendMany(log, 'btc', 2);
      if (!second) throw new Error('no second record');
      const forged = sealRecord('btc', second, { type: 'order.filled', data: { qty: '1' } }, '2025-01-02T00:00:00.000Z');

      // Act
      await dynamo.doc.send(new PutCommand({ TableName: audit, Item: { ...forged, data: { qty: '1000' } } }));
      const verification = await log.verify();

      // Assess
      expect(verification.problems).toEqual([{ stream: 'btc', seq: 3, problem: expect.stringMatching(/^edited/) }]);
    });

    it('detects a record overwritten with a recomputed hash by its successor', async () => {
      // Prepare
      const { log, audit } = await freshLog();
      const [first] = await appendMany(log, 'btc', 4);
      if (!first) throw new Error('no first record');
      const forged = sealRecord('btc', first, { type: 'order.sent', data: { qty: '999' } }, '2025-01-01T00:00:01.000Z');

      // Act
      await dynamo.doc.send(new PutCommand({ TableName: audit, Item: forged }));
      const verification = await log.verify();

      // Assess
      expect(verification.problems).toEqual([{ stream: 'btc', seq: 3, problem: expect.stringMatching(/^broken-link/) }]);
    });

    it('detects records written past the head pointer outside the log', async () => {
      // Prepare: two well-chained records the log never acknowledged
      const { log, audit } = await freshLog();
      const [, second] = await appendMany(log, 'btc', 2);
      if (!second) throw new Error('no second record');
      const third = sealRecord('btc', second, { type: 'x', data: {} }, '2025-01-02T00:00:00.000Z');
      const fourth = sealRecord('btc', third, { type: 'x', data: {} }, '2025-01-02T00:00:00.000Z');

      // Act
      for (const item of [third, fourth]) await dynamo.doc.send(new PutCommand({ TableName: audit, Item: item }));
      const verification = await log.verify();

      // Assess
      expect(verification.problems).toEqual([{ stream: 'btc', seq: 4, problem: expect.stringMatching(/^beyond-head/) }]);
    });
  });
});
