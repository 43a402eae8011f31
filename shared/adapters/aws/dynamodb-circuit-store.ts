/**
 * Circuit breaker state per exchange in the state table (RISK-5), shared by every instance:
 * `CIRCUIT#<exchangeId>` / `CIRCUIT` with `state` ('closed' | 'open' | 'half-open'),
 * `consecutiveFailures`, `openedAt`, `retryAt`, `probeUntil` (epoch ms), `lastFailure`,
 * `updatedAt` (ISO) and `version`. Health reads `state` (and `retryAt`) to show it.
 *
 * Reads are strongly consistent; writes are conditional on the version read, so two instances
 * cannot both claim the half-open probe or lose each other's transitions.
 */
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { CLOSED_CIRCUIT, type CircuitState, type CircuitStatus } from '../../domain/circuit.js';
import { StorageError } from '../../domain/errors.js';
import type { CircuitStore, VersionedCircuit } from '../../ports/circuit-store.js';
import { systemClock, type Clock } from '../../ports/clock.js';
import { isConditionFailed } from './dynamodb-errors.js';
import { keyDoesNotExist, versionIs, type StateKey } from './dynamodb-keys.js';

export const CIRCUIT_PREFIX = 'CIRCUIT#';

export function circuitKey(exchangeId: string): StateKey {
  return { pk: `${CIRCUIT_PREFIX}${exchangeId}`, sk: 'CIRCUIT' };
}

const STATUSES: readonly CircuitStatus[] = ['closed', 'open', 'half-open'];

export interface DynamoDbCircuitStoreOptions {
  readonly doc: DynamoDBDocumentClient;
  /** The state table. */
  readonly table: string;
  /** Stamps `updatedAt`. @default systemClock */
  readonly clock?: Clock;
}

export class DynamoDbCircuitStore implements CircuitStore {
  readonly #doc: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #clock: Clock;

  constructor(options: DynamoDbCircuitStoreOptions) {
    this.#doc = options.doc;
    this.#table = options.table;
    this.#clock = options.clock ?? systemClock;
  }

  async read(exchangeId: string): Promise<VersionedCircuit> {
    const { Item } = await this.#doc.send(new GetCommand({ TableName: this.#table, Key: circuitKey(exchangeId), ConsistentRead: true }));
    if (!Item) return { state: CLOSED_CIRCUIT, version: 0 };
    const { state, version, consecutiveFailures } = Item;
    if (!STATUSES.includes(state as CircuitStatus) || typeof version !== 'number' || typeof consecutiveFailures !== 'number') {
      throw new StorageError(`circuit record of ${exchangeId} is malformed`);
    }
    const num = (k: 'openedAt' | 'retryAt' | 'probeUntil') => (typeof Item[k] === 'number' ? { [k]: Item[k] as number } : {});
    return {
      state: {
        status: state as CircuitStatus,
        consecutiveFailures,
        ...num('openedAt'),
        ...num('retryAt'),
        ...num('probeUntil'),
        ...(typeof Item.lastFailure === 'string' ? { lastFailure: Item.lastFailure } : {}),
      },
      version,
    };
  }

  async write(exchangeId: string, state: CircuitState, expectedVersion: number): Promise<boolean> {
    const first = expectedVersion === 0;
    try {
      await this.#doc.send(
        new PutCommand({
          TableName: this.#table,
          Item: {
            ...circuitKey(exchangeId),
            exchange: exchangeId,
            state: state.status,
            consecutiveFailures: state.consecutiveFailures,
            ...(state.openedAt === undefined ? {} : { openedAt: state.openedAt }),
            ...(state.retryAt === undefined ? {} : { retryAt: state.retryAt }),
            ...(state.probeUntil === undefined ? {} : { probeUntil: state.probeUntil }),
            ...(state.lastFailure === undefined ? {} : { lastFailure: state.lastFailure.slice(0, 300) }),
            updatedAt: this.#clock.now().toISOString(),
            version: expectedVersion + 1,
          },
          ConditionExpression: first ? keyDoesNotExist : versionIs,
          ExpressionAttributeNames: first ? { '#pk': 'pk' } : { '#version': 'version' },
          ...(first ? {} : { ExpressionAttributeValues: { ':expectedVersion': expectedVersion } }),
        }),
      );
      return true;
    } catch (error) {
      // Expected: another instance wrote a transition first.
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }
}
