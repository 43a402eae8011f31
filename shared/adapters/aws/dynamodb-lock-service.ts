/**
 * Leases with fencing tokens on DynamoDB (RISK-7). One state-table item per lock: `owner`
 * (absent when released), `expiresAt` (epoch ms) and `token`, which grows by one on every
 * acquisition and never goes back, not even on release. A symbol's lease (`symbol:<SYMBOL>`)
 * lives on the head item of the audit stream of the same name (`AUDITHEAD#symbol:<SYMBOL>` /
 * `HEAD`), every other lease on its own item (`LOCK#<name>` / `LOCK`): see `leaseKey`.
 *
 * Why a symbol's lease shares the head item (PERF-2): the executor appends an intent's audit
 * records to the symbol's stream under the symbol's lease, and then gives back the lease and
 * moves the stream's head pointer. On one item, both are ONE conditional write (`release` with a
 * head): fenced by the lease (owner and token, as a release alone) and by the head rule (it only
 * moves forward, as the audit log's own head update). The audit log's verify, checkpoint and
 * export read only the head's attributes, and an item that holds only a lease is no head.
 *
 * Expiry is decided in the condition expression against the caller's `now`, never by TTL.
 * A lease is valid strictly before `expiresAt`.
 *
 * Re-acquisition: the current owner may acquire again while its lease is live; it gets a new
 * lease with a new expiry and a higher token (the old lease is then superseded). Owner ids must
 * therefore be unique per holder (e.g. `executor:<invocation id>`), never a shared role name,
 * or two holders would both "re-acquire".
 *
 * Tokens of a lease on a head item start at the first acquisition's time in ms (then grow by
 * one): above any token the lease's former `LOCK#` item can have handed out (one per
 * acquisition), so orders fenced by a token of that item are not refused to the new holders.
 *
 * Held locks also carry `heldpk` = HELD_LOCK_PARTITION, the key of the sparse HELD_LOCKS_INDEX:
 * set on acquisition, removed on release, so `list` reads only the locks held, by key.
 *
 * A lease alone does not stop a paused holder (GC, slow network) from writing after it
 * expired: writes made under a lock must also be fenced, see `fenceCondition`.
 */
import { QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { HELD_LOCKS_INDEX } from '../../definitions/tables.js';
import { LockHeldError, StorageError, ValidationError } from '../../domain/errors.js';
import type { Lease, LockInfo, LockService } from '../../ports/lock-service.js';
import { isConditionFailed } from './dynamodb-errors.js';
import type { ChainHead } from '../../domain/audit-chain.js';
import { AUDIT_HEAD_PREFIX, LOCK_PREFIX, fenceAllows, headIsBehind, headMove, leaseIsCurrent, leaseIsFree, leaseKey } from './dynamodb-keys.js';

export interface DynamoDbLockServiceOptions {
  readonly doc: DynamoDBDocumentClient;
  /** The state table. */
  readonly table: string;
}

/** Parts of a condition expression, to merge into a write's own names and values. */
export interface ConditionParts {
  readonly expression: string;
  readonly names: Record<string, string>;
  readonly values: Record<string, unknown>;
}

/**
 * The guard of a write made under a lease with fencing token `token`: it succeeds only if no
 * holder with a newer token has written the item. The write must also `SET #fence = :fence`, so
 * that the item remembers the newest token; when the condition fails the writer has lost the
 * lock and raises LockLostError.
 *
 * @example
 * const fence = fenceCondition(lease.token);
 * new UpdateCommand({
 *   UpdateExpression: 'SET #state = :to, #version = :next, #fence = :fence',
 *   ConditionExpression: `#version = :version AND ${fence.expression}`,
 *   ExpressionAttributeNames: { '#state': 'state', '#version': 'version', ...fence.names },
 *   ExpressionAttributeValues: { ':to': to, ':next': v + 1, ':version': v, ...fence.values },
 * });
 */
export function fenceCondition(token: number): ConditionParts {
  return { expression: fenceAllows, names: { '#fence': 'fence' }, values: { ':fence': token } };
}

/** The one partition of the held-locks index. */
export const HELD_LOCK_PARTITION = 'HELD';

export class DynamoDbLockService implements LockService {
  readonly #doc: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(options: DynamoDbLockServiceOptions) {
    this.#doc = options.doc;
    this.#table = options.table;
  }

  /**
   * One conditional update: take the lock if it was never taken, has expired, or is already
   * ours; bump the token either way.
   * @throws LockHeldError when another owner holds an unexpired lease.
   * @throws ValidationError for an empty name or owner or a lease that is not a positive integer.
   */
  async acquire(name: string, owner: string, leaseMs: number, now: Date): Promise<Lease> {
    if (name.length === 0 || owner.length === 0) throw new ValidationError('lock name and owner must not be empty');
    if (!Number.isSafeInteger(leaseMs) || leaseMs <= 0) throw new ValidationError(`lease must be a positive integer of ms, got ${leaseMs}`);
    const nowMs = now.getTime();
    if (Number.isNaN(nowMs)) throw new ValidationError('lock acquisition time is invalid');
    const key = leaseKey(name);
    // The first token of a lease on a head item: see the module comment.
    const firstToken = key.pk.startsWith(LOCK_PREFIX) ? 0 : nowMs;
    try {
      const { Attributes } = await this.#doc.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: key,
          // Lease attributes only: a head item's `seq` and `hash` are left as they are.
          UpdateExpression: 'SET #owner = :owner, #expiresAt = :expiresAt, #name = :name, #held = :held, #token = if_not_exists(#token, :first) + :one',
          ConditionExpression: leaseIsFree,
          ExpressionAttributeNames: { '#owner': 'owner', '#expiresAt': 'expiresAt', '#name': 'name', '#token': 'token', '#held': 'heldpk' },
          ExpressionAttributeValues: { ':owner': owner, ':expiresAt': nowMs + leaseMs, ':now': nowMs, ':name': name, ':first': firstToken, ':one': 1, ':held': HELD_LOCK_PARTITION },
          ReturnValues: 'ALL_NEW',
        }),
      );
      const info = Attributes ? toLockInfo(Attributes) : null;
      if (!info || info.owner !== owner) throw new StorageError(`lock ${name}: acquisition returned an unreadable item`, { details: { lock: name } });
      return { name, owner, token: info.token, expiresAt: info.expiresAt };
    } catch (error) {
      if (isConditionFailed(error)) throw new LockHeldError(name, { cause: error, details: { owner } });
      throw error;
    }
  }

  /**
   * Frees the lock if `lease` is still the current one (same owner and token): removes the
   * owner and sets `expiresAt` to 0, keeping the token. A lease that was lost (expired and taken
   * by someone else, or superseded) is left alone: releasing it is a no-op, not an error.
   *
   * With `head`, for a lease that lives on a head item (`leaseKey`): the same write also moves
   * that stream's head pointer to `head`, on the audit log's own rule (only forward). Resolves
   * true when it did. When that write's condition fails, the lease is released alone (a no-op if
   * it was lost) and false tells the caller the head is still its to move; which of the two
   * conditions failed is not known (the emulator returns no item on a failed condition) and need
   * not be: the audit log's own head update is a no-op when the head is already there.
   */
  async release(lease: Lease, head?: ChainHead): Promise<boolean> {
    const key = leaseKey(lease.name);
    if (head && key.pk.startsWith(AUDIT_HEAD_PREFIX)) {
      const move = headMove(lease.name, head);
      try {
        await this.#doc.send(
          new UpdateCommand({
            TableName: this.#table,
            Key: key,
            UpdateExpression: `SET #expiresAt = :zero, ${move.set} REMOVE #owner, #held`,
            ConditionExpression: `${leaseIsCurrent} AND (${headIsBehind})`,
            ExpressionAttributeNames: { '#owner': 'owner', '#token': 'token', '#expiresAt': 'expiresAt', '#held': 'heldpk', ...move.names },
            ExpressionAttributeValues: { ':owner': lease.owner, ':token': lease.token, ':zero': 0, ...move.values },
          }),
        );
        return true;
      } catch (error) {
        if (!isConditionFailed(error)) throw error;
        // Rare (use-cases/release-lease.ts): the lease was lost, or another writer moved the head
        // past `head`. The lease is released alone below; the head stays the audit log's to move.
      }
    }
    try {
      await this.#doc.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: key,
          UpdateExpression: 'SET #expiresAt = :zero REMOVE #owner, #held',
          ConditionExpression: leaseIsCurrent,
          ExpressionAttributeNames: { '#owner': 'owner', '#token': 'token', '#expiresAt': 'expiresAt', '#held': 'heldpk' },
          ExpressionAttributeValues: { ':owner': lease.owner, ':token': lease.token, ':zero': 0 },
        }),
      );
    } catch (error) {
      // Expected when the lease was lost: the newer holder's lock must stay as it is.
      if (!isConditionFailed(error)) throw error;
    }
    return false;
  }

  /**
   * The locks currently held (owner set), live or past their lease, from the sparse held-locks
   * index: one Query whose cost grows with the locks held, not with the table. The index is
   * eventually consistent: a lock taken or released a moment ago may be missing or still listed,
   * which health, running every minute, tolerates.
   */
  async list(): Promise<LockInfo[]> {
    const locks: LockInfo[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.#doc.send(
        new QueryCommand({
          TableName: this.#table,
          IndexName: HELD_LOCKS_INDEX,
          ExclusiveStartKey: startKey,
          KeyConditionExpression: '#held = :held',
          ExpressionAttributeNames: { '#held': 'heldpk' },
          ExpressionAttributeValues: { ':held': HELD_LOCK_PARTITION },
        }),
      );
      for (const item of page.Items ?? []) {
        const info = toLockInfo(item);
        if (!info) throw new StorageError(`lock item ${String(item['pk'])} is malformed`, { details: { pk: item['pk'] } });
        locks.push(info);
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return locks.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}

/** A lease item as lock info: its name is the key's (`LOCK#<name>`, or a head item's `AUDITHEAD#<name>`). */
function toLockInfo(item: Record<string, unknown>): LockInfo | null {
  const { pk, owner, expiresAt, token } = item;
  if (typeof pk !== 'string') return null;
  const prefix = [LOCK_PREFIX, AUDIT_HEAD_PREFIX].find((p) => pk.startsWith(p));
  if (prefix === undefined) return null;
  const name = pk.slice(prefix.length);
  if (leaseKey(name).pk !== pk) return null;
  if (typeof expiresAt !== 'number' || typeof token !== 'number') return null;
  if (owner !== undefined && owner !== null && typeof owner !== 'string') return null;
  return { name, owner: owner ?? null, token, expiresAt };
}
