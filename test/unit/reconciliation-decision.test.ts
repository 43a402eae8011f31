/**
 * REC-1 / REC-2 / EXE-10 / EXE-11: the reconciler's decision on plain data. The property at the
 * end plays the reconciler against an exchange whose reports arrive in any order, repeated,
 * stale or missing, and checks the books end with the exchange's final fill exactly once.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyFill, checkBook, openBook, release, type AccountBook } from '../../shared/domain/account.js';
import { Decimal, dec, str } from '../../shared/domain/money.js';
import { applyOrderEvents, type OrderReport } from '../../shared/domain/order-aggregate.js';
import { claimOrder } from '../../shared/domain/order-creation.js';
import type { OrderRecord, OrderState, OrderTrade } from '../../shared/domain/order.js';
import { decideReconciliation, type ReconciliationAction, type ReconciliationSettings, type RemoteOrder } from '../../shared/domain/reconciliation.js';
import { LATE_FILL_WATCH_MS } from '../../shared/domain/timing.js';

const T0 = new Date('2026-03-01T10:00:00.000Z');
const SECOND = 1000;
const SETTINGS: ReconciliationSettings = { mode: 'pass', settleMs: 15 * SECOND, lostAfterNotFound: 3, lostGraceMs: 120 * SECOND };
const PRICE = '100';

function order(state: OrderState, fields: Partial<OrderRecord> = {}): OrderRecord {
  const claimed = claimOrder(
    { id: 'tw-i1', intentId: 'i1', correlationId: 'i1', strategy: 's', symbol: 'BTC/USDT', side: 'buy', type: 'limit', amount: '1', limitPrice: PRICE, reservedQuote: '101', fence: 1, createdAt: T0.toISOString() },
    T0,
  ).next;
  return { ...claimed, state, ...fields };
}

const at = (ms: number) => new Date(T0.getTime() + ms);
const found = (status: OrderReport['status'], filled: string, trades?: OrderTrade[]): RemoteOrder => ({
  found: { id: 'X1', status, filled, cost: str(dec(filled).times(PRICE)), fees: [], ...(trades ? { trades } : {}) },
});

describe('Function: decideReconciliation', () => {
  it('leaves an order changed within the settle time to the executor, in a pass only', () => {
    const fresh = order('UNKNOWN', { updatedAt: at(10 * SECOND).toISOString() });
    expect(decideReconciliation(fresh, undefined, at(20 * SECOND), SETTINGS)).toEqual({ kind: 'leave', outcome: 'settling' });
    expect(decideReconciliation(fresh, undefined, at(20 * SECOND), { ...SETTINGS, mode: 'confirm' })).toEqual({ kind: 'lookup' });
    expect(decideReconciliation(fresh, undefined, at(26 * SECOND), SETTINGS)).toEqual({ kind: 'lookup' });
  });

  it('expires a claim that was never sent once older than the lost grace, and never in confirm mode', () => {
    const claimed = order('NEW');
    expect(decideReconciliation(claimed, undefined, at(60 * SECOND), SETTINGS)).toEqual({ kind: 'leave', outcome: 'unchanged' });
    const late = decideReconciliation(claimed, undefined, at(121 * SECOND), SETTINGS);
    expect(late).toMatchObject({ kind: 'apply', outcome: 'expired', events: [{ type: 'Expired', reason: 'claimed but never sent' }] });
    expect(decideReconciliation(claimed, undefined, at(121 * SECOND), { ...SETTINGS, mode: 'confirm' }).kind).toBe('leave');
  });

  it('books what the exchange reports, and leaves alone a report that brings nothing new', () => {
    const open = order('OPEN', { exchangeOrderId: 'X1' });
    expect(decideReconciliation(open, found('open', '0.4'), at(60 * SECOND), SETTINGS)).toMatchObject({ kind: 'apply', outcome: 'filled', events: [{ type: 'Reported' }] });
    expect(decideReconciliation(open, found('canceled', '0'), at(60 * SECOND), SETTINGS)).toMatchObject({ kind: 'apply', outcome: 'updated' });
    expect(decideReconciliation(open, found('open', '0'), at(60 * SECOND), SETTINGS)).toEqual({ kind: 'leave', outcome: 'unchanged' });
  });

  it('hands the commit the decision its events make on the order, so it is not made twice', () => {
    const open = order('OPEN', { exchangeOrderId: 'X1' });
    const action = decideReconciliation(open, found('open', '0.4'), at(60 * SECOND), SETTINGS);
    if (action.kind !== 'apply') throw new Error(`expected apply, got ${action.kind}`);
    expect(action.decision).toEqual(applyOrderEvents(open, action.events));
    expect(action.decision?.changed).toBe(true);
  });

  it('counts "not found" and declares the order lost only on the answer that completes the count over the grace', () => {
    const unknown = order('UNKNOWN');
    expect(decideReconciliation(unknown, { notFound: true }, at(60 * SECOND), SETTINGS)).toMatchObject({ outcome: 'not-found', events: [{ type: 'NotFound' }] });
    const third = order('UNKNOWN', { notFoundCount: 2, firstNotFoundAt: at(60 * SECOND).toISOString() });
    expect(decideReconciliation(third, { notFound: true }, at(120 * SECOND), SETTINGS)).toMatchObject({ outcome: 'not-found' });
    expect(decideReconciliation(third, { notFound: true }, at(180 * SECOND), SETTINGS)).toMatchObject({ outcome: 'lost', events: [{ type: 'NotFound' }, { type: 'Lost' }] });
    expect(decideReconciliation(third, { notFound: true }, at(180 * SECOND), { ...SETTINGS, mode: 'confirm' }).kind).toBe('leave');
  });

  it('looks up an ended order only while it is watched, books a late fill, and ends the watch when it is over (EXE-10)', () => {
    const until = at(LATE_FILL_WATCH_MS).toISOString();
    const canceled = order('CANCELED', { filled: '0.25', cost: '25', watchUntil: until });
    expect(decideReconciliation(order('CANCELED'), undefined, at(SECOND), SETTINGS)).toEqual({ kind: 'leave', outcome: 'unchanged' });
    expect(decideReconciliation(canceled, undefined, at(SECOND), SETTINGS)).toEqual({ kind: 'lookup' });
    expect(decideReconciliation(canceled, found('canceled', '0.5'), at(SECOND), SETTINGS)).toMatchObject({ kind: 'apply', outcome: 'late-fill', events: [{ type: 'LateFill' }] });
    expect(decideReconciliation(canceled, found('canceled', '0.25'), at(SECOND), SETTINGS)).toEqual({ kind: 'leave', outcome: 'unchanged' });
    expect(decideReconciliation(canceled, found('canceled', '0.25'), at(LATE_FILL_WATCH_MS), SETTINGS)).toMatchObject({ kind: 'apply', events: [{ type: 'WatchEnded' }] });
    expect(decideReconciliation(canceled, { notFound: true }, at(LATE_FILL_WATCH_MS), SETTINGS)).toMatchObject({ kind: 'apply', events: [{ type: 'WatchEnded' }] });
    const lost = order('FAILED', { watchUntil: until });
    expect(decideReconciliation(lost, found('open', '0'), at(SECOND), SETTINGS)).toMatchObject({ outcome: 'late-fill' });
  });
});

describe('An order declared lost twice', () => {
  it('books its recorded fill once: the second loss counts from what the first one booked (EXE-10)', () => {
    // Found with a fill, lost, reported open again without a new fill, lost again, then filled:
    // the second loss once booked the recorded 0.2 again (a book with no entry counted from zero).
    const open = found('open', '0.2');
    const missing = { remote: { notFound: true } as RemoteOrder, dt: 60 * SECOND };
    const { order: end, book } = run(order('OPEN', { amount: '2' }), [
      { remote: open, dt: 15 * SECOND },
      missing,
      missing,
      missing,
      { remote: open, dt: 15 * SECOND },
      missing,
      missing,
      missing,
      { remote: found('closed', '0.6'), dt: SETTINGS.settleMs },
    ]);
    expect(end.events.filter((e) => e.type === 'Lost')).toHaveLength(2);
    expect(end.state).toBe('FILLED');
    expect(end.filled).toBe('0.6');
    expect(book.positions['BTC/USDT']?.qty).toBe('0.6');
    expect(checkBook(book)).toEqual([]);
  });
});

/**
 * The reconciler's loop over a pure model of the stores: decide, apply the events, book the
 * fill, release when the aggregate says so, exactly as order-commit.ts does.
 */
