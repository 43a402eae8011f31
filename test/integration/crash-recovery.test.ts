/**
 * TST-2 / EXE-1 / EXE-2 / EXE-7: the executor killed at every step, and after every single
 * write, on the emulators; then the message is redelivered and the reconciler runs. Each time:
 * exactly one exchange order for the client order id, sent once, FILLED, a balanced ledger with
 * no reservation left, positions equal to the exchange's balances, an intact audit chain.
 *
 * A "death" is a throw from the step (or right after the write) while the container's lock
 * releases are lost, as a killed process runs no `finally`: the symbol lease stays held until
 * it expires, so the redelivery happens after the lease (the clock is moved past it).
 */
import { describe, expect, it } from 'vitest';
import type { Intent } from '../../shared/domain/intent.js';
import { clientOrderIdFor } from '../../shared/domain/order.js';
import type { Container } from '../../shared/runtime/container.js';
import type { ExecutorStep } from '../../shared/use-cases/execute-intent.js';
import { ManualClock, type TestStack } from '../support/local-runtime.js';
import { PAST_LEASES_MS, SimulatedCrash, T0, buyIntent, expectAtMostOneOrderPerIntent, expectAudited, expectLedgerMatchesExchange, faultyRuntime, loseLockReleasesWhile, paperOrders, sendIntents, useExecStack } from './exec-support.js';

const STEPS: readonly ExecutorStep[] = ['before-claim', 'after-claim', 'after-reserve', 'after-submitting', 'after-exchange-accepted', 'after-record'];

/** What the order's audit trail holds whatever the crash point (AUDIT_ORDER in execute-intent.ts). */
const AUDITED = ['intent.accepted', 'budget.reserved', 'order.submitting', 'order.filled'];

