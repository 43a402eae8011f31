/**
 * Control records on DynamoDB: the kill switch (RISK-1) at `CONTROL#PAUSE` / `PAUSE`, and the
 * latest report of each kind at `REPORT#<kind>` / `LATEST`.
 *
 * Fail closed: every read is strongly consistent and every read error propagates; a pause item
 * that cannot be understood is a StorageError, never "not paused". Only a missing item means
 * "not paused" (nobody ever paused).
 *
 * Expiry: the stored state is returned as written, `until` included. Whether a pause whose
 * `until` has passed still holds is the caller's decision (compare `until` with the clock);
 * this store never resumes trading on its own.
 */
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConcurrentModificationError, StorageError, ValidationError } from '../../domain/errors.js';
import { PAUSE_SCOPES, type ControlStore, type PauseScope, type PauseState, type ReportKind } from '../../ports/control-store.js';
import { systemClock, type Clock } from '../../ports/clock.js';
import { isConditionFailed } from './dynamodb-errors.js';
import { PAUSE_KEY, keyDoesNotExist, notNewerThan, reportKey, versionIs } from './dynamodb-keys.js';

export interface DynamoDbControlStoreOptions {
  readonly doc: DynamoDBDocumentClient;
  /** The state table. */
  readonly table: string;
  /**
   * Stamps `at` on stored reports.
   * @default systemClock
   */
  readonly clock?: Clock;
}

/** The pause state with the version it was read at (0: no record yet). */
export interface VersionedPause {
  readonly state: PauseState;
  readonly version: number;
}

export class DynamoDbControlStore implements ControlStore {
  readonly #doc: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #clock: Clock;

  constructor(options: DynamoDbControlStoreOptions) {
    this.#doc = options.doc;
    this.#table = options.table;
    this.#clock = options.clock ?? systemClock;
  }

  /**
   * The pause state; `{ paused: false }` only when no pause was ever written.
   * @throws whatever the read throws, and StorageError for an unreadable record: callers treat
   * both as paused.
   */
  async getPause(): Promise<PauseState> {
    return (await this.readPause()).state;
  }

  /** The pause state and its version, for a caller that wants to write conditionally on it. */
  async readPause(): Promise<VersionedPause> {
    const { Item } = await this.#doc.send(new GetCommand({ TableName: this.#table, Key: PAUSE_KEY, ConsistentRead: true }));
    if (!Item) return { state: { paused: false }, version: 0 };
    const { paused, version } = Item;
    if (typeof paused !== 'boolean' || typeof version !== 'number') throw new StorageError('pause record is malformed');
    const text = (key: 'reason' | 'author' | 'since' | 'until'): { [k: string]: string } =>
      typeof Item[key] === 'string' ? { [key]: Item[key] } : {};
    const { scope } = Item;
    if (scope !== undefined && !PAUSE_SCOPES.includes(scope as PauseScope)) throw new StorageError('pause record has an unknown scope');
    return { state: { paused, ...(scope === undefined ? {} : { scope: scope as PauseScope }), ...text('reason'), ...text('author'), ...text('since'), ...text('until') }, version };
  }

  /**
   * Replaces the pause record with `state` as a whole (fields it leaves out are removed), at the
   * next version. The write is conditional on the version: `expectedVersion` when given (0 for
   * "no record yet"), otherwise the version read just before, so two concurrent writers cannot
   * both succeed.
   * @throws ConcurrentModificationError when the record changed in between (retryable).
   */
  async setPause(state: PauseState, expectedVersion?: number): Promise<void> {
    const current = expectedVersion ?? (await this.readPause()).version;
    if (!Number.isSafeInteger(current) || current < 0) throw new ValidationError(`expected pause version must be >= 0, got ${current}`);
    const { paused, scope, reason, author, since, until } = state;
    try {
      await this.#doc.send(
        new PutCommand({
          TableName: this.#table,
          Item: {
            ...PAUSE_KEY,
            paused,
            ...(scope === undefined ? {} : { scope }),
            ...(reason === undefined ? {} : { reason }),
            ...(author === undefined ? {} : { author }),
            ...(since === undefined ? {} : { since }),
            ...(until === undefined ? {} : { until }),
            version: current + 1,
          },
          ConditionExpression: current === 0 ? keyDoesNotExist : versionIs,
          ExpressionAttributeNames: current === 0 ? { '#pk': 'pk' } : { '#version': 'version' },
          ...(current === 0 ? {} : { ExpressionAttributeValues: { ':expectedVersion': current } }),
        }),
      );
    } catch (error) {
      if (isConditionFailed(error)) {
        throw new ConcurrentModificationError(`pause record changed since version ${current}`, { cause: error, details: { expectedVersion: current } });
      }
      throw error;
    }
  }

  /**
   * Stores `report` (plain JSON: `undefined` members dropped, Dates as strings) as the latest of
   * its kind, stamped with the clock. An older report never replaces a newer one.
   */
  async putReport(kind: ReportKind, report: Record<string, unknown>): Promise<void> {
    const body = JSON.parse(JSON.stringify(report)) as Record<string, unknown>;
    try {
      await this.#doc.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: reportKey(kind),
          UpdateExpression: 'SET #kind = :kind, #report = :report, #at = :at, #version = if_not_exists(#version, :zero) + :one',
          ConditionExpression: notNewerThan('#at', ':at'),
          ExpressionAttributeNames: { '#kind': 'kind', '#report': 'report', '#at': 'at', '#version': 'version' },
          ExpressionAttributeValues: { ':kind': kind, ':report': body, ':at': this.#clock.now().toISOString(), ':zero': 0, ':one': 1 },
        }),
      );
    } catch (error) {
      // Expected: a newer report of this kind is already stored.
      if (!isConditionFailed(error)) throw error;
    }
  }

  /** The latest report of `kind`, or null when none was stored. */
  async getReport(kind: ReportKind): Promise<Record<string, unknown> | null> {
    const { Item } = await this.#doc.send(new GetCommand({ TableName: this.#table, Key: reportKey(kind), ConsistentRead: true }));
    if (!Item) return null;
    const { report } = Item;
    if (report === null || typeof report !== 'object' || Array.isArray(report)) throw new StorageError(`report ${kind} is malformed`);
    return report as Record<string, unknown>;
  }
}
