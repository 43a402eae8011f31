/**
 * TST-3 / EXE-3 / EXE-4 / EXE-6: the executor against exchange faults of every class, on the
 * emulators, through the real handler and queue. Every case ends with at most one exchange
 * order per intent. Permanent faults: REJECTED, budget released, audited, message acknowledged.
 * Transient ones: rethrown, and the redelivery succeeds. Unknown outcomes: the order is looked
 * up by client order id and createOrder is never called again for an order the exchange has.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FaultInjectingExchangeOptions, FaultKind } from '../../testkit/fault-injecting-exchange.js';
import type { Intent } from '../../shared/domain/intent.js';
import { clientOrderIdFor, isTerminal } from '../../shared/domain/order.js';
import { ManualClock, startTestStack, type TestStack } from '../support/local-runtime.js';
import { RESEND_GRACE_MS } from '../../shared/domain/timing.js';
import {
  EXEC_ENV,
  PAST_LEASES_MS,
  PAST_RESERVATION_AGE_MS,
  T0,
  book,
  buyIntent,
  expectAtMostOneOrderPerIntent,
  expectAudited,
  expectLedgerMatchesExchange,
  faultyRuntime,
  paperOrders,
  sendIntents,
  type FaultyRuntime,
} from './exec-support.js';

describe('Exchange faults at the executor (TST-3)', () => {
  let t: TestStack;
  const clock = new ManualClock(T0);
  let slot = 0;

  beforeAll(async () => {
    t = await startTestStack(EXEC_ENV);
  });

  afterAll(async () => {
    await t?.stop();
  });

  /** A fresh runtime and one intent sent to the queue. */
  async function setUp(overrides: Partial<Intent> = {}): Promise<FaultyRuntime & { intent: Intent; id: string }> {
    slot += 1;
    const r = faultyRuntime(t, clock);
    const intent = buyIntent(`faults-${slot}`, clock.now(), overrides);
    await sendIntents(t, [intent]);
    return { ...r, intent, id: clientOrderIdFor(intent.id) };
  }

  async function stateOf(r: FaultyRuntime, id: string): Promise<string | undefined> {
    return (await r.runtime.containers.executor.orders.get(id))?.state;
  }

  describe('Transient: nothing was created; rethrown, then sent once on redelivery', () => {
    const TRANSIENT: readonly FaultKind[] = ['network-before', 'rate-limit-418', 'rate-limit-429', 'maintenance', 'html-403', 'empty-body'];
    for (const kind of TRANSIENT) {
      it(`recovers from ${kind} on createOrder`, async () => {
        const r = await setUp();
        r.faults.script('createOrder', kind);
        expect(await r.runtime.deliverOnce({ visibilityTimeoutSeconds: 0 })).toEqual({ received: 1, succeeded: 0, failed: 1 });
        expect(await stateOf(r, r.id)).toBe('SUBMITTING');
        expect(r.faults.forwarded.createOrder).toBe(0);

        // Redelivered at once: looked up, not found, and NOT re-sent inside the grace period.
        expect(await r.runtime.deliverOnce({ visibilityTimeoutSeconds: 0 })).toMatchObject({ failed: 1 });
        expect(r.faults.forwarded.createOrder).toBe(0);
        expect(r.faults.forwarded.fetchOrderByClientId).toBe(1);

        clock.advance(RESEND_GRACE_MS + 1000);
        expect(await r.runtime.drain({ visibilityTimeoutSeconds: 0 })).toEqual({ received: 1, succeeded: 1, failed: 0 });
        expect(await stateOf(r, r.id)).toBe('FILLED');
        expect(r.faults.createsByClientOrderId.get(r.id)).toBe(1);
        await expectAtMostOneOrderPerIntent(r.runtime.containers.executor, [r.intent], r.faults);
        await expectLedgerMatchesExchange(r.runtime.containers.executor);
      });
    }

    it('recovers from a network error on the price read before anything is recorded', async () => {
      const r = await setUp();
      r.faults.script('fetchTickers', 'network-before');
      expect(await r.runtime.deliverOnce({ visibilityTimeoutSeconds: 0 })).toMatchObject({ failed: 1 });
      expect(await stateOf(r, r.id)).toBeUndefined();
      expect(await r.runtime.drain({ visibilityTimeoutSeconds: 0 })).toMatchObject({ succeeded: 1, failed: 0 });
      expect(await stateOf(r, r.id)).toBe('FILLED');
      expect(r.faults.createsByClientOrderId.get(r.id)).toBe(1);
    });
  });

  describe('Unknown outcome: never re-sent blindly', () => {
    for (const kind of ['timeout-after-accept', 'server-error-after-accept'] as const) {
      it(`finds the order by client order id after ${kind} and does not call createOrder again`, async () => {
        const r = await setUp();
        r.faults.script('createOrder', kind);
        expect(await r.runtime.deliverOnce({ visibilityTimeoutSeconds: 0 })).toMatchObject({ failed: 1 });
        expect(await stateOf(r, r.id)).toBe('UNKNOWN');
        expect(r.faults.forwarded.createOrder).toBe(1);

        expect(await r.runtime.drain({ visibilityTimeoutSeconds: 0 })).toEqual({ received: 1, succeeded: 1, failed: 0 });
        expect(await stateOf(r, r.id)).toBe('FILLED');
        expect(r.faults.forwarded.createOrder, 'createOrder calls on the inner exchange').toBe(1);
        await expectAudited(r.runtime.containers.executor, r.id, ['order.unknown', 'order.found', 'order.filled']);
        await expectLedgerMatchesExchange(r.runtime.containers.executor);
      });
    }

    for (const kind of ['timeout-before', 'server-error'] as const) {
      it(`re-sends after ${kind} only once the exchange still lacks the order after the grace period`, async () => {
        const r = await setUp();
        r.faults.script('createOrder', kind);
        expect(await r.runtime.deliverOnce({ visibilityTimeoutSeconds: 0 })).toMatchObject({ failed: 1 });
        expect(await stateOf(r, r.id)).toBe('UNKNOWN');
        expect(await r.runtime.deliverOnce({ visibilityTimeoutSeconds: 0 })).toMatchObject({ failed: 1 });
        expect(r.faults.forwarded.createOrder).toBe(0);

        clock.advance(RESEND_GRACE_MS + 1000);
        expect(await r.runtime.drain({ visibilityTimeoutSeconds: 0 })).toMatchObject({ succeeded: 1, failed: 0 });
        expect(await stateOf(r, r.id)).toBe('FILLED');
        expect(r.faults.forwarded.createOrder).toBe(1);
        await expectAudited(r.runtime.containers.executor, r.id, ['order.unknown', 'order.resending', 'order.filled']);
      });
    }

    it('does not re-send while the lookup itself fails: a network error is not "not found"', async () => {
      const r = await setUp();
      r.faults.script('createOrder', 'timeout-after-accept').script('fetchOrderByClientId', 'network-before', 'rate-limit-429');
      for (let i = 0; i < 3; i += 1) {
        clock.advance(RESEND_GRACE_MS + 1000);
        expect(await r.runtime.deliverOnce({ visibilityTimeoutSeconds: 0 })).toMatchObject({ failed: 1 });
      }
      expect(r.faults.forwarded.createOrder).toBe(1);
      expect(await r.runtime.drain({ visibilityTimeoutSeconds: 0 })).toMatchObject({ succeeded: 1 });
      expect(await stateOf(r, r.id)).toBe('FILLED');
      expect(r.faults.forwarded.createOrder).toBe(1);
    });
  });

  describe('Permanent: REJECTED, budget released, audited, acknowledged', () => {
    const SENT = ['intent.accepted', 'budget.reserved', 'order.submitting', 'order.rejected', 'budget.released'];
    // An unknown symbol is a bad input, not a rejection: see bad-input-generated.test.ts (SEC-4).
    const cases: readonly { name: string; fault?: FaultKind; intent?: Partial<Intent>; reason: RegExp; audited: readonly string[] }[] = [
      { name: 'insufficient funds on the exchange', fault: 'insufficient-funds', reason: /insufficient-funds/, audited: SENT },
      { name: 'an invalid order (lot size)', fault: 'invalid-order', reason: /invalid-order/, audited: SENT },
      { name: 'below the minimum notional on the exchange', fault: 'below-min-notional', reason: /invalid-order.*NOTIONAL/, audited: SENT },
      { name: 'below the minimum notional, caught before sending', intent: { quoteAmount: '2' }, reason: /notional .* below minimum/, audited: ['intent.rejected'] },
      { name: 'more than the budget, caught by the ledger', intent: { quoteAmount: '50000' }, reason: /available .* < /, audited: ['intent.accepted', 'order.rejected', 'budget.released'] },
    ];
    for (const c of cases) {
      it(`rejects ${c.name}`, async () => {
        const r = await setUp(c.intent);
        const ex = r.runtime.containers.executor;
        const before = await book(ex);
        if (c.fault) r.faults.script('createOrder', c.fault);
        // Acknowledged: the message is deleted, nothing comes back.
        expect(await r.runtime.deliverOnce({ visibilityTimeoutSeconds: 0 })).toEqual({ received: 1, succeeded: 1, failed: 0 });
        expect(await r.runtime.drain({ visibilityTimeoutSeconds: 0 })).toMatchObject({ received: 0 });

        const order = await ex.orders.get(r.id);
        expect(order?.state).toBe('REJECTED');
        expect(order?.reason).toMatch(c.reason);
        expect(r.faults.forwarded.createOrder).toBe(0);
        expect((await paperOrders(ex)).some((o) => o.clientOrderId === r.id)).toBe(false);
        const after = await book(ex);
        expect(after.available, 'budget released').toBe(before.available);
        expect(after.orders[r.id]).toBeUndefined();
        await expectAudited(ex, r.id, c.audited);
        await expectLedgerMatchesExchange(ex);
      });
    }
  });

  describe('Chaos: seeded random faults on every call of the executor and the reconciler', () => {
    const weather: FaultInjectingExchangeOptions['rates'] = {
      createOrder: {
        'network-before': 0.07,
        'timeout-before': 0.05,
        'timeout-after-accept': 0.08,
        'rate-limit-418': 0.02,
        'rate-limit-429': 0.04,
        'server-error': 0.03,
        'server-error-after-accept': 0.04,
        maintenance: 0.03,
        'html-403': 0.03,
        'empty-body': 0.02,
        latency: 0.05,
      },
      fetchOrderByClientId: { 'network-before': 0.1, 'timeout-after-accept': 0.05, 'rate-limit-418': 0.03, 'server-error': 0.03 },
      fetchTickers: { 'network-before': 0.08, maintenance: 0.04, 'html-403': 0.03 },
      default: { 'network-before': 0.05, 'rate-limit-429': 0.03 },
    };
    // A storm: most calls fail, so messages exhaust their receives and land in the DLQ, and the
    // reconciler has to finish their orders.
    const storm: FaultInjectingExchangeOptions['rates'] = {
      createOrder: { 'timeout-before': 0.3, 'timeout-after-accept': 0.3, 'network-before': 0.2 },
      fetchOrderByClientId: { 'network-before': 0.4, 'server-error': 0.2 },
      fetchTickers: { 'network-before': 0.3 },
      default: { 'network-before': 0.2 },
    };
    const runs = [
      { seed: 'chaos-2', rates: weather },
      { seed: 'chaos-4', rates: weather },
      { seed: 'storm-1', rates: storm },
    ];
    for (const { seed, rates } of runs) {
      it(`keeps at most one order per intent and a ledger equal to the exchange (seed ${seed})`, async () => {
        const r = faultyRuntime(t, clock, { seed, rates });
        const ex = r.runtime.containers.executor;
        const intents = ['BTC/USDT', 'ETH/USDT', 'SOL/USDT', 'XRP/USDT'].flatMap((symbol) =>
          [0, 1, 2].map((n) => buyIntent(`${seed}-${symbol}-${n}`, clock.now(), { symbol, quoteAmount: String(40 + n) })),
        );
        await sendIntents(t, intents, 2);

        // Deliver with time passing, as the queue would (the retry delays and the re-send grace).
        for (let round = 0; round < 40; round += 1) {
          const d = await r.runtime.deliverOnce({ visibilityTimeoutSeconds: 0 });
          if (d.received === 0) break;
          clock.advance(RESEND_GRACE_MS + 1000);
        }
        // Messages that exhausted their receives are in the DLQ; the reconciler finishes their
        // orders (found: booked; never sent: declared lost after the grace period).
        for (let round = 0; round < 20; round += 1) {
          clock.advance(PAST_LEASES_MS);
          try {
            await r.runtime.reconcile();
          } catch {
            // A faulted store write or an open circuit fails the run; a faulted lookup is skipped and retried next run (REC-2, DATA-7).
          }
          const open = await ex.orders.listOpen(100);
          if (open.items.every((o) => !intents.some((i) => clientOrderIdFor(i.id) === o.id))) break;
          // (the storm keeps failing runs: the calm pass below finishes)
        }
        // Then the weather clears: reconciliation without faults settles whatever is left.
        const calm = faultyRuntime(t, clock);
        const mine = (id: string) => intents.some((i) => clientOrderIdFor(i.id) === id);
        for (let round = 0; round < 10; round += 1) {
          clock.advance(PAST_LEASES_MS);
          expect((await calm.runtime.reconcile()).status).toBe('completed');
          if (!(await ex.orders.listOpen(100)).items.some((o) => mine(o.id))) break;
        }
        clock.advance(PAST_RESERVATION_AGE_MS);
        expect((await calm.runtime.reconcile()).status).toBe('completed');

        const paper = await paperOrders(ex);
        const states: Record<string, number> = {};
        for (const intent of intents) {
          const id = clientOrderIdFor(intent.id);
          const order = await ex.orders.get(id);
          const remote = paper.find((o) => o.clientOrderId === id);
          if (order) {
            states[order.state] = (states[order.state] ?? 0) + 1;
            expect(isTerminal(order.state), `${id} ${order.state}`).toBe(true);
            if (order.state === 'FILLED') expect(remote?.status).toBe('closed');
            else expect(remote, `${id} is ${order.state} locally but exists on the exchange`).toBeUndefined();
          } else {
            expect(remote).toBeUndefined();
          }
        }
        await expectAtMostOneOrderPerIntent(ex, intents, [r.faults, calm.faults]);
        // Compared through the calm runtime (the same tables and paper exchange): the storm's
        // exchange would fault the very balance read that checks the ledger.
        await expectLedgerMatchesExchange(calm.runtime.containers.executor);
        expect(r.faults.injected.length, 'faults injected').toBeGreaterThan(5);
        expect(states.FILLED ?? 0, 'some intents made it through').toBeGreaterThan(0);
        console.info(`chaos ${seed}: ${r.faults.injected.length} faults injected, final states ${JSON.stringify(states)}, createOrder calls ${r.faults.calls.createOrder} (forwarded ${r.faults.forwarded.createOrder})`);
        // A storm's reconciler runs now finish past each failed lookup (DATA-7) instead of stopping at the first: more work per run.
      }, 180_000);
    }
  });
});
