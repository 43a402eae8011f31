/**
 * EXE-14 on the emulators: no order goes out after its intent expired or while trading is
 * paused, on any path: the first send, a re-send after UNKNOWN, a redrive (SQS delivery) and an
 * ad hoc replay. The expiry is the earlier of `expiresAt` and `createdAt` + TTL; an intent from
 * the future is invalid. An order an earlier attempt may have sent is looked up first; absent,
 * it is closed EXPIRED (or REJECTED when paused), its budget released, nothing placed.
 */
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Intent } from '../../shared/domain/intent.js';
import { clientOrderIdFor } from '../../shared/domain/order.js';
import type { ExecutionResult, ExecutorStep } from '../../shared/use-cases/execute-intent.js';
import { ManualClock, startTestStack, type TestStack } from '../support/local-runtime.js';
import { EXEC_ENV, PAST_LEASES_MS, SimulatedCrash, T0, auditRecords, book, buyIntent, expectLedgerMatchesExchange, faultyRuntime, loseLockReleasesWhile, paperOrders } from './exec-support.js';

/** The configured intent TTL of these stacks (TW_INTENT_TTL_SECONDS). */
const TTL_SECONDS = 120;
const TTL_MS = TTL_SECONDS * 1000;

/** One intent as the execution queue delivers it (a redrive from the DLQ arrives the same way). */
function sqsEvent(intent: Intent, receiveCount = 1): SQSEvent {
  return {
    Records: [
      {
        messageId: `m-${intent.id}-${receiveCount}`,
        receiptHandle: 'r',
        body: JSON.stringify(intent),
        attributes: {
          ApproximateReceiveCount: String(receiveCount),
          SentTimestamp: '0',
          SenderId: 'test',
          ApproximateFirstReceiveTimestamp: '0',
          MessageGroupId: intent.symbol,
          MessageDeduplicationId: intent.id,
          SequenceNumber: '1',
        },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:execution.fifo',
        awsRegion: 'us-east-1',
      },
    ],
  } as SQSEvent;
}

