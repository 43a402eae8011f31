import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lockKey } from '../../shared/adapters/aws/dynamodb-keys.js';
import { DynamoDbLockService, fenceCondition } from '../../shared/adapters/aws/dynamodb-lock-service.js';
import { LockHeldError } from '../../shared/domain/errors.js';
import type { Lease } from '../../shared/ports/lock-service.js';
import { startTestDynamo, type TestDynamo } from '../support/emulators.js';

let dynamo: TestDynamo;
let locks: DynamoDbLockService;
let lockCounter = 0;

const T0 = new Date('2025-01-01T00:00:00Z');
const LEASE_MS = 30_000;
const later = (ms: number): Date => new Date(T0.getTime() + ms);

/** A lock name no other test uses. */
function freshName(): string {
  lockCounter += 1;
  return `symbol-${lockCounter}`;
}

beforeAll(async () => {
  dynamo = await startTestDynamo();
  locks = new DynamoDbLockService({ doc: dynamo.doc, table: dynamo.tables.state });
});

afterAll(async () => {
  await dynamo.stop();
});

describe('Class: DynamoDbLockService', () => {
  describe('Method: acquire', () => {
    it('grants a free lock with token 1 and an expiry of now + lease', async () => {
      const name = freshName();
      const lease = await locks.acquire(name, 'a', LEASE_MS, T0);
      expect(lease).toEqual({ name, owner: 'a', token: 1, expiresAt: T0.getTime() + LEASE_MS });
    });

    it('refuses a second owner while the lease is live with LockHeldError', async () => {
      // Prepare
      const name = freshName();
      await locks.acquire(name, 'a', LEASE_MS, T0);

      // Act
      const second = locks.acquire(name, 'b', LEASE_MS, later(LEASE_MS - 1));

      // Assess
      await expect(second).rejects.toBeInstanceOf(LockHeldError);
      await expect(second).rejects.toMatchObject({ code: 'LOCK_HELD', retryable: true });
    });

    it('lets a second owner take an expired lease with a higher token', async () => {
      // Prepare
      const name = freshName();
      const first = await locks.acquire(name, 'a', LEASE_MS, T0);

      // Act: a lease is valid strictly before expiresAt
      const second = await locks.acquire(name, 'b', LEASE_MS, later(LEASE_MS));

      // Assess
      expect(second.owner).toBe('b');
      expect(second.token).toBeGreaterThan(first.token);
    });

    it('lets the holder re-acquire its live lease, superseding it with a new token', async () => {
      const name = freshName();
      const first = await locks.acquire(name, 'a', LEASE_MS, T0);
      const again = await locks.acquire(name, 'a', LEASE_MS, later(1000));
      expect(again).toEqual({ name, owner: 'a', token: first.token + 1, expiresAt: later(1000 + LEASE_MS).getTime() });
    });

    it('has exactly one winner among 20 concurrent acquisitions', async () => {
      // Prepare
      const name = freshName();

      // Act
      const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => locks.acquire(name, `owner-${i}`, LEASE_MS, T0)));

      // Assess
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r) => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost.every((r) => r.reason instanceof LockHeldError)).toBe(true);
      expect(won[0]?.value.token).toBe(1);
    });

    it('hands out strictly increasing tokens across acquisitions and releases', async () => {
      // Prepare
      const name = freshName();
      const tokens: number[] = [];

      // Act: alternate release and expiry as the ways a lock becomes free
      for (let i = 0; i < 6; i += 1) {
        const lease = await locks.acquire(name, `owner-${i}`, LEASE_MS, later(i * LEASE_MS));
        tokens.push(lease.token);
        if (i % 2 === 0) await locks.release(lease);
      }

      // Assess
      expect(tokens).toEqual([1, 2, 3, 4, 5, 6]);
    });
  });

  describe('Method: release', () => {
    it('frees the lock for another owner at once and keeps the token growing', async () => {
      // Prepare
      const name = freshName();
      const lease = await locks.acquire(name, 'a', LEASE_MS, T0);

      // Act
      await locks.release(lease);
      const next = await locks.acquire(name, 'b', LEASE_MS, later(1));

      // Assess
      expect(next).toMatchObject({ owner: 'b', token: lease.token + 1 });
    });

    it('leaves the new holder alone when the old owner releases a lost lease', async () => {
      // Prepare
      const name = freshName();
      const old = await locks.acquire(name, 'a', LEASE_MS, T0);
      const current = await locks.acquire(name, 'b', LEASE_MS, later(LEASE_MS + 1));

      // Act
      await expect(locks.release(old)).resolves.toBe(false);

      // Assess
      await expect(locks.acquire(name, 'c', LEASE_MS, later(LEASE_MS + 2))).rejects.toBeInstanceOf(LockHeldError);
      const { Item } = await dynamo.doc.send(new GetCommand({ TableName: dynamo.tables.state, Key: lockKey(name) }));
      expect(Item).toMatchObject({ owner: 'b', token: current.token, expiresAt: current.expiresAt });
    });

    it('does not let a superseded lease of the same owner release the newer one', async () => {
      const name = freshName();
      const first = await locks.acquire(name, 'a', LEASE_MS, T0);
      await locks.acquire(name, 'a', LEASE_MS, later(1));
      await locks.release(first);
      await expect(locks.acquire(name, 'b', LEASE_MS, later(2))).rejects.toBeInstanceOf(LockHeldError);
    });
  });

  describe('Method: list', () => {
    it('lists the held locks, live or past their lease, with owner, token and expiry, and no released one', async () => {
      // Prepare
      const held = freshName();
      const expired = freshName();
      const released = freshName();
      const heldLease = await locks.acquire(held, 'a', LEASE_MS, T0);
      const expiredLease = await locks.acquire(expired, 'c', 1, T0);
      await locks.release(await locks.acquire(released, 'b', LEASE_MS, T0));
      await dynamo.doc.send(new PutCommand({ TableName: dynamo.tables.state, Item: { pk: 'CONTROL#PAUSE', sk: 'PAUSE', paused: false, version: 1 } }));

      // Act
      const listed = await locks.list();

      // Assess
      expect(listed).toContainEqual({ name: held, owner: 'a', token: heldLease.token, expiresAt: heldLease.expiresAt });
      expect(listed).toContainEqual({ name: expired, owner: 'c', token: expiredLease.token, expiresAt: expiredLease.expiresAt });
      expect(listed.map((l) => l.name)).not.toContain(released);
      expect(listed.map((l) => l.name).every((n) => n.startsWith('symbol-'))).toBe(true);
    });

    it('finds the held locks by the sparse index, never by a table scan (cost independent of the orders stored)', async () => {
      // Prepare: a lock held, and many unrelated items (orders) in the table.
      const held = freshName();
      await locks.acquire(held, 'a', LEASE_MS, T0);
      for (let i = 0; i < 40; i += 1) {
        await dynamo.doc.send(new PutCommand({ TableName: dynamo.tables.state, Item: { pk: `ORDER#tw-${i}-${held}`, sk: 'ORDER', state: 'FILLED', version: 1 } }));
      }
      const sent: string[] = [];
      const probe = new DynamoDbLockService({
        doc: { send: (command: { constructor: { name: string }; input: unknown }) => (sent.push(command.constructor.name), dynamo.doc.send(command as never)) } as never,
        table: dynamo.tables.state,
      });

      // Act
      const listed = await probe.list();

      // Assess
      expect(listed.map((l) => l.name)).toContain(held);
      expect(sent).toEqual(['QueryCommand']);
    });
  });

  describe('Function: fenceCondition', () => {
    /** A write made under `lease` to a shared item, the way a fenced store writes. */
    async function fencedWrite(lease: Lease, value: string): Promise<void> {
      const fence = fenceCondition(lease.token);
      await dynamo.doc.send(
        new UpdateCommand({
          TableName: dynamo.tables.state,
          Key: { pk: `FENCED#${lease.name}`, sk: 'ITEM' },
          UpdateExpression: 'SET #value = :value, #fence = :fence',
          ConditionExpression: fence.expression,
          ExpressionAttributeNames: { '#value': 'value', ...fence.names },
          ExpressionAttributeValues: { ':value': value, ...fence.values },
        }),
      );
    }

    it('refuses a write of an old holder once a newer token has written', async () => {
      // Prepare
      const name = freshName();
      const old = await locks.acquire(name, 'a', LEASE_MS, T0);
      await fencedWrite(old, 'old-1');
      const current = await locks.acquire(name, 'b', LEASE_MS, later(LEASE_MS));
      await fencedWrite(current, 'new');

      // Act
      const stale = fencedWrite(old, 'old-2');

      // Assess
      await expect(stale).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
      await expect(fencedWrite(current, 'new-2')).resolves.toBeUndefined();
    });
  });
});
