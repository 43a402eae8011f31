/**
 * The audit log on DynamoDB (OPS-4): one immutable item per record in the audit table
 * (`stream`, `seq`), hash-chained per stream, plus a head pointer per stream in the state table
 * (`AUDITHEAD#<stream>` / `HEAD`: `seq`, `hash`) so that a deleted tail is detected.
 *
 * Writes: the audit table only ever receives conditional puts of new items (never an update or
 * a delete); the head pointer only moves forward.
 *
 * Each instance remembers the last record it appended per stream (the tail it knows). The next
 * append chains onto it without reading the head pointer: one put and one head update per
 * record. If another writer appended meanwhile, the put finds its sequence number taken (the
 * condition), and the append reads the head pointer as before; the chain and the head are
 * exactly what they would be without the memory. There is no transaction between the two: a
 * crash after the put leaves one record past the head, which the next append heals and which
 * `verify` accepts.
 *
 * Batches (`batchHeadUpdates`, the executor's log; PERF-2): the head pointer moves once per batch,
 * not once per record. Each record names the head position this instance knew durable when it
 * wrote it (`batch`, hashed), the head moves to the last record when the owner calls `settle()`
 * (the executor: at the end of each intent), and before a stream would hold more than
 * `MAX_UNACKNOWLEDGED` records past the head they name. domain/audit-chain.ts says what `verify`
 * then detects.
 */
