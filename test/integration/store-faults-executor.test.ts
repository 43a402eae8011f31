/**
 * TST-3 / HLT-5 / EXE-1 / EXE-7: DynamoDB faults at the executor, on the emulators, through the
 * real handler and queue. The fault middleware (testkit/fault-injecting-store.ts) fails
 * one write of an execution at a time, for EVERY write the executor makes (found by recording a
 * clean execution first), with each kind of fault: throttled before the request, a lost response
 * after the write applied, and a conditional failure before or after (the SDK-retry trap).
 *
 * Every case: a throttle or a lost response fails the invocation (nothing is swallowed); after
 * the fault, redelivery (and the reconciler) finish the intent with one exchange order and a
 * balanced ledger that matches the exchange. A fault that persists dead-letters the message;
 * redriven after the fault stops, it is executed exactly once.
 */
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FaultInjectingStore, keyAttribute, type StoreCall, type StoreFaultKind, type StoreFaultTiming } from '../../testkit/fault-injecting-store.js';
import { EXECUTION_QUEUE } from '../../shared/definitions/queues.js';
import { clientOrderIdFor } from '../../shared/domain/order.js';
import { runOps } from '../../scripts/ops.js';
import { ManualClock, startTestStack, type TestStack } from '../support/local-runtime.js';
import { describeCall, ignoreServerClock } from '../support/store-faults.js';
import {
  EXEC_ENV,
  PAST_LEASES_MS,
  T0,
  buyIntent,
  expectAtMostOneOrderPerIntent,
  expectLedgerMatchesExchange,
  faultyRuntime,
  sendIntents,
  type FaultyRuntime,
} from './exec-support.js';

const WRITES = ['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem'];
const MAX_RECEIVES = EXECUTION_QUEUE.deadLetter?.maxReceiveCount ?? 5;

/** Each way one write can fail. */
const VARIANTS: readonly { kind: StoreFaultKind; timing: StoreFaultTiming; conditionalOnly?: boolean }[] = [
  // ProvisionedThroughputExceeded before the write takes the same path as throttling: the
  // persistent-fault case below covers it.
  { kind: 'throttling', timing: 'before' },
  { kind: 'throughput-exceeded', timing: 'after' },
  { kind: 'conditional-check-failed', timing: 'before', conditionalOnly: true },
  { kind: 'conditional-check-failed', timing: 'after', conditionalOnly: true },
];



async function queueDepth(t: TestStack, url: string): Promise<number> {
  const out = await t.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
  return Number(out.Attributes?.ApproximateNumberOfMessages ?? '0') + Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? '0');
}

/**
 * This test runs one execution per (write, fault) pair: about a minute on an idle machine, and
 * several on a shared, loaded one. A bound for the run, not a timed assertion.
 */
const HEAVY_TEST_TIMEOUT_MS = 300_000;

