/**
 * The audit log on DynamoDB (OPS-4): immutable items in the audit table (`stream`, `seq`), one
 * per append: a single record, or the records of a batch decided at the same moment in one item
 * (PERF-2, dynamodb-audit-item.ts), hash-chained per stream, plus a head pointer per stream in the state table
 * (`AUDITHEAD#<stream>` / `HEAD`: `seq`, `hash`) so that a deleted tail is detected.
 *
 * Writes: the audit table only ever receives conditional puts of new items (never an update or
 * a delete); the head pointer only moves forward.
 *
 * Each instance remembers the last record it appended per stream (the tail it knows). The next
 * append chains onto it without reading the head pointer: one put and one head update per
 * record. If another writer appended meanwhile, the put finds its sequence number taken (the
 * condition), and the append reads the head pointer as before; the chain and the head are
 * exactly what they would be without the memory. Whoever looks for where a stream ends takes the
 * LAST record of the item it finds (domain/audit-chain.ts, "Batch items"). There is no transaction between the two: a
 * crash after the put leaves one record past the head, which the next append heals and which
 * `verify` accepts.
 *
 * Batches (`batchHeadUpdates`, the executor's log; PERF-2): the head pointer moves once per batch,
 * not once per record. Each record names the head position this instance knew durable when it
 * wrote it (`batch`, hashed), the head moves to the last record when the owner calls `settle()`
 * (the executor: at the end of each intent), and before a stream would hold more than
 * `MAX_UNACKNOWLEDGED` records past the head they name. domain/audit-chain.ts says what `verify`
 * then detects; the reading side is dynamodb-audit-verify.ts. A stream's pending head move can be
 * handed over (`pendingHead`): the executor makes it in the write that releases the symbol lease,
 * which lives on the symbol stream's head item (dynamodb-lock-service.ts); an item that holds only
 * that lease is no head.
 */
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { setTimeout as sleep } from 'node:timers/promises';
import { MAX_UNACKNOWLEDGED, sealRecords, type ChainHead } from '../../domain/audit-chain.js';
import type { StoredCheckpoint } from '../../domain/audit-checkpoint.js';
import type { AuditHeadReader } from '../../ports/audit-checkpoints.js';
import { ConcurrentModificationError, StorageError, ValidationError } from '../../domain/errors.js';
import type { AuditEntry, AuditLog, AuditRecord, AuditVerification, PendingHead } from '../../ports/audit-log.js';
import { auditItemOf, lastLinkOfItem } from './dynamodb-audit-item.js';
import { DynamoDbAuditVerifier, holdsNoHead, readAuditHeads, toHead } from './dynamodb-audit-verify.js';
import { isConditionFailed } from './dynamodb-errors.js';
import {
  auditHeadKey,
  auditRecordDoesNotExist,
  auditRecordKey,
  headIsBehind,
  headMove,
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
   * the log calls it before its invocation ends. (The executor uses `batchHeadUpdates`.)
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

function isEntryList(entry: AuditEntry | readonly AuditEntry[]): entry is readonly AuditEntry[] {
  return Array.isArray(entry);
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
  readonly #verifier: DynamoDbAuditVerifier;

  constructor(options: DynamoDbAuditLogOptions) {
    this.#doc = options.doc;
    this.#auditTable = options.auditTable;
    this.#stateTable = options.stateTable;
    this.#maxAttempts = options.maxAttempts ?? 20 + MAX_UNACKNOWLEDGED;
    this.#baseDelayMs = options.baseDelayMs ?? 5;
    this.#maxDelayMs = options.maxDelayMs ?? 100;
    this.#batchHeadUpdates = options.batchHeadUpdates ?? false;
    this.#overlapHeadUpdates = !this.#batchHeadUpdates && (options.overlapHeadUpdates ?? false);
    this.#verifier = new DynamoDbAuditVerifier({ doc: this.#doc, auditTable: this.#auditTable, stateTable: this.#stateTable, maxAttempts: this.#maxAttempts, jitter: (attempt) => this.#jitter(attempt) });
  }

  /**
   * Appends `entry` as the next record of `stream`, or `entries` as one batch item (see
   * `appendBatch`). Resolves to the last record appended.
   */
  async append(stream: string, entry: AuditEntry | readonly AuditEntry[], at: Date): Promise<AuditRecord> {
    const records = await this.appendBatch(stream, isEntryList(entry) ? entry : [entry], at);
    return records[records.length - 1] as AuditRecord;
  }

  /**
   * Appends `entries` as the next records of `stream`, in order, with ONE conditional put: one
   * entry as a single-record item, several as a batch item keyed by its first record's sequence
   * number (dynamodb-audit-item.ts; domain/audit-chain.ts says why racing writers cannot fork
   * the chain). Credential-named keys of each entry's data are dropped before hashing and storing
   * (SEC-1).
   *
   * 1. Chain onto the tail this instance appended last, if it knows one; otherwise read the
   *    stream's head pointer (strongly consistent).
   * 2. Put the item at the next sequence number, conditional on that key being free.
   * 3. Lost the race: read the item that won, move the head up to its last record, wait a
   *    jittered moment and try the number after it. Moving the head first heals an append that
   *    crashed after its put, and keeps the head at most one append behind the last item even
   *    if this append crashes too (which is what lets `verify` tell an unacknowledged append
   *    from records written outside the log).
   * 4. Won: advance the head to the last new record.
   * The records of a batch item name the head position known when they were written (`batch`,
   * hashed), in every mode: a batch whose head update never landed leaves several records past
   * the head, which `verify` accepts only from a batch (domain/audit-chain.ts).
   *
   * @throws ValidationError for an empty stream, list or type, an invalid date, or more entries than a batch may hold.
   * @throws ConcurrentModificationError when every attempt lost the race (retryable).
   */
  async appendBatch(stream: string, entries: readonly AuditEntry[], at: Date): Promise<AuditRecord[]> {
    if (stream.length === 0) throw new ValidationError('audit stream must not be empty');
    if (entries.length === 0) throw new ValidationError('an audit append needs at least one entry');
    if (entries.length > MAX_UNACKNOWLEDGED) throw new ValidationError(`an audit batch holds at most ${MAX_UNACKNOWLEDGED} records, not ${entries.length}`);
    if (entries.some((entry) => entry.type.length === 0)) throw new ValidationError('audit entry type must not be empty');
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
    const named = this.#batchHeadUpdates || entries.length > 1;
    let fromMemory = prev !== undefined;
    for (let attempt = 1; attempt <= this.#maxAttempts; attempt += 1) {
      if (prev === undefined) {
        prev = await this.#readHead(stream);
        acknowledged = prev?.seq ?? 0;
      }
      // Every record of the item must lie within a batch of the head it names: move the head first.
      if (named && prev && prev.seq + entries.length - acknowledged > MAX_UNACKNOWLEDGED) {
        await this.#advanceHead(stream, prev);
        acknowledged = prev.seq;
      }
      const records = sealRecords(stream, prev, entries, atIso, named ? acknowledged : undefined);
      const last = records[records.length - 1] as AuditRecord;
      try {
        await this.#doc.send(
          new PutCommand({
            TableName: this.#auditTable,
            Item: auditItemOf(records),
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
        // Somebody holds this number: chain onto the last record of their item. It exists for
        // good (the table accepts no deletes); if it cannot be read, start again from the head.
        const taken = await this.#readItemTail(stream, records[0]?.seq ?? 0);
        if (taken) {
          await this.#advanceHead(stream, taken);
          acknowledged = taken.seq;
        }
        prev = taken ?? undefined;
        await sleep(this.#jitter(attempt));
        continue;
      }
      if (this.#batchHeadUpdates) {
        this.#remember(stream, last, acknowledged);
        this.#unacknowledged.set(stream, last);
        // The next record must lie within a batch of the head it names: move the head first.
        if (last.seq + 1 - acknowledged > MAX_UNACKNOWLEDGED) await this.#acknowledge(stream);
        return records;
      }
      if (!this.#overlapHeadUpdates) {
        await this.#advanceHead(stream, last);
        this.#remember(stream, last, last.seq);
        return records;
      }
      this.#remember(stream, last, last.seq);
      // Observed by the next append to the stream or by settle(); never left unhandled. A failed
      // update leaves the head behind what this instance would name: it reads the head again.
      const update = this.#advanceHead(stream, last);
      update.catch(() => this.#knownTails.delete(stream));
      this.#pendingHeads.set(stream, update);
      return records;
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
   * The head move `settle()` would make for `stream` (batch mode), for the executor's release of
   * the symbol lease, which makes it in the same write (PERF-2, dynamodb-lock-service.ts).
   */
  pendingHead(stream: string): PendingHead | undefined {
    const tail = this.#unacknowledged.get(stream);
    if (!tail) return undefined;
    return { head: { seq: tail.seq, hash: tail.hash }, written: () => this.#acknowledged(stream, tail) };
  }

  /**
   * Moves the head to the last record this instance appended to `stream` past it (batch mode).
   * A failed update leaves the record unacknowledged: the next settle tries again.
   */
  async #acknowledge(stream: string): Promise<void> {
    const tail = this.#unacknowledged.get(stream);
    if (!tail) return;
    await this.#advanceHead(stream, tail);
    this.#acknowledged(stream, tail);
  }

  /** The head reached `tail`: records after it (appended meanwhile) stay to be acknowledged. */
  #acknowledged(stream: string, tail: ChainHead): void {
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
  heads(): Promise<Record<string, ChainHead>> {
    return readAuditHeads(this.#doc, this.#stateTable);
  }

  /**
   * Reads every record and head pointer (full scans: an operations command, not a hot path) and
   * checks each stream's chain, then the records against every checkpoint given (SEC-5); see
   * dynamodb-audit-verify.ts.
   */
  verify(options: { readonly checkpoints?: readonly StoredCheckpoint[] } = {}): Promise<AuditVerification> {
    return this.#verifier.verify(options);
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
    // An item that holds only the symbol's lease (dynamodb-lock-service.ts) is no head yet.
    if (!Item || holdsNoHead(Item)) return null;
    const head = toHead(Item);
    if (!head) throw new StorageError(`audit stream ${stream}: head pointer is malformed`, { details: { stream } });
    return head;
  }

  /** Sequence and hash of the LAST record of the item stored at `seq`: all that is needed to chain onto it. */
  async #readItemTail(stream: string, seq: number): Promise<ChainHead | null> {
    const { Item } = await this.#doc.send(
      new GetCommand({ TableName: this.#auditTable, Key: auditRecordKey(stream, seq), ConsistentRead: true }),
    );
    if (!Item) return null;
    const link = lastLinkOfItem(Item);
    if (!link) throw new StorageError(`audit item ${stream}/${seq} is not a well-formed audit item`, { details: { stream, seq } });
    return link;
  }

  /** Moves the head pointer forward to `to`; a head already there or beyond is left alone. */
  async #advanceHead(stream: string, to: ChainHead): Promise<void> {
    try {
      const move = headMove(stream, to);
      await this.#doc.send(
        new UpdateCommand({
          TableName: this.#stateTable,
          Key: auditHeadKey(stream),
          UpdateExpression: `SET ${move.set}`,
          ConditionExpression: headIsBehind,
          ExpressionAttributeNames: move.names,
          ExpressionAttributeValues: move.values,
        }),
      );
    } catch (error) {
      // Expected: a later appender already moved the head past this record.
      if (!isConditionFailed(error)) throw error;
    }
  }

  /** Full jitter: a random pause up to base * 2^(attempt-1), capped. */
  #jitter(attempt: number): number {
    return Math.random() * Math.min(this.#maxDelayMs, this.#baseDelayMs * 2 ** (attempt - 1));
  }
}