import { GetCommand, PutCommand, QueryCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { setTimeout as sleep } from 'node:timers/promises';
import { MAX_UNACKNOWLEDGED, sealRecord, verifyChain, type ChainHead, type ChainedRecord } from '../../domain/audit-chain.js';
import { checkAgainstCheckpoint, type StoredCheckpoint } from '../../domain/audit-checkpoint.js';
import { AUDIT_HEADS_INDEX, AUDIT_HEADS_PARTITION } from '../../definitions/tables.js';
import type { AuditHeadReader } from '../../ports/audit-checkpoints.js';
import { ConcurrentModificationError, StorageError, ValidationError } from '../../domain/errors.js';
import type { AuditEntry, AuditLog, AuditRecord, AuditVerification } from '../../ports/audit-log.js';
import { isConditionFailed } from './dynamodb-errors.js';
import {
  AUDIT_HEAD_PREFIX,
  auditHeadIndexKeys,
  auditHeadKey,
  auditRecordDoesNotExist,
  auditRecordKey,
  headIsBehind,
} from './dynamodb-keys.js';

/** Streams whose tail an instance remembers (one per traded symbol plus a few control streams). */
const MAX_KNOWN_TAILS = 2048;

export interface DynamoDbAuditLogOptions {
  readonly doc: DynamoDBDocumentClient;
  /** The audit table (`stream` S, `seq` N). */
  readonly auditTable: string;
  /** The state table, which holds the head pointers. */
  readonly stateTable: string;
  /**
   * Attempts of one append before it gives up with ConcurrentModificationError. An attempt
   * fails only when another append to the same stream took that sequence number, and each
   * retry targets a higher one, so an append succeeds within N attempts when at most N - 1
   * other records were appended past the head it read (concurrent appends, or the records of a
   * batch whose writer died before its head update).
   * @default 20 + MAX_UNACKNOWLEDGED
   */
  readonly maxAttempts?: number;
  /**
   * Upper bound of the first jittered pause after a lost race; it doubles per attempt up to
   * `maxDelayMs`.
   * @default 5
   */
  readonly baseDelayMs?: number;
  /** @default 100 */
  readonly maxDelayMs?: number;
  /**
   * Let an append resolve once its record is stored, and move the head pointer while the caller
   * goes on (its next state write), instead of before returning. The invariant `verify` relies
   * on is kept: the next append to the stream waits for that head update (and fails with its
   * error) before writing its own record, so the head is never more than one record behind.
   * `settle()` waits for every update still running and throws the first failure; the owner of
   * the log calls it before its invocation ends. For the executor's critical path.
   * @default false (the head is advanced before `append` resolves)
   */
  readonly overlapHeadUpdates?: boolean;
  /**
   * Move the head pointer once per batch (see the module comment): `append` resolves when its
   * record is stored, and `settle()` moves each stream's head to the last record this instance
   * appended (one update per stream), throwing the first failure. Takes precedence over
   * `overlapHeadUpdates`.
   * @default false
   */
  readonly batchHeadUpdates?: boolean;
}

/** What an instance knows of a stream: the last record it appended, and the head position it knows durable. */
interface KnownTail extends ChainHead {
  readonly acknowledged: number;
}

export class DynamoDbAuditLog implements AuditLog, AuditHeadReader {
  readonly #doc: DynamoDBDocumentClient;
  readonly #auditTable: string;
  readonly #stateTable: string;
  readonly #maxAttempts: number;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  /** Last record this instance appended, per stream (bounded: least recently used dropped). */
  readonly #knownTails = new Map<string, KnownTail>();
  readonly #overlapHeadUpdates: boolean;
  readonly #batchHeadUpdates: boolean;
  /** Last record appended past the head, per stream, until `settle()` moves the head to it (batchHeadUpdates). */
  readonly #unacknowledged = new Map<string, ChainHead>();
  /** Head pointers read ahead (`prepare`), per stream, until an append or `settle()` takes them. */
  readonly #preparedHeads = new Map<string, Promise<ChainHead | null>>();
  /** Head updates still running (overlapHeadUpdates), per stream. */
  readonly #pendingHeads = new Map<string, Promise<void>>();

  constructor(options: DynamoDbAuditLogOptions) {
    this.#doc = options.doc;
    this.#auditTable = options.auditTable;
    this.#stateTable = options.stateTable;
    this.#maxAttempts = options.maxAttempts ?? 20 + MAX_UNACKNOWLEDGED;
    this.#baseDelayMs = options.baseDelayMs ?? 5;
    this.#maxDelayMs = options.maxDelayMs ?? 100;
    this.#batchHeadUpdates = options.batchHeadUpdates ?? false;
    this.#overlapHeadUpdates = !this.#batchHeadUpdates && (options.overlapHeadUpdates ?? false);
  }

  /**
   * Appends `entry` as the next record of `stream`. Credential-named keys of `entry.data` are
   * dropped before hashing and storing (SEC-1).
   *
   * 1. Chain onto the tail this instance appended last, if it knows one; otherwise read the
   *    stream's head pointer (strongly consistent).
   * 2. Put the next record, conditional on that sequence number being free.
   * 3. Lost the race: read the record that won, move the head up to it, wait a jittered
   *    moment and try the following number. Moving the head first heals an append that
   *    crashed after its put, and keeps the head at most one record behind the last one even
   *    if this append crashes too (which is what lets `verify` tell an unacknowledged append
   *    from records written outside the log).
   * 4. Won: advance the head to the new record.
   *
   * @throws ValidationError for an empty stream or type or an invalid date.
   * @throws ConcurrentModificationError when every attempt lost the race (retryable).
   */
  async append(stream: string, entry: AuditEntry, at: Date): Promise<AuditRecord> {
    if (stream.length === 0) throw new ValidationError('audit stream must not be empty');
    if (entry.type.length === 0) throw new ValidationError('audit entry type must not be empty');
    if (Number.isNaN(at.getTime())) throw new ValidationError('audit entry date is invalid');
    const atIso = at.toISOString();
    // The head must have reached this instance's previous record before the next one is written.
    await this.#settleStream(stream);

    const known = this.#knownTails.get(stream);
    let prev: ChainHead | null | undefined = known;
    /** The head position known durable: named by a batched record. */
    let acknowledged = known?.acknowledged ?? 0;
    const prepared = this.#preparedHeads.get(stream);
    this.#preparedHeads.delete(stream);
    if (!known && prepared) {
      // Read ahead; like a remembered tail, it is only a first guess (a taken number re-reads the head).
      const head = await prepared.catch(() => undefined);
      if (head !== undefined) {
        prev = head;
        acknowledged = head?.seq ?? 0;
      }
    }
    let fromMemory = prev !== undefined;
    for (let attempt = 1; attempt <= this.#maxAttempts; attempt += 1) {
      if (prev === undefined) {
        prev = await this.#readHead(stream);
        acknowledged = prev?.seq ?? 0;
      }
      const record = sealRecord(stream, prev, entry, atIso, this.#batchHeadUpdates ? acknowledged : undefined);
      try {
        await this.#doc.send(
          new PutCommand({
            TableName: this.#auditTable,
            Item: { ...record },
            ConditionExpression: auditRecordDoesNotExist,
            ExpressionAttributeNames: { '#stream': 'stream' },
          }),
        );
      } catch (error) {
        if (!isConditionFailed(error)) throw error;
        if (fromMemory) {
          // Another writer appended since this instance's last record: start from the head pointer.
          this.#knownTails.delete(stream);
          fromMemory = false;
          prev = undefined;
          continue;
        }
        // Somebody holds this number: chain onto their record. It exists for good (the table
        // accepts no deletes); if it cannot be read, start again from the head pointer.
        const taken = await this.#readRecord(stream, record.seq);
        if (taken) {
          await this.#advanceHead(stream, taken);
          acknowledged = taken.seq;
        }
        prev = taken ?? undefined;
        await sleep(this.#jitter(attempt));
        continue;
      }
      this.#remember(stream, record, acknowledged);
      if (this.#batchHeadUpdates) {
        this.#unacknowledged.set(stream, record);
        // The next record must lie within a batch of the head it names: move the head first.
        if (record.seq + 1 - acknowledged > MAX_UNACKNOWLEDGED) await this.#acknowledge(stream);
        return record;
      }
      if (!this.#overlapHeadUpdates) {
        await this.#advanceHead(stream, record);
        return record;
      }
      // Observed by the next append to the stream or by settle(); never left unhandled.
      const update = this.#advanceHead(stream, record);
      update.catch(() => undefined);
      this.#pendingHeads.set(stream, update);
      return record;
    }
    throw new ConcurrentModificationError(`audit stream ${stream}: no free sequence number after ${this.#maxAttempts} attempts`, {
      details: { stream },
    });
  }

  /**
   * Waits for the head updates still running (overlapHeadUpdates) and throws the first failure.
   * A head left one record behind by a failed update is accepted by `verify` and healed by the
   * next append, but the failure is the caller's to see.
   */
  prepare(stream: string): void {
    if (stream.length === 0 || this.#knownTails.has(stream) || this.#preparedHeads.has(stream)) return;
    const read = this.#readHead(stream);
    // Observed by the append that takes it; a failure only means that append reads again.
    read.catch(() => undefined);
    this.#preparedHeads.set(stream, read);
  }

  async settle(): Promise<void> {
    // Heads read ahead and not used by this invocation would be outdated by the next one.
    this.#preparedHeads.clear();
    const streams = [...this.#pendingHeads.keys()];
    const batched = [...this.#unacknowledged.keys()];
    const results = await Promise.allSettled([...streams.map((stream) => this.#settleStream(stream)), ...batched.map((stream) => this.#acknowledge(stream))]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /**
   * Moves the head to the last record this instance appended to `stream` past it (batch mode).
   * A failed update leaves the record unacknowledged: the next settle tries again.
   */
  async #acknowledge(stream: string): Promise<void> {
    const tail = this.#unacknowledged.get(stream);
    if (!tail) return;
    await this.#advanceHead(stream, tail);
    if (this.#unacknowledged.get(stream) === tail) this.#unacknowledged.delete(stream);
    const known = this.#knownTails.get(stream);
    if (known && known.acknowledged < tail.seq) this.#knownTails.set(stream, { ...known, acknowledged: tail.seq });
  }

  async #settleStream(stream: string): Promise<void> {
    const pending = this.#pendingHeads.get(stream);
    if (!pending) return;
    try {
      await pending;
    } finally {
      if (this.#pendingHeads.get(stream) === pending) this.#pendingHeads.delete(stream);
    }
  }

  /**
   * Every stream's head pointer, from the sparse audit-heads index (SEC-5): one Query whose cost
   * depends on the number of streams only. Eventually consistent, like every index: a head a
   * moment old is still a head the chain had.
   */
  async heads(): Promise<Record<string, ChainHead>> {
    const heads: Record<string, ChainHead> = {};
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.#doc.send(
        new QueryCommand({
          TableName: this.#stateTable,
          IndexName: AUDIT_HEADS_INDEX,
          KeyConditionExpression: '#headpk = :headpk',
          ExpressionAttributeNames: { '#headpk': 'headpk' },
          ExpressionAttributeValues: { ':headpk': AUDIT_HEADS_PARTITION },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) {
        const head = toHead(item);
        const stream = item['stream'];
        if (!head || typeof stream !== 'string') throw new StorageError(`audit head pointer ${String(item['pk'])} is malformed`, { details: { pk: item['pk'] } });
        heads[stream] = head;
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return heads;
  }

  /**
   * Reads every record and head pointer (full scans: an operations command, not a hot path) and
   * checks each stream's chain, then the records against every checkpoint given (SEC-5).
   * Reports the first problem of every broken stream.
   */
  async verify(options: { readonly checkpoints?: readonly StoredCheckpoint[] } = {}): Promise<AuditVerification> {
    const byStream = new Map<string, ChainedRecord[]>();
    /** Streams already known broken by an unreadable item: stream -> first problem. */
    const unreadable = new Map<string, { seq: number; problem: string }>();
    const noteUnreadable = (stream: string, seq: number, problem: string): void => {
      const known = unreadable.get(stream);
      if (!known || seq < known.seq) unreadable.set(stream, { seq, problem });
    };
    const collect = (item: Record<string, unknown>): void => {
      const stream = String(item['stream']);
      const parsed = parseRecord(item);
      if (typeof parsed === 'string') {
        noteUnreadable(stream, Number(item['seq']), `edited: ${parsed}`);
        return;
      }
      const list = byStream.get(stream) ?? [];
      list.push(parsed);
      byStream.set(stream, list);
    };
    // A running stack appends while verify reads. The heads are read before and after the
    // records; a stream whose head moved in between is read again on its own until its head is
    // the same before and after its records, so every stream is judged on a consistent snapshot
    // and an append is never taken for a deleted tail or a record outside the log.
    const heads = await this.#heads(noteUnreadable);
    const counts = new Map<string, number>();
    for await (const item of this.#scan(this.#auditTable)) {
      counts.set(String(item['stream']), (counts.get(String(item['stream'])) ?? 0) + 1);
      collect(item);
    }
    const headsAfter = await this.#heads(noteUnreadable);
    for (const stream of new Set([...heads.keys(), ...headsAfter.keys()])) {
      if (sameHead(heads.get(stream), headsAfter.get(stream))) continue;
      const stable = await this.#stableStream(stream);
      byStream.delete(stream);
      for (const item of stable.items) collect(item);
      counts.set(stream, stable.items.length);
      if (stable.head) heads.set(stream, stable.head);
      else heads.delete(stream);
    }
    // The records against every checkpoint: the earliest disagreement per stream.
    const checkpoints = options.checkpoints ?? [];
    for (const checkpoint of checkpoints) {
      for (const found of checkAgainstCheckpoint(byStream, checkpoint)) noteUnreadable(found.stream, found.seq, `checkpoint-mismatch: ${found.detail} (checkpoint ${found.checkpoint})`);
    }
    const problems: { stream: string; seq: number; problem: string }[] = [];
    const streams = [...new Set([...byStream.keys(), ...heads.keys(), ...unreadable.keys()])].sort();
    for (const stream of streams) {
      const known = unreadable.get(stream);
      const found = verifyChain(byStream.get(stream) ?? [], heads.get(stream) ?? null);
      // The first broken record of the stream, whichever check found it.
      if (known && (!found || known.seq <= found.seq)) problems.push({ stream, ...known });
      else if (found) problems.push({ stream, seq: found.seq, problem: `${found.kind}: ${found.detail}` });
    }
    const records = [...counts.values()].reduce((sum, n) => sum + n, 0);
    return { valid: problems.length === 0, streams: streams.length, records, checkpoints: checkpoints.length, problems };
  }

  /** Every stream's head pointer (consistent scan); a malformed one is noted as a problem of its stream. */
  async #heads(noteUnreadable: (stream: string, seq: number, problem: string) => void): Promise<Map<string, ChainHead>> {
    const heads = new Map<string, ChainHead>();
    for await (const item of this.#scan(this.#stateTable, AUDIT_HEAD_PREFIX)) {
      const stream = String(item['pk']).slice(AUDIT_HEAD_PREFIX.length);
      const head = toHead(item);
      if (head) heads.set(stream, head);
      else noteUnreadable(stream, 0, 'head-mismatch: head pointer is malformed');
    }
    return heads;
  }

  /**
   * One stream's records with a head that did not move while they were read (head, records,
   * head). A stream written without pause for all the attempts is a coded error, never a verdict.
   */
  async #stableStream(stream: string): Promise<{ items: Record<string, unknown>[]; head: ChainHead | null }> {
    for (let attempt = 1; attempt <= this.#maxAttempts; attempt += 1) {
      const before = await this.#readHeadItem(stream);
      const items: Record<string, unknown>[] = [];
      let startKey: Record<string, unknown> | undefined;
      do {
        const page = await this.#doc.send(
          new QueryCommand({
            TableName: this.#auditTable,
            KeyConditionExpression: '#stream = :stream',
            ExpressionAttributeNames: { '#stream': 'stream' },
            ExpressionAttributeValues: { ':stream': stream },
            ConsistentRead: true,
            ExclusiveStartKey: startKey,
          }),
        );
        items.push(...(page.Items ?? []));
        startKey = page.LastEvaluatedKey;
      } while (startKey);
      const after = await this.#readHeadItem(stream);
      if (sameHead(before ?? undefined, after ?? undefined)) return { items, head: before };
      await sleep(this.#jitter(attempt));
    }
    throw new StorageError(`audit stream ${stream} kept changing while verify read it: run verify again`, { details: { stream } });
  }

  /** The head pointer as stored, or null; a malformed one is returned as null only when absent. */
  async #readHeadItem(stream: string): Promise<ChainHead | null> {
    const { Item } = await this.#doc.send(new GetCommand({ TableName: this.#stateTable, Key: auditHeadKey(stream), ConsistentRead: true }));
    return Item ? toHead(Item) : null;
  }

  #remember(stream: string, tail: ChainHead, acknowledged: number): void {
    this.#knownTails.delete(stream);
    this.#knownTails.set(stream, { seq: tail.seq, hash: tail.hash, acknowledged });
    if (this.#knownTails.size > MAX_KNOWN_TAILS) {
      const oldest = this.#knownTails.keys().next().value;
      if (oldest !== undefined) this.#knownTails.delete(oldest);
    }
  }

  async #readHead(stream: string): Promise<ChainHead | null> {
    const { Item } = await this.#doc.send(new GetCommand({ TableName: this.#stateTable, Key: auditHeadKey(stream), ConsistentRead: true }));
    if (!Item) return null;
    const head = toHead(Item);
    if (!head) throw new StorageError(`audit stream ${stream}: head pointer is malformed`, { details: { stream } });
    return head;
  }

  /** Sequence and hash of a stored record: all that is needed to chain onto it. */
  async #readRecord(stream: string, seq: number): Promise<ChainHead | null> {
    const { Item } = await this.#doc.send(
      new GetCommand({ TableName: this.#auditTable, Key: auditRecordKey(stream, seq), ConsistentRead: true }),
    );
    if (!Item) return null;
    const link = toHead(Item);
    if (!link) throw new StorageError(`audit record ${stream}/${seq} has no hash`, { details: { stream, seq } });
    return link;
  }

  /** Moves the head pointer forward to `to`; a head already there or beyond is left alone. */
  async #advanceHead(stream: string, to: ChainHead): Promise<void> {
    try {
      await this.#doc.send(
        new UpdateCommand({
          TableName: this.#stateTable,
          Key: auditHeadKey(stream),
          // headpk/headsk: the keys of the sparse audit-heads index the checkpoint reads (SEC-5).
          UpdateExpression: 'SET #seq = :seq, #hash = :hash, #stream = :stream, #headpk = :headpk, #headsk = :stream',
          ConditionExpression: headIsBehind,
          ExpressionAttributeNames: { '#pk': 'pk', '#seq': 'seq', '#hash': 'hash', '#stream': 'stream', '#headpk': 'headpk', '#headsk': 'headsk' },
          ExpressionAttributeValues: { ':seq': to.seq, ':hash': to.hash, ':stream': stream, ':headpk': auditHeadIndexKeys(stream).headpk },
        }),
      );
    } catch (error) {
      // Expected: a later appender already moved the head past this record.
      if (!isConditionFailed(error)) throw error;
    }
  }

  async *#scan(table: string, pkPrefix?: string): AsyncGenerator<Record<string, unknown>> {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.#doc.send(
        new ScanCommand({
          TableName: table,
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
          ...(pkPrefix === undefined
            ? {}
            : {
                FilterExpression: 'begins_with(#pk, :prefix)',
                ExpressionAttributeNames: { '#pk': 'pk' },
                ExpressionAttributeValues: { ':prefix': pkPrefix },
              }),
        }),
      );
      yield* page.Items ?? [];
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }

  /** Full jitter: a random pause up to base * 2^(attempt-1), capped. */
  #jitter(attempt: number): number {
    return Math.random() * Math.min(this.#maxDelayMs, this.#baseDelayMs * 2 ** (attempt - 1));
  }
}

function toHead(item: Record<string, unknown>): ChainHead | null {
  const { seq, hash } = item;
  return typeof seq === 'number' && typeof hash === 'string' ? { seq, hash } : null;
}

const RECORD_ATTRIBUTES = new Set(['stream', 'seq', 'at', 'type', 'correlationId', 'data', 'prevHash', 'hash', 'batch']);

/** The stored item as a record, or why it is not one (a wrong type or an added attribute). */
function parseRecord(item: Record<string, unknown>): AuditRecord | string {
  const extra = Object.keys(item).filter((key) => !RECORD_ATTRIBUTES.has(key));
  if (extra.length > 0) return `unexpected attribute(s) ${extra.join(', ')}`;
  const { stream, seq, at, type, correlationId, data, prevHash, hash, batch } = item;
  if (
    typeof stream !== 'string' ||
    typeof seq !== 'number' ||
    typeof at !== 'string' ||
    typeof type !== 'string' ||
    (correlationId !== undefined && typeof correlationId !== 'string') ||
    data === null ||
    typeof data !== 'object' ||
    Array.isArray(data) ||
    typeof prevHash !== 'string' ||
    typeof hash !== 'string' ||
    (batch !== undefined && typeof batch !== 'number')
  ) {
    return 'an attribute is missing or has the wrong type';
  }
  return {
    stream,
    seq,
    at,
    type,
    ...(correlationId === undefined ? {} : { correlationId }),
    data: data as Record<string, unknown>,
    prevHash,
    hash,
    ...(batch === undefined ? {} : { batch }),
  };
}

function sameHead(a: ChainHead | undefined, b: ChainHead | undefined): boolean {
  return a?.seq === b?.seq && a?.hash === b?.hash;
}
