/**
 * Reads circuit breaker states (RISK-5) for the health check, from state-table items
 * `CIRCUIT#<exchange>` (any sort key): `state` ('open' | 'half-open' | 'closed') and, optionally,
 * when it last changed: `updatedAt` or `since` (ISO) or `openedAt` (epoch ms). No item means
 * the breaker never opened: nothing is reported.
 *
 * This is the reading side only, so that health shows circuits as soon as a breaker writes
 * them; it belongs next to the breaker's store in shared/adapters once that exists.
 */
import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CircuitState } from '../../shared/use-cases/health-rules.js';
import type { CircuitStateReader } from '../../shared/use-cases/check-health.js';

export const CIRCUIT_PREFIX = 'CIRCUIT#';

export interface DynamoDbCircuitStateReaderOptions {
  readonly doc: DynamoDBDocumentClient;
  /** The state table. */
  readonly table: string;
  /** The exchanges whose circuit is read (one breaker per exchange). */
  readonly names: readonly string[];
}

export class DynamoDbCircuitStateReader implements CircuitStateReader {
  constructor(private readonly options: DynamoDbCircuitStateReaderOptions) {}

  async list(): Promise<CircuitState[]> {
    const states: CircuitState[] = [];
    for (const name of this.options.names) {
      const out = await this.options.doc.send(
        new QueryCommand({
          TableName: this.options.table,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': 'pk' },
          ExpressionAttributeValues: { ':pk': `${CIRCUIT_PREFIX}${name}` },
          ConsistentRead: true,
          Limit: 1,
        }),
      );
      const item = out.Items?.[0];
      if (!item) continue;
      const { state, since, updatedAt, openedAt } = item;
      const changed = typeof updatedAt === 'string' ? updatedAt : typeof since === 'string' ? since : typeof openedAt === 'number' ? new Date(openedAt).toISOString() : undefined;
      states.push({ name, state: typeof state === 'string' ? state : JSON.stringify(state ?? null), ...(changed ? { since: changed } : {}) });
    }
    return states;
  }
}
