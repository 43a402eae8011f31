/** Shared pieces of the store-fault suites (every state write failed in turn, TST-2). */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { keyAttribute, type StoreCall } from '../../testkit/fault-injecting-store.js';

/** A write as the suites name it: command and the kind of item (`PutItem ORDER#`). */
export const describeCall = (c: StoreCall) => `${c.command} ${keyAttribute(c, 'pk')?.replace(/#.*/, '#') ?? c.table ?? ''}`;

/**
 * The emulator dates its answers with the real clock while Date.now runs ahead with the test
 * clock; the SDK would take that for clock skew and retry every error answer (conditional
 * failures included) after "correcting" it. The answers' Date header is dropped before the SDK
 * sees it.
 */
export function ignoreServerClock(client: DynamoDBClient): void {
  const strip = (response: unknown) => {
    const headers = (response as { headers?: Record<string, string> } | undefined)?.headers;
    if (headers) delete headers.date;
  };
  client.middlewareStack.add(
    (next) => async (args) => {
      try {
        const out = await next(args);
        strip(out.response);
        return out;
      } catch (error) {
        strip((error as { $response?: unknown }).$response);
        throw error;
      }
    },
    { step: 'deserialize', name: 'ignoreServerClock', override: true },
  );
}
