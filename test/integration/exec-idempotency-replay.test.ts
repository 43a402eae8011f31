/**
 * OPS-3 / EXE-1 / RISK-7: ad hoc replays of an executed intent, and Powertools Idempotency on
 * dynalite (which returns no item with a failed conditional put, so Powertools falls back to a
 * read): recorded results, an in-progress concurrent duplicate, a changed payload, and a
 * container that stalls past its lease and its in-progress expiry.
 */
import { readFileSync } from 'node:fs';
import { ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IntentSchema, type Intent } from '../../shared/domain/intent.js';
import { clientOrderIdFor } from '../../shared/domain/order.js';
import type { Container } from '../../shared/runtime/container.js';
import type { ExecutionResult, ExecutorStep } from '../../shared/use-cases/execute-intent.js';
import { ManualClock, startTestStack, type TestStack } from '../support/local-runtime.js';
import {
  EXEC_ENV,
  PAST_LEASES_MS,
  T0,
  book,
  buyIntent,
  executorHandler,
  expectLedgerMatchesExchange,
  faultyRuntime,
  paperOrders,
} from './exec-support.js';

const REPLAY_EVENT = JSON.parse(readFileSync(new URL('../../events/executor.replay.json', import.meta.url), 'utf8')) as { intent: Intent };
const SQS_EVENT = JSON.parse(readFileSync(new URL('../../events/executor.sqs.json', import.meta.url), 'utf8')) as unknown;

/** A promise the test resolves or rejects later: a step hook that holds the executor there. */
function gate() {
  let open!: () => void;
  let fail!: (error: Error) => void;
  let reached!: () => void;
  const opened = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  const arrived = new Promise<void>((resolve) => {
    reached = resolve;
  });
  return { open, fail, opened, arrived, reached };
}

async function idempotencyItems(c: Container): Promise<Record<string, unknown>[]> {
  const out = await c.doc.send(new ScanCommand({ TableName: c.config.idempotencyTable, ConsistentRead: true }));
  return out.Items ?? [];
}

