/**
 * REC-5 and OPS-3 on the embedded stack: a reconciliation stopped by its deadline resumes where
 * it stopped, within a page and across pages; ad hoc runs for one symbol or one time window
 * look at exactly those orders and leave the scheduled position alone.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../local-runtime/runtime.js';
import { reconcilerDeps, windowOf } from '../../functions/reconciler/app.js';
import { ValidationError } from '../../shared/domain/errors.js';
import { reconcile, type ReconcileReport } from '../../shared/use-cases/reconcile.js';
import { ManualClock, startTestStack, type TestStack } from '../support/local-runtime.js';
import { execute, restingBuy, scripted, type ScriptedExchange } from './reconcile-support.js';

const ORDERS = 7;
/** Further than any run's deadline (the local reconciler gets 120 s minus a 10 s margin). */
const PAST_THE_DEADLINE_MS = 200_000;

describe('Reconciler: resumable and ad hoc runs (REC-5, OPS-3)', () => {
  let t: TestStack;
  let runtime: LocalRuntime;
  let x: ScriptedExchange;
  const clock = new ManualClock(new Date('2026-03-02T10:00:00.000Z'));
  /** Order ids oldest first, with their symbol and creation time. */
  const orders: Array<{ id: string; symbol: string; createdAt: Date }> = [];

  beforeAll(async () => {
    t = await startTestStack({ TW_PAPER_SEED: 'reconcile-resume', TW_WATCHLIST: 'BTC/USDT,ETH/USDT' });
    const wrap = scripted();
    runtime = t.runtime({ clock, exchange: wrap.option });
    x = wrap.exchange as ScriptedExchange;
    await runtime.containers.executor.ensureAccount();
    for (let n = 0; n < ORDERS; n += 1) {
      const symbol = n % 2 === 0 ? 'BTC/USDT' : 'ETH/USDT';
      const buy = await restingBuy(runtime.containers.executor, symbol, clock.now());
      expect(await execute(runtime, buy)).toMatchObject({ state: 'OPEN' });
      orders.push({ id: `tw-${buy.id}`, symbol, createdAt: clock.now() });
      clock.advance(1000);
    }
  });

  afterAll(async () => {
    await t?.stop();
  });

  beforeEach(() => {
    x.script = {};
    clock.advance(20_000);
  });

  const c = () => runtime.containers.reconciler;
  const ids = (from: number, to: number) => orders.slice(from, to).map((o) => o.id);

  /** From now on, the clock jumps past the deadline while the exchange answers the k-th lookup. */
  function deadlineAfter(k: number): void {
    let asked = 0;
    x.script.fetchOrderByClientId = async (symbol, id, inner) => {
      asked += 1;
      if (asked === k) clock.advance(PAST_THE_DEADLINE_MS);
      return inner.fetchOrderByClientId(symbol, id);
    };
  }

  /** Runs `act` and returns what it looked up on the exchange. */
  async function lookups<T>(act: () => Promise<T>): Promise<{ result: T; asked: string[] }> {
    const from = x.calls.length;
    const result = await act();
    return { result, asked: x.lookedUp(from) };
  }

  it('stops at its deadline, stores where, and the next run does exactly the rest', async () => {
    // Act
    deadlineAfter(3);
    const stopped = await lookups(() => runtime.reconcile());
    const stored = await c().control.getReport('reconciliation');
    x.script = {};
    clock.advance(20_000);
    const resumed = await lookups(() => runtime.reconcile());

    // Assess
    expect(stopped.result).toMatchObject({ status: 'partial', checked: 3 });
    expect(stopped.asked).toEqual(ids(0, 3));
    expect(stopped.result.balances).toBeUndefined();
    expect(stored?.watermark).toContain(orders[2]?.id);
    expect(resumed.result).toMatchObject({ status: 'completed', checked: ORDERS - 3 });
    expect(resumed.asked.slice(0, ORDERS - 3)).toEqual(ids(3, ORDERS));
    expect(resumed.result.balances?.drift.level).toBe('ok');
    expect(resumed.result.cursor).toBeUndefined();
    expect(resumed.result.watermark).toBeUndefined();
  });

  it('resumes across pages with the page cursor and the watermark', async () => {
    // Prepare: pages of two orders; stop in the middle of the second page.
    const base = reconcilerDeps(c());
    const deps = { ...base, settings: { ...base.settings, pageSize: 2 } };
    const deadline = () => new Date(clock.now().getTime() + 60_000);

    // Act
    deadlineAfter(3);
    const stopped = await lookups(() => reconcile(deps, { deadline: deadline() }));
    x.script = {};
    const resumed = await lookups(() => reconcile(deps, { deadline: deadline() }));

    // Assess
    expect(stopped.result).toMatchObject({ status: 'partial', checked: 3 });
    expect(stopped.result.cursor).toBeDefined();
    expect(stopped.asked).toEqual(ids(0, 3));
    expect(resumed.result).toMatchObject({ status: 'completed', checked: ORDERS - 3 });
    expect(resumed.asked.slice(0, ORDERS - 3)).toEqual(ids(3, ORDERS));
  });

  it('looks only at orders created in an ad hoc time window, and keeps the scheduled position', async () => {
    // Prepare: a scheduled run stopped after two orders.
    deadlineAfter(2);
    await runtime.reconcile();
    x.script = {};
    const position = await c().control.getReport('reconciliation');
    const window = windowOf({ from: orders[2]?.createdAt.toISOString(), to: orders[5]?.createdAt.toISOString() });
    if (!window) throw new Error('no window');

    // Act
    const adHoc = await lookups(() => reconcile(reconcilerDeps(c()), { deadline: new Date(clock.now().getTime() + 60_000), window }));
    const after = await c().control.getReport('reconciliation');
    const scheduled = await lookups(() => runtime.reconcile());

    // Assess
    expect(adHoc.result).toMatchObject({ status: 'completed', checked: 3, scope: { from: window.from.toISOString(), to: window.to.toISOString() } });
    expect(adHoc.asked).toEqual(ids(2, 5));
    expect(adHoc.result.balances).toEqual(position?.balances);
    expect({ cursor: after?.cursor, watermark: after?.watermark }).toEqual({ cursor: position?.cursor, watermark: position?.watermark });
    expect(scheduled.result).toMatchObject({ status: 'completed', checked: ORDERS - 2 });
    expect(scheduled.asked.slice(0, ORDERS - 2)).toEqual(ids(2, ORDERS));
  });

  it('looks only at the orders of one symbol when invoked with a symbol', async () => {
    // Act
    const adHoc = await lookups(() => runtime.invoke('reconciler', { symbol: 'ETH/USDT' }) as Promise<ReconcileReport>);

    // Assess
    const eth = orders.filter((o) => o.symbol === 'ETH/USDT').map((o) => o.id);
    expect(adHoc.result).toMatchObject({ status: 'completed', checked: eth.length, scope: { symbol: 'ETH/USDT' } });
    expect(adHoc.asked).toEqual(eth);
  });

  it('refuses a window with one end or the ends the wrong way round', () => {
    expect(windowOf({})).toBeUndefined();
    expect(() => windowOf({ from: '2026-03-02T10:00:00Z' })).toThrow(ValidationError);
    expect(() => windowOf({ from: '2026-03-02T11:00:00Z', to: '2026-03-02T10:00:00Z' })).toThrow(ValidationError);
  });
});
