/**
 * Job heartbeats on DynamoDB (HLT-1): one state-table item per job (`HEARTBEAT#<job>` /
 * `HEARTBEAT`). Concurrent invocations of one job (the executor) finish in any order, so each
 * kind of write only moves forward in time: a start older than the recorded one, or an end
 * older than the recorded end (`lastEnd`), is dropped instead of overwriting newer news.
 */
import { BatchGetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { setTimeout as sleep } from 'node:timers/promises';
import { JOBS, type JobName } from '../../definitions/schedules.js';
import { StorageError, ValidationError } from '../../domain/errors.js';
import type { Heartbeat, HeartbeatStore, Outcome } from '../../ports/heartbeat-store.js';
import { isConditionFailed } from './dynamodb-errors.js';
import { HEARTBEAT_PREFIX, heartbeatKey, notNewerThan } from './dynamodb-keys.js';

export interface DynamoDbHeartbeatStoreOptions {
  readonly doc: DynamoDBDocumentClient;
  /** The state table. */
  readonly table: string;
  /**
   * Rounds of BatchGet for keys DynamoDB returned unprocessed before `list` fails.
   * @default 5
   */
  readonly maxBatchRounds?: number;
}

export class DynamoDbHeartbeatStore implements HeartbeatStore {
  readonly #doc: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #maxBatchRounds: number;

  constructor(options: DynamoDbHeartbeatStoreOptions) {
    this.#doc = options.doc;
    this.#table = options.table;
    this.#maxBatchRounds = options.maxBatchRounds ?? 5;
  }

  async recordStart(job: JobName, at: Date): Promise<void> {
    await this.#update(job, 'SET #job = :job, #lastStart = :at', notNewerThan('#lastStart', ':at'), {
      names: { '#job': 'job', '#lastStart': 'lastStart' },
      values: { ':job': job, ':at': isoOf(at) },
    });
  }

  /** Records the end of a run. `errorCode` is kept only on failure; a success removes it. */
  async recordEnd(job: JobName, at: Date, durationMs: number, outcome: Outcome, errorCode?: string): Promise<void> {
    if (!Number.isFinite(durationMs) || durationMs < 0) throw new ValidationError(`heartbeat duration must be >= 0 ms, got ${durationMs}`);
    const success = outcome === 'success';
    const lastOf = success ? 'lastSuccess' : 'lastFailure';
    const keepCode = !success && errorCode !== undefined;
    const set = 'SET #job = :job, #lastOf = :at, #lastEnd = :at, #lastDurationMs = :duration, #lastOutcome = :outcome';
    await this.#update(job, keepCode ? `${set}, #lastErrorCode = :code` : `${set} REMOVE #lastErrorCode`, notNewerThan('#lastEnd', ':at'), {
      names: {
        '#job': 'job',
        '#lastOf': lastOf,
        '#lastEnd': 'lastEnd',
        '#lastDurationMs': 'lastDurationMs',
        '#lastOutcome': 'lastOutcome',
        '#lastErrorCode': 'lastErrorCode',
      },
      values: { ':job': job, ':at': isoOf(at), ':duration': durationMs, ':outcome': outcome, ...(keepCode ? { ':code': errorCode } : {}) },
    });
  }

  /** Every job of `JOBS`, in that order; a job that never ran is `{ job }` alone. */
  async list(): Promise<Heartbeat[]> {
    const found = new Map<string, Record<string, unknown>>();
    let keys: Record<string, unknown>[] = JOBS.map((job) => ({ ...heartbeatKey(job) }));
    for (let round = 1; keys.length > 0; round += 1) {
      if (round > this.#maxBatchRounds) throw new StorageError(`heartbeats: ${keys.length} key(s) still unprocessed after ${this.#maxBatchRounds} rounds`);
      if (round > 1) await sleep(10 * 2 ** round);
      const { Responses, UnprocessedKeys } = await this.#doc.send(
        new BatchGetCommand({ RequestItems: { [this.#table]: { Keys: keys, ConsistentRead: true } } }),
      );
      for (const item of Responses?.[this.#table] ?? []) found.set(String(item['pk']), item);
      keys = UnprocessedKeys?.[this.#table]?.Keys ?? [];
    }
    return JOBS.map((job) => toHeartbeat(job, found.get(`${HEARTBEAT_PREFIX}${job}`)));
  }

  async #update(job: JobName, updateExpression: string, condition: string, attrs: { names: Record<string, string>; values: Record<string, unknown> }): Promise<void> {
    try {
      await this.#doc.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: heartbeatKey(job),
          UpdateExpression: updateExpression,
          ConditionExpression: condition,
          ExpressionAttributeNames: attrs.names,
          ExpressionAttributeValues: attrs.values,
        }),
      );
    } catch (error) {
      // Expected: a newer heartbeat of the same kind is already recorded.
      if (!isConditionFailed(error)) throw error;
    }
  }
}

function isoOf(at: Date): string {
  if (Number.isNaN(at.getTime())) throw new ValidationError('heartbeat date is invalid');
  return at.toISOString();
}

function toHeartbeat(job: JobName, item: Record<string, unknown> | undefined): Heartbeat {
  if (!item) return { job };
  const text = (key: string): string | undefined => (typeof item[key] === 'string' ? item[key] : undefined);
  const { lastDurationMs, lastOutcome } = item;
  return {
    job,
    ...optional('lastStart', text('lastStart')),
    ...optional('lastSuccess', text('lastSuccess')),
    ...optional('lastFailure', text('lastFailure')),
    ...optional('lastDurationMs', typeof lastDurationMs === 'number' ? lastDurationMs : undefined),
    ...optional('lastOutcome', lastOutcome === 'success' || lastOutcome === 'failure' ? (lastOutcome as Outcome) : undefined),
    ...optional('lastErrorCode', text('lastErrorCode')),
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
