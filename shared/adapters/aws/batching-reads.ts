/**
 * Reads that do not depend on each other as one request (PERF-2): a document client whose
 * single-item reads (`GetCommand`) of the chosen tables, issued in the same turn of the event
 * loop, go out together as one BatchGetItem. The adapters above it are unchanged: each still
 * sends its own GetCommand and gets its own answer.
 *
 * Rules, so that a batched read answers exactly what the single read would have:
 * - only plain reads are batched (no projection, no attribute names, no abort signal); a read
 *   alone in its turn is sent as the GetItem it is;
 * - reads are grouped by table and consistency (BatchGetItem sets `ConsistentRead` per table):
 *   a strongly consistent read is never answered by an eventually consistent one;
 * - one key asked for twice is requested once (BatchGetItem refuses duplicates) and both callers
 *   get the item;
 * - keys DynamoDB leaves unprocessed (throttling inside the batch) are asked again with a
 *   jittered backoff; keys still unprocessed after `maxAttempts` fail their callers with a
 *   retryable StorageError;
 * - a failed request (throttled, network) fails every read it carried with the SDK's error, as
 *   each single read would have failed: nothing is swallowed.
 */
import { BatchGetCommand, GetCommand, type DynamoDBDocumentClient, type GetCommandOutput } from '@aws-sdk/lib-dynamodb';
import { setTimeout as sleep } from 'node:timers/promises';
import { StorageError } from '../../domain/errors.js';

/** DynamoDB's limit of keys per BatchGetItem. */
export const BATCH_GET_MAX_KEYS = 100;

export interface BatchingReadsOptions {
  /** Tables whose reads may be batched (the role must allow BatchGetItem on them). */
  readonly tables: readonly string[];
  /** Requests for keys DynamoDB leaves unprocessed, the first included. @default 5 */
  readonly maxAttempts?: number;
  /** Upper bound of the first jittered pause before unprocessed keys are asked again; doubles per attempt. @default 10 */
  readonly baseDelayMs?: number;
}

type Key = Record<string, unknown>;

interface PendingRead {
  readonly table: string;
  readonly key: Key;
  readonly consistent: boolean;
  readonly input: GetCommand['input'];
  readonly resolve: (out: GetCommandOutput) => void;
  readonly reject: (error: unknown) => void;
}

/** The identity of a key: its attributes sorted by name (string and number values). */
function keyId(key: Key): string {
  return JSON.stringify(Object.keys(key).sort().map((name) => [name, key[name]]));
}

/** The item's key, by the attribute names of a key of its table. */
function itemKeyId(item: Key, keyNames: readonly string[]): string {
  return keyId(Object.fromEntries(keyNames.map((name) => [name, item[name]])));
}

/**
 * Wraps `doc` so that reads of `options.tables` issued in one turn share one BatchGetItem.
 * Every other command goes to `doc` unchanged.
 */
export function batchingReads(doc: DynamoDBDocumentClient, options: BatchingReadsOptions): DynamoDBDocumentClient {
  const tables = new Set(options.tables);
  const maxAttempts = options.maxAttempts ?? 5;
  const baseDelayMs = options.baseDelayMs ?? 10;
  let pending: PendingRead[] = [];

  const flush = (): void => {
    const reads = pending;
    pending = [];
    if (reads.length === 1) {
      const [only] = reads as [PendingRead];
      doc.send(new GetCommand(only.input)).then(only.resolve, only.reject);
      return;
    }
    const groups = new Map<string, PendingRead[]>();
    for (const read of reads) {
      const group = `${read.table}\u0000${String(read.consistent)}`;
      groups.set(group, [...(groups.get(group) ?? []), read]);
    }
    // Groups of different tables could share a request; one group per request keeps the
    // matching simple, and a turn of the executor reads one table.
    for (const group of groups.values()) void readGroup(group);
  };

  const readGroup = async (reads: readonly PendingRead[]): Promise<void> => {
    const byKey = new Map<string, PendingRead[]>();
    for (const read of reads) {
      const id = keyId(read.key);
      byKey.set(id, [...(byKey.get(id) ?? []), read]);
    }
    const ids = [...byKey.keys()];
    for (let i = 0; i < ids.length; i += BATCH_GET_MAX_KEYS) {
      const chunk = ids.slice(i, i + BATCH_GET_MAX_KEYS);
      const chunkReads = chunk.flatMap((id) => byKey.get(id) ?? []);
      try {
        const { found, metadata } = await batchGet(chunk.map((id) => (byKey.get(id)?.[0] as PendingRead).key), reads[0] as PendingRead);
        for (const id of chunk) for (const read of byKey.get(id) ?? []) read.resolve({ $metadata: metadata, ...(found.has(id) ? { Item: found.get(id) } : {}) });
      } catch (error) {
        for (const read of chunkReads) read.reject(error);
      }
    }
  };

  /** One BatchGetItem, then the unprocessed keys again until none are left; items by key id. */
  const batchGet = async (keys: readonly Key[], like: PendingRead): Promise<{ found: Map<string, Key>; metadata: GetCommandOutput['$metadata'] }> => {
    const keyNames = Object.keys(keys[0] ?? {});
    const found = new Map<string, Key>();
    let left: Key[] = [...keys];
    let metadata: GetCommandOutput['$metadata'] = {};
    for (let attempt = 1; attempt <= maxAttempts && left.length > 0; attempt += 1) {
      if (attempt > 1) await sleep(Math.random() * baseDelayMs * 2 ** (attempt - 2));
      const out = await doc.send(new BatchGetCommand({ RequestItems: { [like.table]: { Keys: left, ConsistentRead: like.consistent } } }));
      metadata = out.$metadata;
      for (const item of out.Responses?.[like.table] ?? []) found.set(itemKeyId(item, keyNames), item);
      left = [...(out.UnprocessedKeys?.[like.table]?.Keys ?? [])];
    }
    if (left.length > 0) {
      throw new StorageError(`${left.length} read(s) of ${like.table} left unprocessed after ${maxAttempts} attempts`, { details: { table: like.table, unprocessed: left.length } });
    }
    return { found, metadata };
  };

  const batchable = (command: unknown, rest: readonly unknown[]): command is GetCommand => {
    if (!(command instanceof GetCommand) || rest.length > 0) return false;
    const input = command.input;
    return tables.has(input.TableName ?? '') && input.Key !== undefined && input.ProjectionExpression === undefined && input.ExpressionAttributeNames === undefined && input.AttributesToGet === undefined;
  };

  const send = (command: unknown, ...rest: unknown[]): Promise<unknown> => {
    if (!batchable(command, rest)) return (doc.send as (...args: unknown[]) => Promise<unknown>)(command, ...rest);
    const input = command.input;
    return new Promise<GetCommandOutput>((resolve, reject) => {
      // Reads started in this turn (after every promise job of it) go out together.
      if (pending.length === 0) setImmediate(flush);
      pending.push({ table: input.TableName as string, key: input.Key as Key, consistent: input.ConsistentRead === true, input, resolve, reject });
    });
  };

  return new Proxy(doc, {
    get(target, property, receiver) {
      if (property === 'send') return send;
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
