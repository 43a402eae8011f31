/**
 * EXE-12 / TST-1: the ledger with fees charged in the quote currency, in the coin traded and in
 * a third asset (BNB), mixed in any order, partially filled and reported twice.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyFill, checkBook, depositHolding, equity, openBook, release, reserve, type AccountBook } from '../../shared/domain/account.js';
import { ValidationError } from '../../shared/domain/errors.js';
import { feeDeltas, feeIn, normalizeFees, type FeeAmount } from '../../shared/domain/fees.js';
import { Decimal, dec, str } from '../../shared/domain/money.js';
import { basisOf } from '../../shared/domain/position.js';

const AT = new Date('2026-05-01T12:00:00.000Z');
const OPENING = '100000';
const SYMBOL = 'BTC/USDT';
const RATE = '0.001';

type FeeAsset = 'USDT' | 'BTC' | 'BNB';

/** What a fill's fee is in a given currency, the way an exchange computes it. */
function feeFor(asset: FeeAsset, qty: Decimal, cost: Decimal, bnbPrice: string): FeeAmount[] {
  const amount =
    asset === 'USDT' ? cost.times(RATE) : asset === 'BTC' ? qty.times(RATE).toDecimalPlaces(8, Decimal.ROUND_UP) : cost.times(RATE).div(bnbPrice).toDecimalPlaces(8, Decimal.ROUND_UP);
  return [{ currency: asset, amount: str(amount) }];
}

/** Every invariant, from the inside and from the outside. */
function assertSound(book: AccountBook, deposited: Decimal): void {
  expect(checkBook(book)).toEqual([]);
  for (const field of ['available', 'reserved', 'committed', 'total'] as const) expect(dec(book[field]).gte(0), `${field} ${book[field]}`).toBe(true);
  const holdings = Object.values(book.holdings ?? {});
  const bases = Object.values(book.positions)
    .reduce((sum, p) => sum.plus(basisOf(p)), new Decimal(0))
    .plus(holdings.reduce((sum, h) => sum.plus(h.basis), new Decimal(0)));
  expect(str(bases), 'committed = position bases + holding bases').toBe(str(dec(book.committed)));
  const realized = Object.values(book.positions)
    .reduce((sum, p) => sum.plus(p.realizedPnl), new Decimal(0))
    .plus(holdings.reduce((sum, h) => sum.plus(h.realizedPnl), new Decimal(0)));
  expect(str(dec(book.total)), 'total = opening + deposits + realized PnL').toBe(str(dec(OPENING).plus(deposited).plus(realized)));
  for (const p of Object.values(book.positions)) expect(dec(p.qty).gte(0), `spot position ${p.qty}`).toBe(true);
}

const trade = fc.record({
  side: fc.constantFrom('buy' as const, 'sell' as const),
  feeAsset: fc.constantFrom<FeeAsset>('USDT', 'BTC', 'BNB'),
  qty: fc.integer({ min: 1_000, max: 5 * 10 ** 6 }).map((n) => str(new Decimal(n).div(10 ** 8))),
  price: fc.integer({ min: 20_000_00, max: 90_000_00 }).map((n) => str(new Decimal(n).div(100))),
  bnbPrice: fc.integer({ min: 100_00, max: 900_00 }).map((n) => str(new Decimal(n).div(100))),
  parts: fc.integer({ min: 1, max: 3 }),
});

