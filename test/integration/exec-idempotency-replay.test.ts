/**
 * OPS-3 / EXE-1 / RISK-7 / SEC-4: ad hoc replays of an executed intent, answered from the order
 * record (the executor keeps no separate idempotency record): recorded results, an in-progress
 * concurrent duplicate, a changed payload (INTENT_FINGERPRINT), and a container that stalls past
 * its lease.
 */
import { readFileSync } from 'node:fs';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IntentSchema, intentFingerprint, type Intent } from '../../shared/domain/intent.js';
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

/**
 * A promise the test resolves or rejects later, and a step hook (`afterSubmitting`) that holds the
 * executor right after it recorded SUBMITTING until then.
 */
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
  const afterSubmitting = async (step: ExecutorStep): Promise<void> => {
    if (step !== 'after-submitting') return;
    reached();
    await opened;
  };
  return { open, fail, opened, arrived, reached, afterSubmitting };
}

/** How many audit records there are (every stream). */
async function auditCount(c: Container): Promise<number> {
  const out = await c.doc.send(new ScanCommand({ TableName: c.config.auditTable, ConsistentRead: true, Select: 'COUNT' }));
  return out.Count ?? 0;
}

async function idempotencyItems(c: Container): Promise<Record<string, unknown>[]> {
  const out = await c.doc.send(new ScanCommand({ TableName: c.config.idempotencyTable, ConsistentRead: true }));
  return out.Items ?? [];
}