function run(start: OrderRecord, observations: readonly { remote: RemoteOrder; dt: number }[]): { order: OrderRecord; book: AccountBook } {
  let local = start;
  let book = openBook('USDT', '1000', T0);
  let now = Date.parse(start.updatedAt);
  for (const { remote, dt } of observations) {
    now += dt;
    const action: ReconciliationAction = decideReconciliation(local, remote, new Date(now), SETTINGS);
    if (action.kind !== 'apply') continue;
    const decision = applyOrderEvents(local, action.events);
    if (decision.budget.book && dec(decision.budget.book.filled).gt(0)) {
      book = applyFill(book, { orderId: local.id, symbol: local.symbol, side: local.side, ...decision.budget.book }, new Date(now)) ?? book;
    }
    if (decision.changed) local = decision.next;
    if (decision.budget.release !== 'none') book = release(book, local.id, new Date(now)) ?? book;
  }
  return { order: local, book };
}

describe('Property: any interleaving of reports books the exchange\'s final fill exactly once', () => {
  /** An exchange order's life: cumulative fills that only grow, then a final status. */
  const life = fc
    .record({
      steps: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 5 }),
      final: fc.constantFrom('closed' as const, 'canceled' as const),
      withTrades: fc.boolean(),
    })
    .map(({ steps, final, withTrades }) => {
      // Tenths, at most 2 in all.
      const trades: OrderTrade[] = steps.map((n, i) => ({ id: `t${i + 1}`, amount: str(dec(String(n)).div(10)), cost: str(dec(String(n)).div(10).times(PRICE)), fees: [] }));
      // A canceled order keeps only part of its fills.
      const kept = final === 'canceled' ? trades.slice(0, Math.max(1, trades.length - 1)) : trades;
      const snapshots: RemoteOrder[] = kept.map((_, i) => {
        const upTo = kept.slice(0, i + 1);
        const filled = str(upTo.reduce((a, t) => a.plus(t.amount), new Decimal(0)));
        const last = i === kept.length - 1;
        const status = last ? final : 'open';
        // Trades as ccxt may list them: cumulative, sometimes with a duplicate entry.
        return found(status, filled, withTrades ? [...upTo, ...(i % 2 === 0 ? [upTo[0] as OrderTrade] : [])] : undefined);
      });
      return { snapshots, final: snapshots.at(-1) as RemoteOrder & { found: OrderReport } };
    });

  const observation = (snapshots: readonly RemoteOrder[]) =>
    fc.record({
      remote: fc.oneof(fc.constantFrom(...snapshots), fc.constant<RemoteOrder>({ notFound: true })),
      dt: fc.integer({ min: 0, max: 90 * SECOND }),
    });

  it('from UNKNOWN, OPEN or a cancel in flight, with stale, repeated and missing answers, and fills after the order was declared lost or canceled', () => {
    fc.assert(
      fc.property(
        life.chain((l) => fc.tuple(fc.constant(l), fc.array(observation(l.snapshots), { maxLength: 25 }), fc.constantFrom<OrderState>('UNKNOWN', 'OPEN', 'CANCEL_REQUESTED', 'SUBMITTING'))),
        ([l, observations, startState]) => {
          // Amount 2: the generated fills (tenths, at most 2 in all) never exceed it.
          const start = order(startState, { amount: '2', ...(startState === 'CANCEL_REQUESTED' ? { stateBeforeCancel: 'OPEN' as const } : {}) });
          // The final report reaches the reconciler at last (while a lost or canceled order is still watched).
          const { order: end, book } = run(start, [...observations, { remote: l.final, dt: SETTINGS.settleMs }]);
          const finalFill = l.final.found.filled;
          expect(end.filled).toBe(finalFill);
          expect(book.positions['BTC/USDT']?.qty ?? '0').toBe(finalFill);
          expect(checkBook(book)).toEqual([]);
        },
      ),
      { numRuns: 400 },
    );
  });
});
