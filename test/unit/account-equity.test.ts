/**
 * The book's mark-to-market equity (EXE-8): cash, positions at their prices (or average price)
 * and fee-asset holdings. Flat positions are skipped at a plain price; the value must be what the
 * full sum gives, whatever the positions and price texts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { equity, openBook, type AccountBook } from '../../shared/domain/account.js';
import { Decimal, dec, str } from '../../shared/domain/money.js';

const AT = new Date('2026-05-01T12:00:00.000Z');

/** The sum spelled out: every position multiplied out, then the holdings. */
function fullSum(book: AccountBook, prices: Readonly<Record<string, string>>): string {
  let value = dec(book.available).plus(dec(book.reserved));
  for (const p of Object.values(book.positions)) value = value.plus(dec(p.qty).times(dec(prices[p.symbol] ?? p.avgPrice)));
  for (const h of Object.values(book.holdings ?? {})) {
    const price = prices[`${h.asset}/${book.currency}`];
    value = value.plus(price !== undefined ? dec(h.qty).times(dec(price)) : dec(h.basis));
  }
  return str(value);
}

const amount = fc.integer({ min: 0, max: 10 ** 10 }).map((n) => str(new Decimal(n).div(10 ** 6)));
const qty = fc.oneof(fc.constantFrom('0', '0.000', '-0', '0e3'), amount, amount.map((a) => (a === '0' ? a : `-${a}`)));
const price = fc.option(fc.oneof(amount, fc.constantFrom('1e3', '2.5e-2', '61000.10')), { nil: undefined });

describe('Function: equity', () => {
  it('equals cash plus every position and holding at its price, flat positions included (property)', () => {
    fc.assert(
      fc.property(amount, amount, fc.array(fc.tuple(qty, amount, price), { minLength: 0, maxLength: 8 }), fc.option(fc.tuple(amount, amount, price), { nil: undefined }), (available, reserved, positions, bnb) => {
        const symbols = positions.map((_, i) => `C${i}/USDT`);
        const book: AccountBook = {
          ...openBook('USDT', '100000', AT),
          available,
          reserved,
          positions: Object.fromEntries(positions.map(([q, avg], i) => [symbols[i]!, { symbol: symbols[i]!, qty: q, avgPrice: avg, realizedPnl: '0', basis: '0' }])),
          ...(bnb === undefined ? {} : { holdings: { BNB: { asset: 'BNB', qty: bnb[0], basis: bnb[1], realizedPnl: '0' } } }),
        };
        const prices: Record<string, string> = {};
        positions.forEach(([, , p], i) => {
          if (p !== undefined) prices[symbols[i]!] = p;
        });
        if (bnb?.[2] !== undefined) prices['BNB/USDT'] = bnb[2];
        expect(equity(book, prices)).toBe(fullSum(book, prices));
      }),
      { numRuns: 1000 },
    );
  });

  it('still refuses a price that is not a number, flat position or not', () => {
    const book: AccountBook = { ...openBook('USDT', '100', AT), positions: { 'BTC/USDT': { symbol: 'BTC/USDT', qty: '0', avgPrice: '0', realizedPnl: '0', basis: '0' } } };
    expect(() => equity(book, { 'BTC/USDT': 'not a price' })).toThrow();
    expect(equity(book, { 'BTC/USDT': '61000' })).toBe('100');
  });
});