describe('Store faults at the executor (TST-3, HLT-5)', () => {
  let t: TestStack;
  let r: FaultyRuntime;
  const clock = new ManualClock(T0);
  /** The writes of one clean execution, in order. */
  const writes: StoreCall[] = [];
  let slot = 0;

  beforeAll(async () => {
    // Wall time (Date.now) moves with the test clock, as it would between real redeliveries.
    const realNow = Date.now.bind(Date);
    vi.spyOn(Date, 'now').mockImplementation(() => realNow() + (clock.now().getTime() - T0.getTime()));
    // Enough cash for every case of the sweep.
    t = await startTestStack({ ...EXEC_ENV, TW_PAPER_INITIAL_QUOTE: '1000000' });
    r = faultyRuntime(t, clock);
    for (const c of Object.values(r.runtime.containers)) ignoreServerClock(c.ddb);
    // Record the executor's writes in a clean execution (the second one: the book exists).
    await sendIntents(t, [buyIntent('warm-up', clock.now())]);
    await r.runtime.drain({ visibilityTimeoutSeconds: 0 });
    new FaultInjectingStore({ commands: WRITES, match: (c) => (writes.push(c), false) }).attach(r.runtime.containers.executor.ddb);
    await sendIntents(t, [buyIntent('recorded', clock.now())]);
    await r.runtime.drain({ visibilityTimeoutSeconds: 0 });
  });

  afterAll(async () => {
    await t?.stop();
    vi.restoreAllMocks();
  });

  /**
   * Redelivers (time passing between deliveries, as the queue's backoff does) until the queue is
   * empty; then, if the order is still not done, lets the reconciler finish it.
   */
  async function recover(orderId: string): Promise<void> {
    for (let i = 0; i < MAX_RECEIVES - 1; i += 1) {
      clock.advance(PAST_LEASES_MS);
      const d = await r.runtime.deliverOnce({ visibilityTimeoutSeconds: 0 });
      if (d.received === 0) break;
    }
    if ((await r.runtime.containers.executor.orders.get(orderId))?.state === 'FILLED') return;
    clock.advance(PAST_LEASES_MS);
    await r.runtime.reconcile();
  }

  it('draws the same faults for the same seed and call sequence', async () => {
    const draw = async (seed: string) => {
      const store = new FaultInjectingStore({ seed, rate: 0.3, lostResponseRate: 0.5 });
      const client = new DynamoDBClient({ endpoint: t.config.dynamodbEndpoint, region: t.config.region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
      store.attach(client);
      for (let i = 0; i < 40; i += 1) {
        await client.send(new GetItemCommand({ TableName: t.config.stateTable, Key: { pk: { S: `SEED#${i}` }, sk: { S: 'X' } } })).catch(() => undefined);
      }
      client.destroy();
      return store.injected.map((f) => `${f.seq}:${f.kind}:${f.timing}`);
    };
    const first = await draw('same');
    expect(first.length).toBeGreaterThan(3);
    expect(await draw('same')).toEqual(first);
    expect(await draw('other')).not.toEqual(first);
  });

  it('records a clean execution that writes orders, the book, locks and audit, and no idempotency record', () => {
    const kinds = new Set(writes.map(describeCall));
    // The symbol lease lives on its audit stream's head item (PERF-2): its acquire and its release
    // (which also moves the head) are the UpdateItems of AUDITHEAD#.
    for (const expected of ['PutItem ORDER#', 'UpdateItem ORDER#', 'PutItem ACCOUNT#', 'UpdateItem AUDITHEAD#', 'UpdateItem HEARTBEAT#']) expect(kinds).toContain(expected);
    expect(writes.some((w) => w.table === t.config.auditTable)).toBe(true);
    expect(writes.some((w) => w.table === t.config.idempotencyTable)).toBe(false);
  });

  it('fails the invocation, then executes exactly once, whichever write fails and however', async () => {
    expect(writes.length).toBeGreaterThan(10);
    const outcomes: string[] = [];
    const problems: string[] = [];
    for (const [k, write] of writes.entries()) {
      for (const v of VARIANTS) {
        if (v.conditionalOnly && !write.conditional) continue;
        // Prepare: one intent; the k-th write of its first delivery fails.
        slot += 1;
        const intent = buyIntent(`store-${slot}`, clock.now(), { quoteAmount: '20' });
        const id = clientOrderIdFor(intent.id);
        await sendIntents(t, [intent]);
        let seen = 0;
        const store = new FaultInjectingStore({ commands: WRITES, match: () => (seen += 1) === k + 1 }).script(v);
        store.attach(r.runtime.containers.executor.ddb);
        const label = `write ${k + 1} (${describeCall(write)}) ${v.kind} ${v.timing}`;

        // Act
        const first = await r.runtime.deliverOnce({ visibilityTimeoutSeconds: 0 });
        store.detachAll();
        await recover(id);

        // Assess (every case is checked; the failures are listed together at the end)
        const c = r.runtime.containers.executor;
        // A lost-response fault on a write that failed by itself (a lost race) leaves that error.
        expect(store.injected.length + store.preempted, label).toBe(1);
        const state = (await c.orders.get(id))?.state;
        if (store.injected.length === 1 && v.kind !== 'conditional-check-failed' && first.failed !== 1) problems.push(`${label}: the invocation succeeded`);
        if (state !== 'FILLED') problems.push(`${label}: order ${state ?? 'missing'}, not FILLED`);
        if ((await queueDepth(t, t.config.executionQueueUrl)) + (await queueDepth(t, t.config.executionDlqUrl)) !== 0) problems.push(`${label}: message left in a queue`);
        await expectAtMostOneOrderPerIntent(c, [intent], r.faults);
        await expectLedgerMatchesExchange(c);
        if (store.injected.length === 1) outcomes.push(`${label}: ${first.failed ? 'failed' : 'absorbed'}`);
        if (state !== 'FILLED') await runOps(['redrive'], r.runtime, () => undefined).then(() => r.runtime.drain({ visibilityTimeoutSeconds: 0 }));
      }
    }
    expect(problems).toEqual([]);
    // Conditional failures before a write are sometimes a lost race the code retries; everything else failed.
    expect(outcomes.filter((o) => o.endsWith('absorbed')).every((o) => o.includes('conditional-check-failed'))).toBe(true);
  }, HEAVY_TEST_TIMEOUT_MS);

  it('dead-letters the message while the book stays throttled, then executes the redriven intent exactly once', async () => {
    const intent = buyIntent('throttled-book', clock.now());
    const id = clientOrderIdFor(intent.id);
    const isBook = (c: StoreCall) => keyAttribute(c, 'pk')?.startsWith('ACCOUNT#') === true;
    const store = new FaultInjectingStore({ rate: 1, kinds: { 'throughput-exceeded': 1 }, commands: ['PutItem'], match: isBook });
    store.attach(r.runtime.containers.executor.ddb);
    await sendIntents(t, [intent]);

    const delivered = await r.runtime.drain({ visibilityTimeoutSeconds: 0 });

    expect(delivered).toEqual({ received: MAX_RECEIVES, succeeded: 0, failed: MAX_RECEIVES });
    expect(await queueDepth(t, t.config.executionDlqUrl)).toBe(1);
    expect(await queueDepth(t, t.config.executionQueueUrl)).toBe(0);
    expect(r.faults.createsByClientOrderId.get(id) ?? 0).toBe(0);

    store.detachAll();
    clock.advance(PAST_LEASES_MS);
    expect(await runOps(['redrive'], r.runtime, () => undefined)).toBe(0);
    expect(await r.runtime.drain({ visibilityTimeoutSeconds: 0 })).toMatchObject({ succeeded: 1 });
    const c = r.runtime.containers.executor;
    expect((await c.orders.get(id))?.state).toBe('FILLED');
    expect(await queueDepth(t, t.config.executionDlqUrl)).toBe(0);
    await expectAtMostOneOrderPerIntent(c, [intent], r.faults);
    await expectLedgerMatchesExchange(c);
  });

  it('loses and duplicates nothing when a seeded tenth of all calls fail during a batch', async () => {
    const intents = Array.from({ length: 24 }, (_, i) =>
      buyIntent(`random-store-${i}`, clock.now(), { symbol: EXEC_ENV.TW_WATCHLIST?.split(',')[i % 4] ?? 'BTC/USDT', quoteAmount: String(20 + i) }),
    );
    const store = new FaultInjectingStore({ seed: 'store-batch', rate: 0.1, lostResponseRate: 0.3 });
    store.attach(r.runtime.containers.executor.ddb);
    await sendIntents(t, intents);
    for (let round = 0; round < 8; round += 1) {
      await r.runtime.drain({ visibilityTimeoutSeconds: 0, maxRounds: 3 });
      clock.advance(PAST_LEASES_MS);
    }
    expect(store.injected.length).toBeGreaterThan(10);

    // Faults stop: drain, redrive what dead-lettered (until the DLQ is empty: one redrive moves
    // at most one batch, and a claim left waiting in the DLQ past the lost grace would be
    // expired by the reconciler as never sent), reconcile.
    store.detachAll();
    for (let round = 0; round < 3; round += 1) {
      for (let redrive = 0; redrive < 10 && (await queueDepth(t, t.config.executionDlqUrl)) > 0; redrive += 1) {
        await runOps(['redrive'], r.runtime, () => undefined);
        await r.runtime.drain({ visibilityTimeoutSeconds: 0 });
      }
      await r.runtime.drain({ visibilityTimeoutSeconds: 0 });
      clock.advance(PAST_LEASES_MS);
      await r.runtime.reconcile();
    }

    const c = r.runtime.containers.executor;
    expect(await queueDepth(t, t.config.executionQueueUrl)).toBe(0);
    expect(await queueDepth(t, t.config.executionDlqUrl)).toBe(0);
    for (const intent of intents) expect((await c.orders.get(clientOrderIdFor(intent.id)))?.state, intent.id).toBe('FILLED');
    await expectAtMostOneOrderPerIntent(c, intents, r.faults);
    await expectLedgerMatchesExchange(c);
    expect((await c.audit.verify()).valid).toBe(true);
  }, HEAVY_TEST_TIMEOUT_MS);
});
