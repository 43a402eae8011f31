/**
 * TST-1 / EXE-7: the budget ledger under any interleaving of reservations, cumulative partial
 * fills (bounded by the reservation), repeated fills, sells and releases over several orders.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InsufficientBudgetError } from '../../shared/domain/errors.js';
import { applyFill, checkBook, openBook, release, reserve, staleReservations, type AccountBook } from '../../shared/domain/account.js';
import { feeOf } from '../../shared/domain/fees.js';
import { Decimal, dec, str } from '../../shared/domain/money.js';
import { basisOf } from '../../shared/domain/position.js';

const AT = new Date('2026-05-01T12:00:00.000Z');
const OPENING = '10000';
const SYMBOLS = ['BTC/USDT', 'ETH/USDT'] as const;

/** A decimal string with `dp` decimals from an integer number of units. */
function units(n: number, dp: number): string {
  return str(new Decimal(n).div(new Decimal(10).pow(dp)));
}

interface BuyOrder {
  readonly id: string;
  readonly symbol: (typeof SYMBOLS)[number];
  readonly reserve: string;
  readonly price: string;
  readonly feeRate: string;
}

type Op =
  | { kind: 'reserve'; order: number }
  | { kind: 'fill'; order: number; step: number }
  | { kind: 'refill'; order: number }
  | { kind: 'release'; order: number }
  | { kind: 'sell'; symbol: number; share: number; price: number };

const buyOrder = (index: number) =>
  fc.record({
    symbol: fc.constantFrom(...SYMBOLS),
    reserve: fc.integer({ min: 1_00, max: 4000_00 }).map((n) => units(n, 2)),
    price: fc.integer({ min: 1_0000, max: 60000_0000 }).map((n) => units(n, 4)),
    feeRate: fc.constantFrom('0', '0.001', '0.00075', '0.002'),
  }).map((o): BuyOrder => ({ id: `tw-buy-${index}`, ...o }));

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('reserve' as const), order: fc.nat(3) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('fill' as const), order: fc.nat(3), step: fc.integer({ min: 1, max: 5 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('refill' as const), order: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('release' as const), order: fc.nat(3) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('sell' as const), symbol: fc.nat(1), share: fc.integer({ min: 1, max: 4 }), price: fc.integer({ min: 1_0000, max: 70000_0000 }) }) },
);

/** Every invariant of the book, plus the ones this test can check from outside. */
function assertSound(book: AccountBook, opening: string = OPENING): void {
  expect(checkBook(book)).toEqual([]);
  for (const field of ['available', 'reserved', 'committed', 'total'] as const) expect(dec(book[field]).gte(0), `${field} ${book[field]}`).toBe(true);
  const bases = Object.values(book.positions).reduce((sum, p) => sum.plus(basisOf(p)), new Decimal(0));
  expect(str(bases), 'committed = sum of position bases').toBe(str(dec(book.committed)));
  const realized = Object.values(book.positions).reduce((sum, p) => sum.plus(p.realizedPnl), new Decimal(0));
  expect(str(dec(book.total)), 'total = opening + realized PnL').toBe(str(dec(opening).plus(realized)));
  for (const p of Object.values(book.positions)) expect(dec(p.qty).gte(0), `spot position ${p.symbol} ${p.qty}`).toBe(true);
  for (const e of Object.values(book.orders)) {
    expect(dec(e.remaining).gte(0)).toBe(true);
    expect(dec(e.remaining).lte(e.reserved)).toBe(true);
  }
}