describe('Domain: fees per currency in the ledger', () => {
  it('stays balanced, holds exactly what the fees left, and books each cumulative report once, whatever currency each fee is in', () => {
    fc.assert(
      fc.property(fc.array(trade, { minLength: 1, maxLength: 25 }), fc.integer({ min: 0, max: 50 }), (trades, bnbUnits) => {
        // Prepare: cash and some BNB to pay fees with (possibly none: the holding may go short).
        const deposit = str(new Decimal(bnbUnits).div(10));
        let book = depositHolding(openBook('USDT', OPENING, AT), 'BNB', deposit, '300', AT);
        const deposited = dec(deposit).times('300');
        let btcHeld = new Decimal(0);
        let bnbHeld = dec(deposit);
        assertSound(book, deposited);

        trades.forEach((t, i) => {
          const id = `tw-${i}`;
          let qty = dec(t.qty);
          if (t.side === 'sell') {
            // Sell at most what the position holds, leaving room for a base-coin fee.
            qty = Decimal.min(qty, btcHeld.div('1.002').toDecimalPlaces(8, Decimal.ROUND_DOWN));
            if (qty.lte(0)) return;
          } else {
            book = reserve(book, { orderId: id, symbol: SYMBOL, side: 'buy', amount: str(qty.times(t.price).times('1.002')) }, AT) ?? book;
          }
          // Act: the fill arrives in `parts` cumulative reports, each one reported twice.
          for (let part = 1; part <= t.parts; part += 1) {
            const filled = part === t.parts ? qty : qty.times(part).div(t.parts).toDecimalPlaces(8, Decimal.ROUND_DOWN);
            if (filled.isZero()) continue;
            const cost = filled.times(t.price);
            const fill = { orderId: id, symbol: SYMBOL, side: t.side, filled: str(filled), cost: str(cost), fees: feeFor(t.feeAsset, filled, cost, t.bnbPrice), feePrices: { BNB: t.bnbPrice } };
            book = applyFill(book, fill, AT) ?? book;
            expect(applyFill(book, fill, AT), 'a report booked twice').toBeNull();
            assertSound(book, deposited);
          }
          const fees = feeFor(t.feeAsset, qty, qty.times(t.price), t.bnbPrice);
          const baseFee = dec(feeIn(fees, 'BTC'));
          btcHeld = t.side === 'buy' ? btcHeld.plus(qty).minus(baseFee) : btcHeld.minus(qty).minus(baseFee);
          bnbHeld = bnbHeld.minus(feeIn(fees, 'BNB'));
          book = release(book, id, AT) ?? book;

          // Assess: the book holds what the exchange would, coin by coin.
          expect(str(dec(book.positions[SYMBOL]?.qty ?? '0')), 'BTC held').toBe(str(btcHeld));
          expect(str(dec(book.holdings?.BNB?.qty ?? '0')), 'BNB held').toBe(str(bnbHeld));
          assertSound(book, deposited);
        });
      }),
      { numRuns: 200 },
    );
  });

  it('lowers the quantity bought by a base-coin fee and keeps what was paid as the basis', () => {
    const book = applyFill(openBook('USDT', '1000', AT), { orderId: 'b', symbol: SYMBOL, side: 'buy', filled: '0.01', cost: '500', fees: [{ currency: 'BTC', amount: '0.00001' }] }, AT);
    expect(book?.positions[SYMBOL]).toMatchObject({ qty: '0.00999', basis: '500' });
    expect(book).toMatchObject({ available: '500', committed: '500', total: '1000' });
  });

  it('pays a BNB fee from the BNB holding, valued at the fill-time price, and realizes the holding gain', () => {
    // Prepare: 1 BNB bought at 300.
    const start = depositHolding(openBook('USDT', '1000', AT), 'BNB', '1', '300', AT);

    // Act: a 500 USDT buy with a 0.0125 BNB fee while BNB trades at 400 (a 5 USDT fee).
    const book = applyFill(start, { orderId: 'b', symbol: SYMBOL, side: 'buy', filled: '0.01', cost: '500', fees: [{ currency: 'BNB', amount: '0.0125' }], feePrices: { BNB: '400' } }, AT);

    // Assess
    expect(book?.positions[SYMBOL]).toMatchObject({ qty: '0.01', basis: '505' });
    expect(book?.holdings?.BNB).toMatchObject({ qty: '0.9875', basis: '296.25', realizedPnl: '1.25' });
    expect(book).toMatchObject({ available: '500', committed: '801.25', total: '1301.25' });
    expect(checkBook(book as AccountBook)).toEqual([]);
    expect(equity(book as AccountBook, { 'BTC/USDT': '50000', 'BNB/USDT': '400' })).toBe('1395');
  });

  it('values a BNB fee at the holding cost when no price is known', () => {
    const start = depositHolding(openBook('USDT', '1000', AT), 'BNB', '2', '300', AT);
    const book = applyFill(start, { orderId: 'b', symbol: SYMBOL, side: 'buy', filled: '0.01', cost: '500', fees: [{ currency: 'BNB', amount: '0.01' }] }, AT);
    expect(book?.positions[SYMBOL]?.basis).toBe('503');
    expect(book?.holdings?.BNB).toMatchObject({ qty: '1.99', basis: '597', realizedPnl: '0' });
  });

  it('refuses a base-coin fee that eats the whole fill, with the book unchanged', () => {
    const start = openBook('USDT', '1000', AT);
    expect(() => applyFill(start, { orderId: 'b', symbol: SYMBOL, side: 'buy', filled: '0.01', cost: '500', fees: [{ currency: 'BTC', amount: '0.01' }] }, AT)).toThrow(ValidationError);
    expect(() => depositHolding(start, 'USDT', '1', '1', AT)).toThrow(ValidationError);
  });

  it('keeps fees in canonical form and takes per-currency differences', () => {
    expect(normalizeFees([{ currency: 'BNB', amount: '0.1' }, { currency: 'BTC', amount: '0' }, { currency: 'BNB', amount: '0.2' }, { currency: 'ADA', amount: '1' }])).toEqual([
      { currency: 'ADA', amount: '1' },
      { currency: 'BNB', amount: '0.3' },
    ]);
    expect(feeDeltas([{ currency: 'BNB', amount: '0.3' }, { currency: 'USDT', amount: '1' }], [{ currency: 'BNB', amount: '0.1' }])).toEqual([
      { currency: 'BNB', amount: '0.2' },
      { currency: 'USDT', amount: '1' },
    ]);
    expect(() => normalizeFees([{ currency: 'bnb', amount: '1' }])).toThrow(ValidationError);
    expect(() => normalizeFees([{ currency: 'BNB', amount: '1e5' }])).toThrow(ValidationError);
  });

  it('takes a single canonical fee as its own total, as the sum over currencies gives it', () => {
    // The sum over currencies, as normalizeFees and feeIn define it (their short ways must agree).
    const summed = (fees: readonly FeeAmount[]): FeeAmount[] => {
      const totals = new Map<string, Decimal>();
      for (const fee of fees) totals.set(fee.currency, (totals.get(fee.currency) ?? new Decimal(0)).plus(dec(fee.amount)));
      return [...totals.entries()].filter(([, a]) => !a.isZero()).sort(([a], [b]) => (a < b ? -1 : 1)).map(([currency, a]) => ({ currency, amount: str(a) }));
    };
    const inCurrency = (fees: readonly FeeAmount[], currency: string) => str(fees.filter((f) => f.currency === currency).reduce((t, f) => t.plus(dec(f.amount)), new Decimal(0)));
    const amount = fc.oneof(fc.constantFrom('0', '-0', '0.0', '0.10', '1', '-0.25', '007', '12.000000000000000001'), fc.double({ min: -1e6, max: 1e6, noNaN: true }).map((n) => str(new Decimal(n).toDecimalPlaces(12))));
    const fee = fc.record({ currency: fc.constantFrom('BNB', 'BTC', 'USDT'), amount });
    fc.assert(
      fc.property(fc.array(fee, { maxLength: 3 }), (fees) => {
        expect(normalizeFees(fees)).toEqual(summed(fees));
        for (const currency of ['BNB', 'BTC', 'USDT']) expect(feeIn(fees, currency)).toBe(inCurrency(fees, currency));
        expect(feeDeltas(fees, [])).toEqual(summed(fees));
      }),
      { numRuns: 1000 },
    );
  });
});
