/**
 * TST-3 / HLT-5 / REC-1 / REC-2: DynamoDB faults at the reconciler, on the emulators. The job:
 * an order left UNKNOWN by a timeout after the exchange accepted it (the exchange filled it).
 * Each write of a clean resolution run (recorded first) fails once, with each kind of fault: the
 * run fails (nothing swallowed), and the next run books the fill exactly once with a balanced
 * ledger that matches the exchange. Throttled reads fail every run and change nothing: an order
 * the reconciler could not read is never declared lost.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FaultInjectingStore, keyAttribute, type StoreCall, type StoreFaultKind, type StoreFaultTiming } from '../../testkit/fault-injecting-store.js';
import type { Intent } from '../../shared/domain/intent.js';
import { clientOrderIdFor } from '../../shared/domain/order.js';
import { ManualClock, startTestStack, type TestStack } from '../support/local-runtime.js';
import { describeCall, ignoreServerClock } from '../support/store-faults.js';
import { snapshotState } from '../support/snapshot.js';
import {
  EXEC_ENV,
  PAST_LEASES_MS,
  PAST_RESERVATION_AGE_MS,
  T0,
  buyIntent,
  expectAtMostOneOrderPerIntent,
  expectLedgerMatchesExchange,
  faultyRuntime,
  type FaultyRuntime,
} from './exec-support.js';

const WRITES = ['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem'];

const VARIANTS: readonly { kind: StoreFaultKind; timing: StoreFaultTiming; conditionalOnly?: boolean }[] = [
  { kind: 'throttling', timing: 'before' },
  { kind: 'throughput-exceeded', timing: 'after' },
  { kind: 'conditional-check-failed', timing: 'before', conditionalOnly: true },
  { kind: 'conditional-check-failed', timing: 'after', conditionalOnly: true },
];

/**
 * The one write whose failure the reconciler keeps going past, by design: recording the shared
 * circuit's outcome (shared/runtime/container.ts `onRecordError`: the exchange's answer is kept,
 * the failure logged). It is circuit state, not trading state.
 */
const tolerated = (c: StoreCall) => keyAttribute(c, 'pk')?.startsWith('CIRCUIT#') === true;


/**
 * This test runs one execution per (write, fault) pair: about a minute on an idle machine, and
 * several on a shared, loaded one. A bound for the run, not a timed assertion.
 */
const HEAVY_TEST_TIMEOUT_MS = 300_000;

