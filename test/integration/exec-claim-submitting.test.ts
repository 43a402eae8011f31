/**
 * EXE-2 / EXE-3 / EXE-7 with the claim carrying SUBMITTING (CLAIM_SUBMITTING, execute-intent.ts)
 * on the emulators: the claim is the only state write before the exchange call, so a run can die
 * with its order SUBMITTING and its reservation never written. The redelivery looks the order up
 * (EXE-3), waits out the re-send grace, makes sure of the reservation (audited) before it sends,
 * and sends once; when the budget no longer covers it, the order is closed REJECTED unsent.
 */
import { describe, expect, it } from 'vitest';
import { StorageError } from '../../shared/domain/errors.js';
import { clientOrderIdFor } from '../../shared/domain/order.js';
import type { ExecutionResult } from '../../shared/use-cases/execute-intent.js';
import { ManualClock, type TestStack } from '../support/local-runtime.js';
import { PAST_LEASES_MS, T0, auditRecords, book, buyIntent, expectLedgerMatchesExchange, faultyRuntime, paperOrders, useExecStack } from './exec-support.js';

describe('The claim carries SUBMITTING: a claim whose reservation was never written (EXE-7)', () => {
  let t: TestStack;
  const clock = new ManualClock(T0);

  useExecStack((stack) => (t = stack));

  /** Runs the intent once with the account book's writes failing: the claim lands, the reservation does not. */
  async function claimWithoutReservation(slot: string, quoteAmount?: string) {
    const first = faultyRuntime(t, clock);
    const c = first.runtime.containers.executor;
    const update = c.accounts.update.bind(c.accounts);
    c.accounts.update = async () => {
      throw new StorageError('account book unavailable');
    };
    const intent = buyIntent(slot, clock.now(), quoteAmount ? { quoteAmount } : {});
    const id = clientOrderIdFor(intent.id);
    await expect(first.runtime.invoke('executor', { intent })).rejects.toMatchObject({ code: 'STORAGE_FAILED' });
    c.accounts.update = update;
    return { first, c, intent, id };
  }

  it('makes sure of the reservation before the re-send, audits it, and sends once', async () => {
    // Prepare
    const { first, c, intent, id } = await claimWithoutReservation('claim-without-reservation');
    expect((await c.orders.get(id))?.state, 'claimed straight into SUBMITTING').toBe('SUBMITTING');
    expect((await book(c)).orders[id], 'no reservation written').toBeUndefined();
    expect(first.faults.calls.createOrder, 'nothing sent').toBe(0);

    // Act: the redelivery within the re-send grace is refused (the order is looked up first), then past it
    const early = faultyRuntime(t, clock);
    await expect(early.runtime.invoke('executor', { intent })).rejects.toMatchObject({ code: 'EXCHANGE_UNKNOWN_OUTCOME' });
    expect(early.faults.calls.fetchOrderByClientId).toBe(1);
    expect(early.faults.calls.createOrder).toBe(0);
    clock.advance(PAST_LEASES_MS);
    const later = faultyRuntime(t, clock);
    const outcome = (await later.runtime.invoke('executor', { intent })) as ExecutionResult;

    // Assess
    expect(outcome).toMatchObject({ outcome: 'executed', state: 'FILLED' });
    expect(first.faults.forwarded.createOrder + early.faults.forwarded.createOrder + later.faults.forwarded.createOrder).toBe(1);
    expect((await paperOrders(c)).filter((o) => o.clientOrderId === id)).toHaveLength(1);
    const types = (await auditRecords(c)).filter((r) => JSON.stringify(r.data).includes(id)).map((r) => r.type);
    // The reservation is recorded before the re-send's announcement and the send.
    expect(types.indexOf('budget.reserved')).toBeGreaterThan(-1);
    expect(types.indexOf('budget.reserved')).toBeLessThan(types.indexOf('order.resending'));
    expect(types.indexOf('order.resending')).toBeLessThan(types.indexOf('order.sent'));
    await expectLedgerMatchesExchange(c);
  });

  it('makes sure of the reservation too when a reconciler moved the claimed order to UNKNOWN before the redelivery', async () => {
    // Prepare: the claim without its reservation, then a reconciliation past its settle time
    const { first, c, intent, id } = await claimWithoutReservation('claim-then-reconciled');
    clock.advance(PAST_LEASES_MS);
    expect((await first.runtime.reconcile()).status).toBe('completed');
    expect((await c.orders.get(id))?.state, 'not found on the exchange: outcome unknown').toBe('UNKNOWN');
    expect((await book(c)).orders[id]).toBeUndefined();

    // Act
    const later = faultyRuntime(t, clock);
    const outcome = (await later.runtime.invoke('executor', { intent })) as ExecutionResult;

    // Assess
    expect(outcome).toMatchObject({ outcome: 'executed', state: 'FILLED' });
    expect(first.faults.forwarded.createOrder + later.faults.forwarded.createOrder).toBe(1);
    const types = (await auditRecords(c)).filter((r) => JSON.stringify(r.data).includes(id)).map((r) => r.type);
    expect(types.indexOf('budget.reserved')).toBeGreaterThan(-1);
    expect(types.indexOf('budget.reserved')).toBeLessThan(types.indexOf('order.resending'));
    await expectLedgerMatchesExchange(c);
  });

  it('closes the order REJECTED unsent when the budget no longer covers it at the re-send', async () => {
    // Prepare: a claim of more than half the cash, then another order takes the budget meanwhile
    const cash = Number((await book(faultyRuntime(t, clock).runtime.containers.executor)).available);
    const big = String(Math.floor(cash * 0.6));
    const { c, intent, id } = await claimWithoutReservation('claim-then-budget-gone', big);
    clock.advance(PAST_LEASES_MS);
    const other = faultyRuntime(t, clock);
    expect(await other.runtime.invoke('executor', { intent: buyIntent('takes-the-budget', clock.now(), { quoteAmount: big, symbol: 'ETH/USDT' }) })).toMatchObject({ outcome: 'executed' });

    // Act
    const later = faultyRuntime(t, clock);
    const outcome = (await later.runtime.invoke('executor', { intent })) as ExecutionResult;

    // Assess
    expect(outcome).toMatchObject({ outcome: 'rejected', state: 'REJECTED' });
    expect(outcome.reason).toMatch(/available .* < /);
    expect(later.faults.calls.fetchOrderByClientId, 'looked up before deciding').toBe(1);
    expect(later.faults.forwarded.createOrder).toBe(0);
    expect((await paperOrders(c)).filter((o) => o.clientOrderId === id)).toEqual([]);
    expect((await book(c)).orders[id]).toBeUndefined();
    await expectLedgerMatchesExchange(c);
  });
});
