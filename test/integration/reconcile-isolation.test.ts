/**
 * DATA-7 at the reconciler, on the emulators with the fault-injecting exchange: one order whose
 * lookup fails (a network error, a permanent refusal) is skipped and reported, and the others
 * are reconciled in the same run; a failed sweep (open orders, balances) is reported and the
 * other sweep still runs. The skipped order is left exactly as it was (a network error is never
 * "not found", REC-2) and the next run resolves it. The run still fails as a whole when the
 * store cannot be used, which store-faults-reconciler.test.ts proves.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../shared/domain/errors.js';
import type { Intent } from '../../shared/domain/intent.js';
import { clientOrderIdFor } from '../../shared/domain/order.js';
import { SETTLE_MS } from '../../shared/domain/timing.js';
import { ManualClock, startTestStack, type TestStack } from '../support/local-runtime.js';
import { EXEC_ENV, T0, buyIntent, faultyRuntime, type FaultyRuntime } from './exec-support.js';

const SYMBOLS = ['BTC/USDT', 'ETH/USDT', 'SOL/USDT'] as const;

describe('Reconciler: one order or one sweep fails, the run goes on (DATA-7)', () => {
  let t: TestStack;
  const clock = new ManualClock(T0);
  let slot = 0;

  beforeAll(async () => {
    t = await startTestStack(EXEC_ENV);
  });

  afterAll(async () => {
    await t?.stop();
  });

  /** One UNKNOWN order per symbol: the exchange accepted (and filled) each, the answer was lost. */
  async function unknownOrders(r: FaultyRuntime): Promise<string[]> {
    const ids: string[] = [];
    for (const symbol of SYMBOLS) {
      slot += 1;
      const intent: Intent = buyIntent(`isolation-${slot}`, clock.now(), { symbol, quoteAmount: '30' });
      r.faults.script('createOrder', 'timeout-after-accept');
      await expect(r.runtime.invoke('executor', { intent })).rejects.toMatchObject({ code: ErrorCode.ExchangeUnknownOutcome });
      ids.push(clientOrderIdFor(intent.id));
      clock.advance(1000);
    }
    clock.advance(SETTLE_MS + 1000);
    return ids;
  }

  it('skips and reports the orders whose lookup fails and books the others in the same run', async () => {
    // Prepare: three UNKNOWN orders (looked up oldest first); the first lookup meets a network
    // error and the second a permanent refusal.
    const r = faultyRuntime(t, clock, { circuitBreaker: false });
    const c = r.runtime.containers.reconciler;
    const ids = await unknownOrders(r);
    for (const id of ids) expect((await c.orders.get(id))?.state).toBe('UNKNOWN');
    r.faults.script('fetchOrderByClientId', 'network-before', 'invalid-order');

    // Act
    const report = await r.runtime.reconcile();

    // Assess: the run completed; two orders skipped with their codes, the third booked.
    expect(report.status).toBe('completed');
    expect(report.checked).toBe(3);
    expect(report.failed).toBe(2);
    expect(report.filled).toBe(1);
    expect(report.failures).toEqual([
      { scope: 'order', orderId: ids[0], symbol: SYMBOLS[0], code: ErrorCode.ExchangeTransient, reason: expect.any(String) },
      { scope: 'order', orderId: ids[1], symbol: SYMBOLS[1], code: expect.stringMatching(/^EXCHANGE_/), reason: expect.any(String) },
    ]);
    // The pass booked the third order; the two it skipped were never read as "not found" and
    // were settled by the same run's balance check, which confirms in-flight orders first.
    for (const id of ids) expect(await c.orders.get(id)).toMatchObject({ state: 'FILLED', notFoundCount: 0 });
    expect(report.balances?.drift.level).toBe('ok');
    expect(await c.control.getReport('reconciliation')).toMatchObject({ status: 'completed', failed: 2 });
    const health = await r.runtime.health();
    expect(health.reasons.join('\n')).toContain('reconciliation:skipped');

    // Act 2: the exchange answers again.
    clock.advance(60_000);
    const next = await r.runtime.reconcile();

    // Assess 2: nothing is reported any more, nothing was booked twice.
    expect(next).toMatchObject({ status: 'completed', failed: 0, failures: [], filled: 0 });
    expect(next.balances?.drift.level).toBe('ok');
    expect((await r.runtime.health()).reasons.join('\n')).not.toContain('reconciliation:skipped');
  });

  it('leaves an order it could not look up exactly as it was, and books it in the next run', async () => {
    // Prepare: every lookup of this run fails: the pass's three, and the first one of the
    // balance check's settling, which gives up on it.
    const r = faultyRuntime(t, clock, { circuitBreaker: false });
    const c = r.runtime.containers.reconciler;
    const [first] = await unknownOrders(r);
    const id = first ?? '';
    const before = await c.orders.get(id);
    r.faults.script('fetchOrderByClientId', ...Array.from({ length: SYMBOLS.length + 1 }, () => 'timeout-before' as const));

    // Act
    const report = await r.runtime.reconcile();

    // Assess: all three skipped; the balance check could not settle them and is reported too.
    expect(report.status).toBe('completed');
    expect(report.failed).toBe(3);
    expect(report.failures.map((f) => f.scope)).toEqual(['order', 'order', 'order', 'balances']);
    expect(await c.orders.get(id)).toEqual(before);
    expect(r.faults.injected.filter((f) => f.call === 'fetchOrderByClientId')).toHaveLength(SYMBOLS.length + 1);

    // Act 2 + Assess 2
    clock.advance(60_000);
    const next = await r.runtime.reconcile();
    expect(next).toMatchObject({ status: 'completed', failed: 0, failures: [], filled: 3 });
    expect((await c.orders.get(id))?.state).toBe('FILLED');
    expect(next.balances?.drift.level).toBe('ok');
  });

  it('reports a failed open-orders sweep and still compares balances, and the other way round', async () => {
    // Prepare
    const r = faultyRuntime(t, clock, { circuitBreaker: false });
    clock.advance(60_000);
    r.faults.script('fetchOpenOrders', 'rate-limit-429');

    // Act
    const orphansDown = await r.runtime.reconcile();

    // Assess: the balance comparison of this run happened.
    expect(orphansDown.status).toBe('completed');
    expect(orphansDown.failures).toEqual([{ scope: 'orphans', code: ErrorCode.ExchangeTransient, reason: expect.any(String) }]);
    expect(Date.parse(orphansDown.balances?.at ?? '')).toBe(clock.now().getTime());
    expect(r.faults.forwarded.fetchBalances).toBe(1);

    // Act 2: the balances cannot be read; the open orders can.
    clock.advance(60_000);
    const measuredBefore = orphansDown.balances?.at;
    r.faults.script('fetchBalances', 'maintenance');
    const balancesDown = await r.runtime.reconcile();

    // Assess 2: reported; the last comparison is carried, not replaced by a made-up one.
    expect(balancesDown.status).toBe('completed');
    expect(balancesDown.failures).toEqual([{ scope: 'balances', code: ErrorCode.ExchangeTransient, reason: expect.any(String) }]);
    expect(balancesDown.balances?.at).toBe(measuredBefore);
    expect(r.faults.forwarded.fetchOpenOrders).toBe(1);
  });

  it('still fails as a whole when the circuit is open: no order can be reached', async () => {
    // Prepare: an UNKNOWN order, then the circuit opens on repeated network errors.
    const r = faultyRuntime(t, clock);
    await unknownOrders(r);
    r.faults.script('*', ...Array.from({ length: 20 }, () => 'network-before' as const));
    const outcomes: string[] = [];
    // Act
    for (let run = 0; run < 4; run += 1) {
      clock.advance(1000);
      outcomes.push(await r.runtime.reconcile().then((x) => x.status, (e: { name?: string }) => e.name ?? 'error'));
    }
    // Assess: once the circuit opened, runs fail loudly instead of reporting every order skipped.
    expect(outcomes).toContain('CircuitOpenError');
  });
});