describe('Replays and Powertools Idempotency on the emulators', () => {
  let t: TestStack;
  const clock = new ManualClock(T0);
  const replayClock = new ManualClock(new Date(Date.parse(REPLAY_EVENT.intent.createdAt) + 60_000));

  beforeAll(async () => {
    t = await startTestStack(EXEC_ENV);
  });

  afterAll(async () => {
    await t?.stop();
  });

  describe('Replay (OPS-3)', () => {
    it('returns the recorded result and places nothing when an executed intent is replayed from events/', async () => {
      // Replayed within its TTL (EXE-14): on a clock a minute after the sample's createdAt.
      const { runtime, faults } = faultyRuntime(t, replayClock);
      const c = runtime.containers.executor;
      expect(IntentSchema.safeParse(REPLAY_EVENT.intent).success).toBe(true);
      const id = clientOrderIdFor(REPLAY_EVENT.intent.id);

      const first = (await runtime.invoke('executor', REPLAY_EVENT)) as ExecutionResult;
      expect(first).toMatchObject({ outcome: 'executed', state: 'FILLED', orderId: id });
      const order = await c.orders.get(id);
      const ledger = await book(c);
      const balances = await c.exchange.fetchBalances();

      // The same payload again (the ad hoc replay), then as an SQS batch (a DLQ redrive), then
      // through a handler without the idempotency layer (the order record alone).
      const replayed = (await runtime.invoke('executor', REPLAY_EVENT)) as ExecutionResult;
      const redriven = (await runtime.invoke('executor', SQS_EVENT)) as { batchItemFailures: unknown[] };
      const bare = (await executorHandler(runtime, { idempotency: false })(REPLAY_EVENT)) as ExecutionResult;

      const recorded = { intentId: first.intentId, orderId: first.orderId, state: first.state, filled: first.filled, cost: first.cost, fees: first.fees };
      expect(replayed).toEqual({ ...recorded, outcome: 'already-processed' });
      expect(bare).toEqual({ ...recorded, outcome: 'already-processed' });
      expect(redriven.batchItemFailures).toEqual([]);
      expect(faults.forwarded.createOrder).toBe(1);
      expect(await c.orders.get(id)).toEqual(order);
      expect(await book(c)).toEqual(ledger);
      expect(await c.exchange.fetchBalances()).toEqual(balances);
      expect((await paperOrders(c)).filter((o) => o.clientOrderId === id)).toHaveLength(1);
    });

    it('keeps the result as a COMPLETED idempotency record keyed on the intent id, with a payload hash', async () => {
      const c = faultyRuntime(t, replayClock).runtime.containers.executor;
      const items = await idempotencyItems(c);
      const completed = items.filter((i) => i.status === 'COMPLETED');
      expect(completed.length).toBeGreaterThanOrEqual(1);
      expect(String(completed[0]?.id)).toMatch(/^tradewarden-executor#/);
      expect(completed[0]?.validation).toEqual(expect.any(String));
      expect(JSON.parse(JSON.stringify(completed[0]?.data))).toMatchObject({ outcome: 'executed', state: 'FILLED' });
    });
  });

  describe('Powertools Idempotency on dynalite', () => {
    it('refuses an in-progress concurrent duplicate as retryable, before it touches the order or the exchange', async () => {
      const hold = gate();
      const a = faultyRuntime(t, clock, {
        afterStep: async (step: ExecutorStep) => {
          if (step !== 'after-submitting') return;
          hold.reached();
          await hold.opened;
        },
      });
      const b = faultyRuntime(t, clock);
      const intent = buyIntent('in-progress', clock.now());
      const id = clientOrderIdFor(intent.id);

      const running = a.runtime.invoke('executor', { intent });
      await hold.arrived;
      const before = await b.runtime.containers.executor.orders.get(id);
      expect(before?.state).toBe('SUBMITTING');

      await expect(b.runtime.invoke('executor', { intent })).rejects.toMatchObject({ code: 'CONCURRENT_MODIFICATION', retryable: true, message: expect.stringMatching(/being executed by another invocation/) });
      expect(await b.runtime.containers.executor.orders.get(id)).toEqual(before);
      expect(b.faults.calls.createOrder + b.faults.calls.fetchOrderByClientId).toBe(0);
      // The order record stops it too: without the idempotency layer the symbol lease refuses it.
      await expect(executorHandler(b.runtime, { idempotency: false })({ intent })).rejects.toMatchObject({ code: 'LOCK_HELD', retryable: true });

      hold.open();
      expect(await running).toMatchObject({ outcome: 'executed', state: 'FILLED' });
      expect(await b.runtime.invoke('executor', { intent })).toMatchObject({ outcome: 'already-processed', state: 'FILLED' });
      expect(a.faults.forwarded.createOrder + b.faults.forwarded.createOrder).toBe(1);
      await expectLedgerMatchesExchange(a.runtime.containers.executor);
    });

    it('refuses as a poison message an intent id delivered again with different content', async () => {
      const { runtime, faults } = faultyRuntime(t, clock);
      const intent = buyIntent('changed-payload', clock.now());
      await runtime.invoke('executor', { intent });
      await expect(runtime.invoke('executor', { intent: { ...intent, quoteAmount: '150' } })).rejects.toMatchObject({ code: 'VALIDATION_FAILED', retryable: false });
      expect(faults.forwarded.createOrder).toBe(1);
      // A field that does not change the trade (the correlation id) is the same intent.
      expect(await runtime.invoke('executor', { intent: { ...intent, correlationId: 'replayed-by-ops' } })).toMatchObject({ outcome: 'already-processed' });
    });

    it('lets another container take over from one that stalled past its lease and in-progress expiry; the stalled one is fenced off and sends nothing', async () => {
      const hold = gate();
      const stalled = faultyRuntime(t, clock, {
        afterStep: async (step: ExecutorStep) => {
          if (step !== 'after-submitting') return;
          hold.reached();
          await hold.opened;
        },
      });
      const other = faultyRuntime(t, clock);
      const intent = buyIntent('stalled', clock.now(), { symbol: 'SOL/USDT' });
      const id = clientOrderIdFor(intent.id);
      const running = stalled.runtime.invoke('executor', { intent }).then(
        (value) => ({ ok: true as const, value }),
        (error: unknown) => ({ ok: false as const, error }),
      );
      await hold.arrived;

      // The stalled container's Lambda timed out: its in-progress record has expired.
      const c = other.runtime.containers.executor;
      const inProgress = (await idempotencyItems(c)).filter((i) => i.status === 'INPROGRESS');
      expect(inProgress).toHaveLength(1);
      await c.doc.send(
        new UpdateCommand({
          TableName: c.config.idempotencyTable,
          Key: { id: inProgress[0]?.id },
          UpdateExpression: 'SET in_progress_expiration = :past',
          ExpressionAttributeValues: { ':past': Date.now() - 1000 },
        }),
      );
      // Its symbol lease is still live: the other container is refused until it expires.
      await expect(other.runtime.invoke('executor', { intent })).rejects.toMatchObject({ code: 'LOCK_HELD' });
      clock.advance(PAST_LEASES_MS);
      // Past the lease and the re-send grace: looked up, not found, sent once.
      expect(await other.runtime.invoke('executor', { intent })).toMatchObject({ outcome: 'executed', state: 'FILLED' });

      hold.open();
      const late = await running;
      expect(late.ok).toBe(false);
      expect(late.ok ? undefined : late.error).toMatchObject({ code: 'LOCK_LOST' });
      expect(stalled.faults.forwarded.createOrder, 'the stalled container sent nothing').toBe(0);
      expect(other.faults.forwarded.createOrder).toBe(1);
      expect((await paperOrders(c)).filter((o) => o.clientOrderId === id)).toHaveLength(1);
      expect((await c.orders.get(id))?.state).toBe('FILLED');

      // Powertools deleted the record on the stalled attempt's error (its writes are not fenced):
      // a later replay falls through to the order record, which answers it.
      expect(await other.runtime.invoke('executor', { intent })).toMatchObject({ outcome: 'already-processed', state: 'FILLED' });
      expect(other.faults.forwarded.createOrder).toBe(1);
      await expectLedgerMatchesExchange(c);
    });
  });
});
