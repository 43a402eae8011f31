/**
 * OPS-4 / PERF-2: the audit log's overlapped head updates (a mode of the log; the executor moves
 * its heads once per intent instead, test/integration/audit-batches.test.ts): an append
 * resolves once its record is stored and the head pointer follows while the caller goes on,
 * never more than one record behind, and a failed head update is not lost.
 */
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoDbAuditLog } from '../../shared/adapters/aws/dynamodb-audit-log.js';
import { auditHeadKey } from '../../shared/adapters/aws/dynamodb-keys.js';
import { type TestDynamo, useAuditTables } from '../support/emulators.js';

let dynamo: TestDynamo;
const tablePair = useAuditTables('overlap', (started) => (dynamo = started));

/** Fresh tables and a client that logs each command as it starts and ends, and can hold head updates back. */
async function overlappedLog(options: { failHeadAt?: number } = {}) {
  const { audit, state } = await tablePair();
  const events: string[] = [];
  let release: (() => void) | undefined;
  let held: Promise<void> | undefined;
  const doc = {
    send: async (command: { constructor: { name: string }; input: { ExpressionAttributeValues?: Record<string, unknown> } }) => {
      const name = command.constructor.name;
      const seq = command.input.ExpressionAttributeValues?.[':seq'];
      events.push(`start ${name}${seq === undefined ? '' : ` ${String(seq)}`}`);
      if (command instanceof UpdateCommand && held) await held;
      if (command instanceof UpdateCommand && seq === options.failHeadAt) {
        events.push(`fail ${name} ${String(seq)}`);
        throw new Error('head pointer unavailable');
      }
      const out: unknown = await dynamo.doc.send(command as never);
      events.push(`end ${name}${seq === undefined ? '' : ` ${String(seq)}`}`);
      return out;
    },
  } as unknown as DynamoDBDocumentClient;
  const log = new DynamoDbAuditLog({ doc, auditTable: audit, stateTable: state, overlapHeadUpdates: true });
  const plain = new DynamoDbAuditLog({ doc: dynamo.doc, auditTable: audit, stateTable: state });
  const holdHeads = () => {
    held = new Promise((resolve) => (release = resolve));
  };
  const releaseHeads = () => {
    held = undefined;
    release?.();
  };
  const head = async (stream: string) => (await dynamo.doc.send(new GetCommand({ TableName: state, Key: auditHeadKey(stream) }))).Item;
  return { log, plain, events, holdHeads, releaseHeads, head };
}

const at = (i: number) => new Date(Date.UTC(2025, 0, 1, 0, 0, i));

describe('Class: DynamoDbAuditLog (overlapHeadUpdates)', () => {
  describe('Method: append', () => {
    it('resolves before the head update ends, and writes the next record only once the head reached the previous one', async () => {
      // Prepare
      const t = await overlappedLog();
      await t.log.append('btc', { type: 'intent.accepted', data: {} }, at(0));
      await t.log.settle();
      t.events.length = 0;
      t.holdHeads();

      // Act: the head update of record 2 is held back; append 3 must wait for it.
      await t.log.append('btc', { type: 'budget.reserved', data: {} }, at(1));
      const headWhileHeld = await t.head('btc');
      const third = t.log.append('btc', { type: 'order.submitting', data: {} }, at(2));
      await new Promise((resolve) => setTimeout(resolve, 50));
      const beforeRelease = [...t.events];
      t.releaseHeads();
      await third;
      await t.log.settle();

      // Assess
      expect(headWhileHeld).toMatchObject({ seq: 1 });
      expect(beforeRelease).toEqual(['start PutCommand', 'end PutCommand', 'start UpdateCommand 2']);
      expect(t.events.slice(beforeRelease.length)).toEqual(['end UpdateCommand 2', 'start PutCommand', 'end PutCommand', 'start UpdateCommand 3', 'end UpdateCommand 3']);
      expect(await t.head('btc')).toMatchObject({ seq: 3 });
      expect(await t.plain.verify()).toMatchObject({ valid: true, records: 3 });
    });

    it('fails the next append to the stream with a head update that failed, and the chain still verifies', async () => {
      // Prepare
      const t = await overlappedLog({ failHeadAt: 2 });
      await t.log.append('btc', { type: 'intent.accepted', data: {} }, at(0));

      // Act
      const second = await t.log.append('btc', { type: 'budget.reserved', data: {} }, at(1));
      const next = t.log.append('btc', { type: 'order.submitting', data: {} }, at(2));

      // Assess: the record is stored, the head one behind (accepted by verify, healed by the next append).
      expect(second.seq).toBe(2);
      await expect(next).rejects.toThrow('head pointer unavailable');
      expect(await t.head('btc')).toMatchObject({ seq: 1 });
      expect(await t.plain.verify()).toMatchObject({ valid: true, records: 2 });
      const healed = await t.plain.append('btc', { type: 'order.submitting', data: {} }, at(3));
      expect(healed.seq).toBe(3);
      expect(await t.plain.verify()).toMatchObject({ valid: true, records: 3 });
    });
  });

  describe('Method: settle', () => {
    it('waits for every head update still running and throws the first failure', async () => {
      // Prepare
      const t = await overlappedLog({ failHeadAt: 1 });

      // Act
      await t.log.append('eth', { type: 'intent.accepted', data: {} }, at(0));
      await t.log.append('btc', { type: 'intent.accepted', data: {} }, at(0));

      // Assess
      await expect(t.log.settle()).rejects.toThrow('head pointer unavailable');
      await expect(t.log.settle()).resolves.toBeUndefined();
      expect(await t.plain.verify()).toMatchObject({ valid: true, records: 2 });
    });

    it('has nothing to wait for when the log advances the head before append resolves (the default)', async () => {
      const t = await overlappedLog();
      const plainRecord = await t.plain.append('sol', { type: 'intent.accepted', data: {} }, at(0));
      expect(await t.head('sol')).toMatchObject({ seq: plainRecord.seq, hash: plainRecord.hash });
      await expect(t.plain.settle()).resolves.toBeUndefined();
    });
  });
});