describe('Store faults at the reconciler (TST-3, HLT-5)', () => {
  let t: TestStack;
  let r: FaultyRuntime;
  const clock = new ManualClock(T0);
  const writes: StoreCall[] = [];
  const intents: Intent[] = [];
  let slot = 0;

  /** An order the exchange filled but the executor recorded UNKNOWN (its answer was lost). */
  async function unknownOrder(): Promise<string> {
    slot += 1;
    // Past any lease a faulted run could not release.
    clock.advance(PAST_LEASES_MS);
    const intent = buyIntent(`rec-store-${slot}`, clock.now(), { quoteAmount: '20' });
    intents.push(intent);
    r.faults.script('createOrder', 'timeout-after-accept');
    await expect(r.runtime.invoke('executor', { intent })).rejects.toMatchObject({ code: 'EXCHANGE_UNKNOWN_OUTCOME' });
    const id = clientOrderIdFor(intent.id);
    expect((await r.runtime.containers.executor.orders.get(id))?.state).toBe('UNKNOWN');
    // Past the reconciler's settle time and every lease (a failed run's included).
    clock.advance(3 * PAST_LEASES_MS);
    return id;
  }

  beforeAll(async () => {
    const realNow = Date.now.bind(Date);
    vi.spyOn(Date, 'now').mockImplementation(() => realNow() + (clock.now().getTime() - T0.getTime()));
    t = await startTestStack({ ...EXEC_ENV, TW_PAPER_INITIAL_QUOTE: '1000000' });
    r = faultyRuntime(t, clock);
    for (const c of Object.values(r.runtime.containers)) ignoreServerClock(c.ddb);
    const id = await unknownOrder();
    new FaultInjectingStore({ commands: WRITES, match: (c) => (writes.push(c), false) }).attach(r.runtime.containers.reconciler.ddb);
    await r.runtime.reconcile();
    expect((await r.runtime.containers.executor.orders.get(id))?.state).toBe('FILLED');
  });

  afterAll(async () => {
    await t?.stop();
    vi.restoreAllMocks();
  });

  it('records a resolution run that writes locks, the order, the book, audit and its report', () => {
    const kinds = new Set(writes.map(describeCall));
    for (const expected of ['UpdateItem ORDER#', 'PutItem ACCOUNT#', 'UpdateItem LOCK#', 'UpdateItem REPORT#', 'UpdateItem HEARTBEAT#']) expect(kinds).toContain(expected);
  });

  it('fails the run, then books the fill exactly once, whichever write fails and however', async () => {
    const problems: string[] = [];
    const leftovers: string[] = [];
    for (const [k, write] of writes.entries()) {
      for (const v of VARIANTS) {
        if (v.conditionalOnly && !write.conditional) continue;
        // Prepare
        const id = await unknownOrder();
        let seen = 0;
        // The write that is actually faulted: earlier iterations leave orders the run also visits
        // (late-fill watch), so the k-th write of this run need not be the recorded k-th write.
        let faulted: StoreCall = write;
        const store = new FaultInjectingStore({
          commands: WRITES,
          match: (c) => {
            if ((seen += 1) !== k + 1) return false;
            faulted = c;
            return true;
          },
        }).script(v);
        store.attach(r.runtime.containers.reconciler.ddb);
        const labelOf = () => `write ${k + 1} (${describeCall(faulted)}) ${v.kind} ${v.timing}`;

        // Act: the faulted run, then clean runs until the order is done.
        const run = await r.runtime.reconcile().then(
          () => undefined,
          (error: unknown) => error as { code?: string },
        );
        store.detachAll();
        for (let i = 0; i < 3 && (await r.runtime.containers.reconciler.orders.get(id))?.state !== 'FILLED'; i += 1) {
          clock.advance(3 * PAST_LEASES_MS);
          await r.runtime.reconcile();
        }

        // Assess
        const label = labelOf();
        const raised = store.injected.length === 1;
        if (raised && v.kind !== 'conditional-check-failed' && !tolerated(faulted) && run?.code !== 'STORAGE_FAILED') {
          problems.push(`${label}: the run did not fail with STORAGE_FAILED (${run?.code ?? 'it succeeded'})`);
        }
        const state = (await r.runtime.containers.reconciler.orders.get(id))?.state;
        if (state !== 'FILLED') problems.push(`${label}: order ${state ?? 'missing'}, not FILLED`);
        const c = r.runtime.containers.reconciler;
        if ((await c.accounts.get(c.config.quoteCurrency))?.orders[id]) {
          // The fill and the state were written, the release of the surplus was not: the
          // stale-reservation sweep gives it back once it is older than its bound (EXE-7).
          leftovers.push(label);
          clock.advance(PAST_RESERVATION_AGE_MS);
          await r.runtime.reconcile();
        }
        await expectLedgerMatchesExchange(c);
      }
    }
    expect(problems).toEqual([]);
    // Only a failure between the fill and the release can leave a reservation behind.
    for (const label of leftovers) expect(label).toMatch(/ORDER#|ACCOUNT#/);
    await expectAtMostOneOrderPerIntent(r.runtime.containers.reconciler, intents, r.faults);
  }, HEAVY_TEST_TIMEOUT_MS);

  it('fails every run while reads are throttled, changes nothing but its heartbeat, and never declares the order lost', async () => {
    const id = await unknownOrder();
    const h = r.runtime.containers.health;
    const notHeartbeat = (item: Record<string, unknown>) => String(item.pk).startsWith('HEARTBEAT#');
    const before = await snapshotState(h.doc, t.config, h.queues, notHeartbeat);
    const store = new FaultInjectingStore({ rate: 1, kinds: { throttling: 1 }, commands: ['GetItem', 'Query'], tables: [t.config.stateTable] });
    store.attach(r.runtime.containers.reconciler.ddb);

    for (let run = 0; run < 4; run += 1) {
      await expect(r.runtime.reconcile()).rejects.toMatchObject({ code: 'STORAGE_FAILED' });
      clock.advance(3 * PAST_LEASES_MS);
    }

    expect(await snapshotState(h.doc, t.config, h.queues, notHeartbeat)).toBe(before);
    store.detachAll();
    await r.runtime.reconcile();
    expect((await r.runtime.containers.reconciler.orders.get(id))?.state).toBe('FILLED');
    await expectLedgerMatchesExchange(r.runtime.containers.reconciler);
  });
});