describe('Never send late, never send while stopped (EXE-14)', () => {
  let t: TestStack;
  const clock = new ManualClock(T0);

  beforeAll(async () => {
    t = await startTestStack({ ...EXEC_ENV, TW_INTENT_TTL_SECONDS: String(TTL_SECONDS) });
  });

  afterAll(async () => {
    await t?.stop();
  });

  it('expires an intent created longer ago than the TTL even though its expiresAt is a day later, and places nothing', async () => {
    // Prepare: created a day ago... minus a minute, so expiresAt (a day after createdAt) is still ahead.
    const { runtime, faults } = faultyRuntime(t, clock);
    const c = runtime.containers.executor;
    const intent = buyIntent('old-but-long-lived', new Date(clock.now().getTime() - 86_400_000 + 60_000));
    expect(Date.parse(intent.expiresAt)).toBeGreaterThan(clock.now().getTime());
    const before = await book(c).catch(() => undefined);

    // Act
    const outcome = (await runtime.invoke('executor', { intent })) as ExecutionResult;

    // Assess
    const expiry = new Date(Date.parse(intent.createdAt) + TTL_MS).toISOString();
    expect(outcome).toMatchObject({ outcome: 'expired', state: 'EXPIRED', reason: `intent expired at ${expiry}` });
    expect(faults.calls.createOrder).toBe(0);
    expect(await paperOrders(c)).toEqual([]);
    if (before) expect(await book(c)).toEqual(before);
  });

  it('refuses an intent created in the future beyond the clock skew with a coded error and writes nothing', async () => {
    const { runtime, faults } = faultyRuntime(t, clock);
    const c = runtime.containers.executor;
    const intent = buyIntent('from-the-future', new Date(clock.now().getTime() + 60_000));

    await expect(runtime.invoke('executor', { intent })).rejects.toMatchObject({ code: 'VALIDATION_FAILED', retryable: false, message: expect.stringMatching(/createdAt .* in the future/) });

    expect(await c.orders.get(clientOrderIdFor(intent.id))).toBeNull();
    expect(faults.calls.createOrder + faults.calls.fetchOrderByClientId).toBe(0);
  });

  it('accepts an intent created a moment ahead, within the clock skew', async () => {
    const { runtime } = faultyRuntime(t, clock);
    const intent = buyIntent('slightly-ahead', new Date(clock.now().getTime() + 2000));
    expect(await runtime.invoke('executor', { intent })).toMatchObject({ outcome: 'executed', state: 'FILLED' });
  });

  for (const left of ['SUBMITTING', 'UNKNOWN'] as const) {
    for (const path of ['replay', 'redrive'] as const) {
      it(`records EXPIRED, places nothing and moves no money when a ${path} comes after the TTL and an earlier attempt left the order ${left}`, async () => {
        // Prepare: the first attempt dies after recording SUBMITTING (its lease is never released),
        // or its createOrder times out before the exchange processed it (UNKNOWN).
        let dead = false;
        const first = faultyRuntime(t, clock, {
          afterStep: (step: ExecutorStep) => {
            if (left === 'SUBMITTING' && step === 'after-submitting') {
              dead = true;
              throw new SimulatedCrash(step);
            }
          },
        });
        const c = first.runtime.containers.executor;
        loseLockReleasesWhile(c, () => dead);
        const ledgerBefore = await book(c);
        const balancesBefore = await c.exchange.fetchBalances();
        if (left === 'UNKNOWN') first.faults.script('createOrder', 'timeout-before');
        const intent = buyIntent(`left-${left}-${path}`, clock.now());
        const id = clientOrderIdFor(intent.id);
        await expect(first.runtime.invoke('executor', { intent })).rejects.toThrow();
        dead = false;
        expect((await c.orders.get(id))?.state).toBe(left);
        expect((await book(c)).orders[id], 'the first attempt reserved budget').toBeDefined();

        // Act: the intent comes back after its TTL, past the lease and the re-send grace.
        clock.advance(TTL_MS + PAST_LEASES_MS);
        const later = faultyRuntime(t, clock);
        let outcome: ExecutionResult;
        if (path === 'replay') outcome = (await later.runtime.invoke('executor', { intent })) as ExecutionResult;
        else {
          const response = (await later.runtime.invoke('executor', sqsEvent(intent, 2))) as { batchItemFailures: unknown[] };
          expect(response.batchItemFailures).toEqual([]);
          const order = await c.orders.get(id);
          outcome = { outcome: 'expired', state: order?.state, reason: order?.reason } as ExecutionResult;
        }

        // Assess
        expect(outcome).toMatchObject({ outcome: 'expired', state: 'EXPIRED' });
        expect(outcome.reason).toMatch(/^intent expired at .* before it was sent$/);
        expect(later.faults.calls.fetchOrderByClientId, 'looked up before deciding').toBeGreaterThanOrEqual(1);
        expect(first.faults.forwarded.createOrder + later.faults.forwarded.createOrder, 'orders that reached the exchange').toBe(0);
        expect((await paperOrders(c)).filter((o) => o.clientOrderId === id)).toEqual([]);
        expect(await c.exchange.fetchBalances()).toEqual(balancesBefore);
        const ledger = await book(c);
        expect(ledger.orders[id], 'reservation released').toBeUndefined();
        expect({ total: ledger.total, available: ledger.available, reserved: ledger.reserved, committed: ledger.committed }).toEqual({
          total: ledgerBefore.total,
          available: ledgerBefore.available,
          reserved: ledgerBefore.reserved,
          committed: ledgerBefore.committed,
        });
        const types = (await auditRecords(c)).filter((r) => JSON.stringify(r.data).includes(id)).map((r) => r.type);
        expect(types).toEqual(expect.arrayContaining(['order.expired', 'budget.released']));
        await expectLedgerMatchesExchange(c);
      });
    }
  }

  it('rejects a re-send after UNKNOWN while trading is paused, releases the budget and places nothing', async () => {
    // Prepare: the send timed out before the exchange processed it; then the operator paused.
    const first = faultyRuntime(t, clock);
    const c = first.runtime.containers.executor;
    first.faults.script('createOrder', 'timeout-before');
    const intent = buyIntent('resend-while-paused', clock.now());
    const id = clientOrderIdFor(intent.id);
    await expect(first.runtime.invoke('executor', { intent })).rejects.toMatchObject({ code: 'EXCHANGE_UNKNOWN_OUTCOME' });
    await c.control.setPause({ paused: true, reason: 'emergency stop', author: 'ops', since: clock.now().toISOString() });
    clock.advance(PAST_LEASES_MS);

    // Act
    const later = faultyRuntime(t, clock);
    const outcome = (await later.runtime.invoke('executor', { intent })) as ExecutionResult;

    // Assess
    expect(outcome).toMatchObject({ outcome: 'rejected', state: 'REJECTED', reason: 'trading paused: emergency stop' });
    expect(later.faults.calls.fetchOrderByClientId).toBeGreaterThanOrEqual(1);
    expect(first.faults.forwarded.createOrder + later.faults.forwarded.createOrder).toBe(0);
    expect((await book(c)).orders[id]).toBeUndefined();
    await c.control.setPause({ paused: false });
    await expectLedgerMatchesExchange(c);
  });

  it('rejects the first send when trading is paused after the budget was reserved, checked right before the call', async () => {
    // Prepare: the pause lands after the executor's first pause read, while it reserves.
    const hook: { pauseNow?: () => Promise<void> } = {};
    const { runtime, faults } = faultyRuntime(t, clock, {
      afterStep: async (step: ExecutorStep) => {
        if (step === 'after-reserve') await hook.pauseNow?.();
      },
    });
    const c = runtime.containers.executor;
    hook.pauseNow = () => c.control.setPause({ paused: true, reason: 'stop now', author: 'ops', since: clock.now().toISOString() });
    const intent = buyIntent('paused-mid-run', clock.now());
    const id = clientOrderIdFor(intent.id);

    // Act
    const outcome = (await runtime.invoke('executor', { intent })) as ExecutionResult;

    // Assess
    expect(outcome).toMatchObject({ outcome: 'rejected', state: 'REJECTED', reason: 'trading paused: stop now' });
    expect(faults.calls.createOrder).toBe(0);
    expect((await book(c)).orders[id]).toBeUndefined();
    // The reservation is audited before its release: its record goes out with the closure's.
    const types = (await auditRecords(c)).filter((r) => JSON.stringify(r.data).includes(id)).map((r) => r.type);
    expect(types).toEqual(['intent.accepted', 'order.submitting', 'budget.reserved', 'order.rejected', 'budget.released']);
    expect((await c.audit.verify()).valid).toBe(true);
    await c.control.setPause({ paused: false });
    await expectLedgerMatchesExchange(c);
  });

  it('books an order the exchange does have, even when the intent has expired since (looked up first)', async () => {
    // Prepare: the exchange processed the order, then the answer was lost.
    const first = faultyRuntime(t, clock);
    const c = first.runtime.containers.executor;
    first.faults.script('createOrder', 'timeout-after-accept');
    const intent = buyIntent('sent-then-expired', clock.now());
    await expect(first.runtime.invoke('executor', { intent })).rejects.toMatchObject({ code: 'EXCHANGE_UNKNOWN_OUTCOME' });
    clock.advance(TTL_MS + PAST_LEASES_MS);

    // Act
    const later = faultyRuntime(t, clock);
    const outcome = (await later.runtime.invoke('executor', { intent })) as ExecutionResult;

    // Assess
    expect(outcome).toMatchObject({ outcome: 'executed', state: 'FILLED' });
    expect(first.faults.forwarded.createOrder + later.faults.forwarded.createOrder).toBe(1);
    await expectLedgerMatchesExchange(c);
  });
});