describe('Replays and duplicate deliveries on the emulators', () => {
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
      // through another handler on the same container.
      const replayed = (await runtime.invoke('executor', REPLAY_EVENT)) as ExecutionResult;
      const redriven = (await runtime.invoke('executor', SQS_EVENT)) as { batchItemFailures: unknown[] };
      const bare = (await executorHandler(runtime, {})(REPLAY_EVENT)) as ExecutionResult;

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

    it('records the fingerprint of the intent on its order at the claim, and writes no idempotency record', async () => {
      const c = faultyRuntime(t, replayClock).runtime.containers.executor;
      const order = await c.orders.get(clientOrderIdFor(REPLAY_EVENT.intent.id));
      expect(order?.intentFingerprint).toBe(intentFingerprint(REPLAY_EVENT.intent));
      expect(order?.intentFingerprint).toMatch(/^[0-9a-f]{64}$/);
      expect(await idempotencyItems(c)).toEqual([]);
    });
  });

  describe('Duplicates answered by the order record', () => {
    it('refuses an in-progress concurrent duplicate as retryable, before it touches the order or the exchange', async () => {
      const hold = gate();
      const a = faultyRuntime(t, clock, { afterStep: hold.afterSubmitting });
      const b = faultyRuntime(t, clock);
      const intent = buyIntent('in-progress', clock.now());
      const id = clientOrderIdFor(intent.id);

      const running = a.runtime.invoke('executor', { intent });
      await hold.arrived;
      const before = await b.runtime.containers.executor.orders.get(id);
      expect(before?.state).toBe('SUBMITTING');

      // The symbol lease the running delivery holds refuses it.
      await expect(b.runtime.invoke('executor', { intent })).rejects.toMatchObject({ code: 'LOCK_HELD', retryable: true });
      expect(await b.runtime.containers.executor.orders.get(id)).toEqual(before);
      expect(b.faults.calls.createOrder + b.faults.calls.fetchOrderByClientId).toBe(0);

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
      const c = runtime.containers.executor;
      const id = clientOrderIdFor(intent.id);
      const order = await c.orders.get(id);
      const ledger = await book(c);
      const records = await auditCount(c);
      await expect(runtime.invoke('executor', { intent: { ...intent, quoteAmount: '150' } })).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
        retryable: false,
        message: expect.stringMatching(/delivered before with different content/),
      });
      expect(faults.forwarded.createOrder).toBe(1);
      // Nothing changed: the order, the book, the audit log; the symbol lease was given back.
      expect(await c.orders.get(id)).toEqual(order);
      expect(await book(c)).toEqual(ledger);
      expect(await auditCount(c)).toBe(records);
      await expect(executorHandler(runtime, {})({ intent: buyIntent('after-changed-payload', clock.now()) })).resolves.toMatchObject({ outcome: 'executed' });
      // A field that does not change the trade (the correlation id) is the same intent.
      expect(await runtime.invoke('executor', { intent: { ...intent, correlationId: 'replayed-by-ops' } })).toMatchObject({ outcome: 'already-processed' });
    });

    it('refuses a changed payload of an intent that is still running, and of one closed at its claim', async () => {
      const hold = gate();
      const a = faultyRuntime(t, clock, { afterStep: hold.afterSubmitting });
      const b = faultyRuntime(t, clock);
      const intent = buyIntent('changed-while-running', clock.now(), { symbol: 'ETH/USDT' });
      const changed = { ...intent, quoteAmount: '75' };
      const running = a.runtime.invoke('executor', { intent });
      await hold.arrived;
      // Refused at once, whoever holds the lease: the stored order names other content.
      const before = await b.runtime.containers.executor.orders.get(clientOrderIdFor(intent.id));
      await expect(b.runtime.invoke('executor', { intent: changed })).rejects.toMatchObject({ code: 'VALIDATION_FAILED', retryable: false });
      expect(await b.runtime.containers.executor.orders.get(clientOrderIdFor(intent.id))).toEqual(before);
      expect(b.faults.calls.createOrder + b.faults.calls.fetchOrderByClientId).toBe(0);
      hold.open();
      expect(await running).toMatchObject({ outcome: 'executed', state: 'FILLED' });
      await expect(b.runtime.invoke('executor', { intent: changed })).rejects.toMatchObject({ code: 'VALIDATION_FAILED', retryable: false });
      expect(a.faults.forwarded.createOrder + b.faults.forwarded.createOrder).toBe(1);

      // An intent recorded EXPIRED at its claim: a delivery with another amount is not that intent.
      const expired = buyIntent('changed-after-expiry', new Date(clock.now().getTime() - 3_600_000), { expiresAt: new Date(clock.now().getTime() - 1000).toISOString() });
      expect(await b.runtime.invoke('executor', { intent: expired })).toMatchObject({ outcome: 'expired', state: 'EXPIRED' });
      const later = { ...expired, quoteAmount: '60' };
      await expect(b.runtime.invoke('executor', { intent: later })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      expect((await b.runtime.containers.executor.orders.get(clientOrderIdFor(expired.id)))?.state).toBe('EXPIRED');
      await expectLedgerMatchesExchange(a.runtime.containers.executor);
    });

    it('dead-letters a queued delivery with a changed payload and acknowledges it', async () => {
      const { runtime, faults } = faultyRuntime(t, clock);
      const intent = buyIntent('changed-in-queue', clock.now(), { symbol: 'SOL/USDT' });
      await runtime.invoke('executor', { intent });
      const sent: { errorCode: string }[] = [];
      const handler = executorHandler(runtime, { deadLetters: { send: async (m) => void sent.push(m) } });
      const record = (SQS_EVENT as { Records: Record<string, unknown>[] }).Records[0];
      const response = (await handler({ Records: [{ ...record, body: JSON.stringify({ ...intent, quoteAmount: '99' }) }] })) as { batchItemFailures: unknown[] };
      expect(response.batchItemFailures).toEqual([]);
      expect(sent).toEqual([expect.objectContaining({ errorCode: 'VALIDATION_FAILED', reason: expect.stringMatching(/different content/) })]);
      expect(faults.forwarded.createOrder).toBe(1);
    });

    it('lets another container take over from one that stalled past its lease; the stalled one is fenced off and sends nothing', async () => {
      const hold = gate();
      const stalled = faultyRuntime(t, clock, { afterStep: hold.afterSubmitting });
      const other = faultyRuntime(t, clock);
      const intent = buyIntent('stalled', clock.now(), { symbol: 'SOL/USDT' });
      const id = clientOrderIdFor(intent.id);
      const running = stalled.runtime.invoke('executor', { intent }).then(
        (value) => ({ ok: true as const, value }),
        (error: unknown) => ({ ok: false as const, error }),
      );
      await hold.arrived;

      const c = other.runtime.containers.executor;
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

      // A later replay is answered from the order record.
      expect(await other.runtime.invoke('executor', { intent })).toMatchObject({ outcome: 'already-processed', state: 'FILLED' });
      expect(other.faults.forwarded.createOrder).toBe(1);
      await expectLedgerMatchesExchange(c);
    });
  });
});