describe('Crash recovery: the executor killed at each step, then redelivered and reconciled (TST-2)', () => {
  let t: TestStack;
  const clock = new ManualClock(T0);

  useExecStack((stack) => (t = stack));

  async function expectExactlyOnceFilled(c: Container, intent: Intent, sent: number): Promise<void> {
    const order = await c.orders.get(clientOrderIdFor(intent.id));
    expect(order?.state).toBe('FILLED');
    const remote = (await paperOrders(c)).filter((o) => o.clientOrderId === clientOrderIdFor(intent.id));
    expect(remote).toHaveLength(1);
    expect(remote[0]?.status).toBe('closed');
    expect(sent, 'createOrder calls that reached the exchange').toBe(1);
    await expectLedgerMatchesExchange(c);
  }

  for (const step of STEPS) {
    it(`places one order and balances the ledger when the executor dies at ${step}`, async () => {
      let crashAt: ExecutorStep | undefined = step;
      let dead = false;
      const { runtime, faults } = faultyRuntime(t, clock, {
        afterStep: (at) => {
          if (at !== crashAt) return;
          crashAt = undefined;
          dead = true;
          throw new SimulatedCrash(at);
        },
      });
      const c = runtime.containers.executor;
      loseLockReleasesWhile(c, () => dead);
      const intent = buyIntent(`step-${step}`, clock.now());
      await sendIntents(t, [intent]);

      const first = await runtime.deliverOnce({ visibilityTimeoutSeconds: 0 });
      expect(first).toEqual({ received: 1, succeeded: 0, failed: 1 });
      dead = false;
      clock.advance(PAST_LEASES_MS);

      const redelivered = await runtime.drain({ visibilityTimeoutSeconds: 0 });
      expect(redelivered).toEqual({ received: 1, succeeded: 1, failed: 0 });
      const report = await runtime.reconcile();
      expect(report.status).toBe('completed');

      await expectExactlyOnceFilled(c, intent, faults.createsByClientOrderId.get(clientOrderIdFor(intent.id)) ?? 0);
      await expectAudited(c, clientOrderIdFor(intent.id), AUDITED);
    });
  }

  it('lets the reconciler alone finish an order the exchange accepted before the executor died, and the late redelivery adds nothing', async () => {
    let dead = false;
    let armed = true;
    const { runtime, faults } = faultyRuntime(t, clock, {
      afterStep: (at) => {
        if (at !== 'after-exchange-accepted' || !armed) return;
        armed = false;
        dead = true;
        throw new SimulatedCrash(at);
      },
    });
    const c = runtime.containers.executor;
    loseLockReleasesWhile(c, () => dead);
    const intent = buyIntent('reconciler-first', clock.now());
    await sendIntents(t, [intent]);
    // Visible again at once (not after 30 s of real time, when a later test of this file would
    // receive it beside its own intent); delivered at the end, after the reconciler finished.
    expect(await runtime.deliverOnce({ visibilityTimeoutSeconds: 0 })).toMatchObject({ failed: 1 });
    dead = false;
    expect((await c.orders.get(clientOrderIdFor(intent.id)))?.state).toBe('SUBMITTING');

    clock.advance(PAST_LEASES_MS);
    const report = await runtime.reconcile();
    expect(report.filled).toBe(1);
    await expectExactlyOnceFilled(c, intent, faults.createsByClientOrderId.get(clientOrderIdFor(intent.id)) ?? 0);

    // The message comes back after its visibility timeout: nothing is sent again.
    const result = await runtime.invoke('executor', { intent });
    expect(result).toMatchObject({ outcome: 'already-processed', state: 'FILLED' });
    expect(faults.createsByClientOrderId.get(clientOrderIdFor(intent.id))).toBe(1);
    // The queued message itself, delivered now: answered the same way, the queue left empty.
    expect(await runtime.drain({ visibilityTimeoutSeconds: 0 })).toEqual({ received: 1, succeeded: 1, failed: 0 });
    expect(faults.createsByClientOrderId.get(clientOrderIdFor(intent.id))).toBe(1);
  });

  it('keeps its own claim when the put applied but its retried request reported a conditional failure', async () => {
    const { runtime, faults } = faultyRuntime(t, clock);
    const c = runtime.containers.executor;
    const create = c.orders.create.bind(c.orders);
    // The SDK-retry trap: the first response is lost, the retry finds the item and fails its condition.
    c.orders.create = async (order) => {
      await create(order);
      return false;
    };
    const intent = buyIntent('lost-claim-response', clock.now());
    expect(await runtime.invoke('executor', { intent })).toMatchObject({ outcome: 'executed', state: 'FILLED' });
    await expectExactlyOnceFilled(c, intent, faults.createsByClientOrderId.get(clientOrderIdFor(intent.id)) ?? 0);
  });

  describe('Killed right after each write of a buy and of a sell', () => {
    for (const side of ['buy', 'sell'] as const) {
      it(`recovers from a death after every one of the ${side}'s writes`, async () => {
        let points = 0;
        for (let k = 1; k < 40; k += 1) {
          let count = 0;
          let armed = true;
          let dead = false;
          const { runtime, faults } = faultyRuntime(t, clock);
          const c = runtime.containers.executor;
          loseLockReleasesWhile(c, () => dead);
          /** Performs the write, then dies if it is the k-th write of the first delivery. */
          const killAfter = <A extends unknown[], R>(fn: (...args: A) => Promise<R>, name: string) => async (...args: A): Promise<R> => {
            const out = await fn(...args);
            if (armed) {
              count += 1;
              if (count === k) {
                armed = false;
                dead = true;
                throw new SimulatedCrash(`write ${k} (${name})`);
              }
            }
            return out;
          };
          c.orders.create = killAfter(c.orders.create.bind(c.orders), 'orders.create');
          c.orders.save = killAfter(c.orders.save.bind(c.orders), 'orders.save');
          c.accounts.update = killAfter(c.accounts.update.bind(c.accounts), 'accounts.update');
          c.audit.append = killAfter(c.audit.append.bind(c.audit), 'audit.append');
          faults.createOrder = killAfter(faults.createOrder.bind(faults), 'exchange.createOrder');

          const intent =
            side === 'buy'
              ? buyIntent(`write-${side}-${k}`, clock.now(), { symbol: 'ETH/USDT' })
              : buyIntent(`write-${side}-${k}`, clock.now(), { symbol: 'ETH/USDT', side: 'sell', quoteAmount: '20' });
          await sendIntents(t, [intent]);
          const first = await runtime.deliverOnce({ visibilityTimeoutSeconds: 0 });
          armed = false;
          dead = false;
          clock.advance(PAST_LEASES_MS);
          if (first.failed === 0) {
            // k is past the last write: the run completed without dying. Every point was covered.
            expect(count).toBe(k - 1);
            await expectExactlyOnceFilled(c, intent, faults.createsByClientOrderId.get(clientOrderIdFor(intent.id)) ?? 0);
            break;
          }
          points += 1;
          expect(await runtime.drain(), `redelivery after write ${k}`).toMatchObject({ succeeded: 1, failed: 0 });
          expect((await runtime.reconcile()).status).toBe('completed');
          await expectExactlyOnceFilled(c, intent, faults.createsByClientOrderId.get(clientOrderIdFor(intent.id)) ?? 0);
          await expectAudited(c, clientOrderIdFor(intent.id), ['order.filled']);
          await expectAtMostOneOrderPerIntent(c, [intent], faults);
        }
        // A buy and a sell write 8 times each: the claim's write-ahead audit item
        // (intent.accepted + order.submitting), the claim, the reservation, the send, the fill, the
        // answer's audit item (budget.reserved + order.sent + order.filled), the final state and
        // the release. (11 before the records decided together shared one audit item, PERF-2:
        // every write is still a death point; there are three writes fewer.)
        expect(points).toBeGreaterThanOrEqual(8);
      });
    }
  });
});