describe('Domain: budget ledger (account book)', () => {
  it('stays balanced, never negative and idempotent under any interleaving of reserve, fills, sells and release', () => {
    fc.assert(
      fc.property(fc.tuple(buyOrder(0), buyOrder(1), buyOrder(2), buyOrder(3)), fc.array(op, { minLength: 1, maxLength: 60 }), (orders, ops) => {
        let book = openBook('USDT', OPENING, AT);
        /** Cumulative fill steps per order (out of 5), and whether it was released. */
        const progress = orders.map(() => ({ steps: 0, released: false, reserved: false }));
        let sells = 0;
        const lastFill = new Map<string, Parameters<typeof applyFill>[1]>();

        for (const o of ops) {
          if (o.kind === 'reserve') {
            const order = orders[o.order] as BuyOrder;
            const state = progress[o.order] as (typeof progress)[number];
            if (state.released) continue;
            const enough = dec(book.available).gte(order.reserve);
            try {
              const next = reserve(book, { orderId: order.id, symbol: order.symbol, side: 'buy', amount: order.reserve }, AT);
              if (state.reserved) expect(next).toBeNull();
              else expect(enough).toBe(true);
              book = next ?? book;
              state.reserved = true;
            } catch (error) {
              expect(error).toBeInstanceOf(InsufficientBudgetError);
              expect(enough).toBe(false);
            }
          } else if (o.kind === 'fill') {
            const order = orders[o.order] as BuyOrder;
            const state = progress[o.order] as (typeof progress)[number];
            // Fills come before the release (order-commit's contract) and only for a reserved order.
            if (!state.reserved || state.released || state.steps >= 5) continue;
            state.steps = Math.min(5, state.steps + o.step);
            // The most the reservation buys at this price and fee, truncated to 8 decimals; a
            // cumulative fill is steps/5 of that: cost + fee never exceeds the reservation.
            const most = dec(order.reserve).div(dec(order.price).times(dec(order.feeRate).plus(1))).toDecimalPlaces(8, Decimal.ROUND_DOWN);
            const filled = most.times(state.steps).div(5).toDecimalPlaces(8, Decimal.ROUND_DOWN);
            if (filled.isZero()) continue;
            const cost = filled.times(order.price);
            const fill = { orderId: order.id, symbol: order.symbol, side: 'buy' as const, filled: str(filled), cost: str(cost), fees: feeOf('USDT', str(cost.times(order.feeRate))) };
            const before = book.orders[order.id];
            const next = applyFill(book, fill, AT);
            if (before && dec(before.filled).gte(filled)) expect(next).toBeNull();
            book = next ?? book;
            lastFill.set(order.id, fill);
            expect(dec(book.orders[order.id]?.remaining ?? '0').gte(0)).toBe(true);
          } else if (o.kind === 'refill') {
            const order = orders[o.order] as BuyOrder;
            const fill = lastFill.get(order.id);
            if (!fill || progress[o.order]?.released) continue;
            // Re-applying the same cumulative fill (a redelivery, a reconciler pass) is a no-op.
            expect(applyFill(book, fill, AT)).toBeNull();
          } else if (o.kind === 'release') {
            const order = orders[o.order] as BuyOrder;
            const state = progress[o.order] as (typeof progress)[number];
            const entry = book.orders[order.id];
            const next = release(book, order.id, AT);
            if (!entry) expect(next).toBeNull();
            else {
              expect(next).not.toBeNull();
              expect(dec(next?.available ?? '0').minus(book.available).eq(entry.remaining)).toBe(true);
              expect(next?.orders[order.id]).toBeUndefined();
              // A second release changes nothing.
              expect(release(next as AccountBook, order.id, AT)).toBeNull();
            }
            book = next ?? book;
            if (state.reserved) state.released = true;
          } else {
            const symbol = SYMBOLS[o.symbol] as string;
            const held = dec(book.positions[symbol]?.qty ?? '0');
            const qty = held.times(o.share).div(4).toDecimalPlaces(8, Decimal.ROUND_DOWN);
            if (qty.isZero()) continue;
            sells += 1;
            const cost = qty.times(units(o.price, 4));
            const fill = { orderId: `tw-sell-${sells}`, symbol, side: 'sell' as const, filled: str(qty), cost: str(cost), fees: feeOf('USDT', str(cost.times('0.001'))) };
            book = applyFill(book, fill, AT) ?? book;
            expect(applyFill(book, fill, AT)).toBeNull();
            // A sell holds no reservation: its entry only remembers the fill; release drops it.
            book = release(book, fill.orderId, AT) ?? book;
          }
          assertSound(book);
        }
        // Releasing every order leaves nothing reserved and every unit of quote accounted for.
        for (const order of orders) book = release(book, order.id, AT) ?? book;
        assertSound(book);
        expect(book.reserved).toBe('0');
        expect(Object.keys(book.orders)).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('returns every unit to available after a full round trip: committed is exactly zero when all positions are flat', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            qty: fc.integer({ min: 1, max: 10 ** 8 }).map((n) => units(n, 8)),
            buy: fc.integer({ min: 1, max: 10 ** 9 }).map((n) => units(n, 4)),
            sell: fc.integer({ min: 1, max: 10 ** 9 }).map((n) => units(n, 4)),
            parts: fc.integer({ min: 1, max: 3 }),
          }),
          { minLength: 1, maxLength: 8 },
        ),
        (trips) => {
          const opening = '1000000000';
          let book = openBook('USDT', opening, AT);
          trips.forEach((t, i) => {
            const cost = dec(t.qty).times(t.buy);
            book = applyFill(book, { orderId: `b${i}`, symbol: 'BTC/USDT', side: 'buy', filled: t.qty, cost: str(cost), fees: feeOf('USDT', str(cost.times('0.001'))) }, AT) ?? book;
            book = release(book, `b${i}`, AT) ?? book;
          });
          // Sell everything in uneven pieces: each piece closes a rounded share of the basis,
          // the last one closes exactly what is left.
          const held = dec(book.positions['BTC/USDT']?.qty ?? '0');
          const pieces = trips[0]?.parts ?? 1;
          let sold = new Decimal(0);
          for (let p = 1; p <= pieces; p += 1) {
            const upTo = p === pieces ? held : held.times(p).div(pieces + 1).toDecimalPlaces(8, Decimal.ROUND_DOWN);
            const qty = upTo.minus(sold);
            if (qty.lte(0)) continue;
            sold = upTo;
            const cost = qty.times(trips[p % trips.length]?.sell ?? '1');
            book = applyFill(book, { orderId: `s${p}`, symbol: 'BTC/USDT', side: 'sell', filled: str(qty), cost: str(cost), fees: feeOf('USDT', str(cost.times('0.001'))) }, AT) ?? book;
            book = release(book, `s${p}`, AT) ?? book;
            assertSound(book, opening);
          }
          expect(book.positions['BTC/USDT']?.qty).toBe('0');
          expect(book.committed).toBe('0');
          expect(book.available).toBe(book.total);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('lists as stale only reservations older than the bound', () => {
    let book = openBook('USDT', '1000', AT);
    book = reserve(book, { orderId: 'old', symbol: 'BTC/USDT', side: 'buy', amount: '10' }, new Date(AT.getTime() - 901_000)) ?? book;
    book = reserve(book, { orderId: 'new', symbol: 'BTC/USDT', side: 'buy', amount: '10' }, new Date(AT.getTime() - 1_000)) ?? book;
    expect(staleReservations(book, AT, 900_000)).toEqual(['old']);
  });

  it('refuses a reservation larger than what is available and leaves the book untouched', () => {
    const book = openBook('USDT', '100', AT);
    expect(() => reserve(book, { orderId: 'x', symbol: 'BTC/USDT', side: 'buy', amount: '100.01' }, AT)).toThrow(InsufficientBudgetError);
    expect(() => reserve(book, { orderId: 'x', symbol: 'BTC/USDT', side: 'buy', amount: '-1' }, AT)).toThrow(InsufficientBudgetError);
    expect(checkBook(book)).toEqual([]);
  });
});
