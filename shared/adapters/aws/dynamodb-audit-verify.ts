/**
 * Verifying the DynamoDB audit log (OPS-4, SEC-5): every record and head pointer is read (full
 * scans: an operations command, not a hot path) and each stream's chain checked
 * (domain/audit-chain.ts `verifyChain`), then the records against every checkpoint given.
 *
 * A running stack appends while verify reads. The heads are read before and after the records; a
 * stream whose head moved in between is read again on its own until its head is the same before
 * and after its records, so every stream is judged on a consistent snapshot and an append is
 * never taken for a deleted tail or a record outside the log.
 */
import { GetCommand, QueryCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { setTimeout as sleep } from 'node:timers/promises';
import { verifyChain, type ChainHead, type ChainedRecord } from '../../domain/audit-chain.js';
import { checkAgainstCheckpoint, type StoredCheckpoint } from '../../domain/audit-checkpoint.js';
import { AUDIT_HEADS_INDEX, AUDIT_HEADS_PARTITION } from '../../definitions/tables.js';
import { StorageError } from '../../domain/errors.js';
import type { AuditVerification } from '../../ports/audit-log.js';
import { recordsOfItem } from './dynamodb-audit-item.js';
import { AUDIT_HEAD_PREFIX, auditHeadKey } from './dynamodb-keys.js';

export interface DynamoDbAuditVerifierOptions {
  readonly doc: DynamoDBDocumentClient;
  readonly auditTable: string;
  readonly stateTable: string;
  /** Reads of a stream that keeps changing before verify gives up with a coded error. */
  readonly maxAttempts: number;
  /** The pause before the next attempt (ms). */
  readonly jitter: (attempt: number) => number;
}

export class DynamoDbAuditVerifier {
  readonly #doc: DynamoDBDocumentClient;
  readonly #auditTable: string;
  readonly #stateTable: string;
  readonly #maxAttempts: number;
  readonly #jitter: (attempt: number) => number;

  constructor(options: DynamoDbAuditVerifierOptions) {
    this.#doc = options.doc;
    this.#auditTable = options.auditTable;
    this.#stateTable = options.stateTable;
    this.#maxAttempts = options.maxAttempts;
    this.#jitter = options.jitter;
  }

  /** Reports the first problem of every broken stream. */
  async verify(options: { readonly checkpoints?: readonly StoredCheckpoint[] } = {}): Promise<AuditVerification> {
    const byStream = new Map<string, ChainedRecord[]>();
    /** Streams already known broken by an unreadable item: stream -> first problem. */
    const unreadable = new Map<string, { seq: number; problem: string }>();
    const noteUnreadable = (stream: string, seq: number, problem: string): void => {
      const known = unreadable.get(stream);
      if (!known || seq < known.seq) unreadable.set(stream, { seq, problem });
    };
    /** Takes in one item's records (a batch item holds several); returns how many. */
    const collect = (item: Record<string, unknown>): number => {
      const stream = String(item['stream']);
      const parsed = recordsOfItem(item);
      if (typeof parsed === 'string') {
        noteUnreadable(stream, Number(item['seq']), `edited: ${parsed}`);
        return 1;
      }
      const list = byStream.get(stream) ?? [];
      list.push(...parsed);
      byStream.set(stream, list);
      return parsed.length;
    };
    const heads = await this.#heads(noteUnreadable);
    const counts = new Map<string, number>();
    for await (const item of this.#scan(this.#auditTable)) {
      counts.set(String(item['stream']), (counts.get(String(item['stream'])) ?? 0) + collect(item));
    }
    const headsAfter = await this.#heads(noteUnreadable);
    for (const stream of new Set([...heads.keys(), ...headsAfter.keys()])) {
      if (sameHead(heads.get(stream), headsAfter.get(stream))) continue;
      const stable = await this.#stableStream(stream);
      byStream.delete(stream);
      counts.set(stream, stable.items.reduce((sum, item) => sum + collect(item), 0));
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
      // A symbol stream's head item that holds only its lease: no head, as if there were no item.
      if (holdsNoHead(item)) continue;
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
    return Item && !holdsNoHead(Item) ? toHead(Item) : null;
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
}

/**
 * A head item without a head: neither `seq` nor `hash` (a symbol's lease lives on its stream's
 * head item, dynamodb-lock-service.ts, and may be taken before the first head is written). Read
 * as no head at all, so deleting those attributes is judged as deleting the item (`head-missing`).
 */
export function holdsNoHead(item: Record<string, unknown>): boolean {
  return item['seq'] === undefined && item['hash'] === undefined;
}

export function toHead(item: Record<string, unknown>): ChainHead | null {
  const { seq, hash } = item;
  return typeof seq === 'number' && typeof hash === 'string' ? { seq, hash } : null;
}

function sameHead(a: ChainHead | undefined, b: ChainHead | undefined): boolean {
  return a?.seq === b?.seq && a?.hash === b?.hash;
}

/** Every stream's head pointer, from the sparse audit-heads index (SEC-5); see DynamoDbAuditLog.heads. */
export async function readAuditHeads(doc: DynamoDBDocumentClient, stateTable: string): Promise<Record<string, ChainHead>> {
  const heads: Record<string, ChainHead> = {};
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(
      new QueryCommand({
        TableName: stateTable,
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
