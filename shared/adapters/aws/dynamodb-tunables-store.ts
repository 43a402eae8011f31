/**
 * Tunables and the scanner's risk memory in the state table:
 * - `CONTROL#TUNABLES` / `TUNABLES`: `tunables` (map, TunablesSchema), `version`, `updatedAt`, `updatedBy`
 * - `CONTROL#RISK`     / `RISK`:     `risk` (map: peakEquity, day, dayStartEquity, cooldowns, lastSlot, unreached,
 *   pendingEntries), `version`, `updatedAt`
 *
 * Both are read strongly consistent and written whole, conditional on the version read. A record
 * that does not match its schema is a StorageError: the scan fails loudly instead of trading on
 * limits nobody set.
 */
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from '../../domain/zod-mini.js';
import { ConcurrentModificationError, StorageError, ValidationError } from '../../domain/errors.js';
import { UNSIGNED_DECIMAL_PATTERN } from '../../domain/money.js';
import type { RiskState } from '../../domain/protections.js';
import {
  TunablesSchema,
  type RiskStateStore,
  type Tunables,
  type TunablesStore,
  type VersionedRiskState,
  type VersionedTunables,
} from '../../ports/tunables-store.js';
import { isConditionFailed } from './dynamodb-errors.js';
import { keyDoesNotExist, versionIs, type StateKey } from './dynamodb-keys.js';

export const TUNABLES_KEY: StateKey = { pk: 'CONTROL#TUNABLES', sk: 'TUNABLES' };
export const RISK_KEY: StateKey = { pk: 'CONTROL#RISK', sk: 'RISK' };

const decimal = z.string().check(z.regex(UNSIGNED_DECIMAL_PATTERN));
const shortKey = z.string().check(z.minLength(1), z.maxLength(40));
const RiskStateSchema = z.strictObject({
  peakEquity: z.optional(decimal),
  day: z.optional(z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}$/))),
  dayStartEquity: z.optional(decimal),
  cooldowns: z.record(z.string(), z.iso.datetime()),
  lastSlot: z.optional(z.iso.datetime()),
  unreached: z.optional(z.array(shortKey).check(z.maxLength(5000))),
  pendingEntries: z.optional(
    z.record(shortKey, z.strictObject({ intentId: z.string().check(z.minLength(1), z.maxLength(200)), quote: decimal, expiresAt: z.iso.datetime(), slot: z.optional(z.iso.datetime()) })),
  ),
});

export interface DynamoDbTunablesStoreOptions {
  readonly doc: DynamoDBDocumentClient;
  /** The state table. */
  readonly table: string;
}

export class DynamoDbTunablesStore implements TunablesStore, RiskStateStore {
  readonly #doc: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(options: DynamoDbTunablesStoreOptions) {
    this.#doc = options.doc;
    this.#table = options.table;
  }

  async getTunables(): Promise<VersionedTunables> {
    const item = await this.read(TUNABLES_KEY);
    if (!item) return { tunables: {}, version: 0 };
    const parsed = TunablesSchema.safeParse(item.tunables);
    if (!parsed.success) throw new StorageError(`tunables record is malformed: ${issues(parsed.error)}`);
    return {
      tunables: parsed.data,
      version: item.version,
      ...(typeof item.updatedAt === 'string' ? { updatedAt: item.updatedAt } : {}),
      ...(typeof item.updatedBy === 'string' ? { updatedBy: item.updatedBy } : {}),
    };
  }

  async putTunables(tunables: Tunables, expectedVersion: number, author: string, at: Date): Promise<void> {
    const parsed = TunablesSchema.safeParse(tunables);
    if (!parsed.success) throw new ValidationError(`invalid tunables: ${issues(parsed.error)}`, parsed.error.issues.map((i) => i.message));
    await this.write(TUNABLES_KEY, { tunables: parsed.data, updatedBy: author }, expectedVersion, at, 'tunables');
  }

  async getRiskState(): Promise<VersionedRiskState> {
    const item = await this.read(RISK_KEY);
    if (!item) return { state: { cooldowns: {} }, version: 0 };
    const parsed = RiskStateSchema.safeParse(item.risk);
    if (!parsed.success) throw new StorageError(`risk record is malformed: ${issues(parsed.error)}`);
    return { state: parsed.data, version: item.version };
  }

  async putRiskState(state: RiskState, expectedVersion: number, at: Date): Promise<void> {
    await this.write(RISK_KEY, { risk: JSON.parse(JSON.stringify(state)) as unknown }, expectedVersion, at, 'risk');
  }

  private async read(key: StateKey): Promise<(Record<string, unknown> & { version: number }) | null> {
    const { Item } = await this.#doc.send(new GetCommand({ TableName: this.#table, Key: key, ConsistentRead: true }));
    if (!Item) return null;
    if (typeof Item.version !== 'number') throw new StorageError(`${key.pk} has no version`);
    return Item as Record<string, unknown> & { version: number };
  }

  private async write(key: StateKey, body: Record<string, unknown>, expectedVersion: number, at: Date, what: string): Promise<void> {
    if (!Number.isSafeInteger(expectedVersion) || expectedVersion < 0) throw new ValidationError(`expected ${what} version must be >= 0`);
    const first = expectedVersion === 0;
    try {
      await this.#doc.send(
        new PutCommand({
          TableName: this.#table,
          Item: { ...key, ...body, version: expectedVersion + 1, updatedAt: at.toISOString() },
          ConditionExpression: first ? keyDoesNotExist : versionIs,
          ExpressionAttributeNames: first ? { '#pk': 'pk' } : { '#version': 'version' },
          ...(first ? {} : { ExpressionAttributeValues: { ':expectedVersion': expectedVersion } }),
        }),
      );
    } catch (error) {
      if (isConditionFailed(error)) {
        throw new ConcurrentModificationError(`${what} record changed since version ${expectedVersion}`, { cause: error, details: { expectedVersion } });
      }
      throw error;
    }
  }
}

function issues(error: z.core.$ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'} ${i.message}`).join('; ');
}
