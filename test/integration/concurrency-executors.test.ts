/**
 * TST-4 / EXE-1 / RISK-7: several executor containers (separate LocalRuntime instances: own
 * clients, own caches, as separate Lambda containers would be) process the same intents at the
 * same time, through ad hoc replays and SQS batches full of duplicates, with a reconciler run in
 * the middle. Exactly one exchange order per intent, executed exactly once, a balanced ledger.
 * The order record alone decides (the executor has no separate idempotency layer).
 */
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { Intent } from '../../shared/domain/intent.js';
import { clientOrderIdFor } from '../../shared/domain/order.js';
import type { ExecutionResult } from '../../shared/use-cases/execute-intent.js';
import { ManualClock, type TestStack } from '../support/local-runtime.js';
import { T0, buyIntent, executorHandler, expectAtMostOneOrderPerIntent, expectLedgerMatchesExchange, faultyRuntime, paperOrders, type FaultyRuntime, useExecStack } from './exec-support.js';

const CONTAINERS = 3;
const SYMBOLS = ['BTC/USDT', 'ETH/USDT', 'SOL/USDT', 'XRP/USDT'] as const;
const MAX_ROUNDS = 40;

let messageSeq = 0;
function sqsRecord(intent: Intent): SQSRecord {
  messageSeq += 1;
  return {
    messageId: `dup-${messageSeq}`,
    receiptHandle: `rh-${messageSeq}`,
    body: JSON.stringify(intent),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '0',
      SenderId: 'test',
      ApproximateFirstReceiveTimestamp: '0',
      MessageGroupId: intent.symbol,
      MessageDeduplicationId: `${intent.id}-${messageSeq}`,
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:tw-local-ExecutionQueue.fifo',
    awsRegion: 'us-east-1',
  };
}

/** A FIFO batch as Lambda would hand it: groups in order, here with every intent twice. */
function batchWithDuplicates(intents: readonly Intent[]): SQSEvent[] {
  const records = intents.flatMap((i) => [sqsRecord(i), sqsRecord(i)]);
  const events: SQSEvent[] = [];
  for (let i = 0; i < records.length; i += 10) events.push({ Records: records.slice(i, i + 10) });
  return events;
}

type Work = { readonly container: number; readonly event: { intent: Intent } | SQSEvent };

describe('Concurrency: several executors and replays on the same intents (TST-4)', () => {
  let t: TestStack;
  const clock = new ManualClock(T0);

  useExecStack((stack) => (t = stack));

  it(`executes each intent exactly once across ${CONTAINERS} containers racing on replays and duplicate batches`, async () => {
    const runtimes: FaultyRuntime[] = Array.from({ length: CONTAINERS }, () => faultyRuntime(t, clock));
    const handlers = runtimes.map((r) => executorHandler(r.runtime, {}));
    const intents = SYMBOLS.flatMap((symbol, s) => [0, 1].map((n) => buyIntent(`race-${s}-${n}`, clock.now(), { symbol, quoteAmount: String(60 + n) })));

    let pending: Work[] = [];
    for (let container = 0; container < CONTAINERS; container += 1) {
      for (const intent of intents) pending.push({ container, event: { intent } });
      // Each container also gets the batches, in another order, so the groups interleave.
      const ordered = container % 2 === 0 ? intents : [...intents].reverse();
      for (const event of batchWithDuplicates(ordered)) pending.push({ container, event });
    }

    const results: ExecutionResult[] = [];
    const failureCodes = new Map<string, number>();
    let rounds = 0;
    let reconciled = false;
    while (pending.length > 0) {
      rounds += 1;
      expect(rounds, 'rounds until every delivery succeeded').toBeLessThanOrEqual(MAX_ROUNDS);
      const round = pending;
      pending = [];
      const settled = await Promise.allSettled([
        ...round.map((w) => handlers[w.container]?.(w.event)),
        // The reconciler works on the same symbols at the same time (RISK-7).
        ...(reconciled ? [] : [runtimes[0]?.runtime.reconcile()]),
      ]);
      reconciled = true;
      round.forEach((work, i) => {
        const outcome = settled[i];
        if (!outcome) return;
        if (outcome.status === 'rejected') {
          const code = (outcome.reason as { code?: string }).code ?? String(outcome.reason);
          failureCodes.set(code, (failureCodes.get(code) ?? 0) + 1);
          pending.push(work);
          return;
        }
        if ('intent' in work.event) {
          results.push(outcome.value as ExecutionResult);
          return;
        }
        // A partial batch response: redeliver only the failed records, like the event source.
        const failed = new Set(((outcome.value as SQSBatchResponse | undefined)?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
        const event = work.event as SQSEvent;
        if (failed.size > 0) pending.push({ container: work.container, event: { Records: event.Records.filter((r) => failed.has(r.messageId)) } });
      });
    }

    // Only contention errors, all retryable, ever made a delivery fail.
    for (const code of failureCodes.keys()) expect(['LOCK_HELD', 'CONCURRENT_MODIFICATION', 'LOCK_LOST']).toContain(code);

    const c = runtimes[0]?.runtime.containers.executor;
    if (!c) throw new Error('no container');
    // No two ad hoc deliveries both executed one intent (batches report no per-record result;
    // the exchange-side count below covers them).
    const executed = results.filter((r) => r.outcome === 'executed').map((r) => r.intentId).sort();
    expect(executed.filter((id, i) => executed.indexOf(id) !== i), 'intents executed twice').toEqual([]);
    expect(results.filter((r) => r.outcome === 'already-processed').length, 'duplicates answered as such').toBeGreaterThan(0);
    console.info(`concurrency: ${rounds} rounds, retried failures ${JSON.stringify(Object.fromEntries(failureCodes))}`);
    for (const intent of intents) {
      const order = await c.orders.get(clientOrderIdFor(intent.id));
      expect(order?.state, intent.symbol).toBe('FILLED');
    }
    const mine = (await paperOrders(c)).filter((o) => intents.some((i) => clientOrderIdFor(i.id) === o.clientOrderId));
    expect(mine).toHaveLength(intents.length);
    await expectAtMostOneOrderPerIntent(c, intents, runtimes.map((r) => r.faults));
    const sent = intents.map((i) => runtimes.reduce((n, r) => n + (r.faults.createsByClientOrderId.get(clientOrderIdFor(i.id)) ?? 0), 0));
    expect(sent).toEqual(intents.map(() => 1));
    await expectLedgerMatchesExchange(c);
  });
});
