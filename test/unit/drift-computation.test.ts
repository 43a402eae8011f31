import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyFill, depositHolding, openBook, reserve, type AccountBook } from '../../shared/domain/account.js';
import { assertThresholds, computeDrift, driftLevel, localHolding, trackedAssets } from '../../shared/domain/drift.js';
import { ConfigError } from '../../shared/domain/errors.js';
import { Decimal, str } from '../../shared/domain/money.js';
import type { Position } from '../../shared/domain/position.js';

const AT = new Date('2026-01-01T00:00:00Z');
const THRESHOLDS = { alarmQuote: '10', pauseQuote: '100' };

/** A book of 10000 USDT that bought 0.01 BTC for 600 + 0.6 fee and holds a 100 USDT reservation for an ETH buy. */
function tradedBook(): AccountBook {
  let book = openBook('USDT', '10000', AT);
  book = reserve(book, { orderId: 'b1', symbol: 'BTC/USDT', side: 'buy', amount: '700' }, AT) ?? book;
  book = applyFill(book, { orderId: 'b1', symbol: 'BTC/USDT', side: 'buy', filled: '0.01', cost: '600', fees: [{ currency: 'USDT', amount: '0.6' }] }, AT) ?? book;
  book = reserve(book, { orderId: 'e1', symbol: 'ETH/USDT', side: 'buy', amount: '100' }, AT) ?? book;
  return book;
}

/** What the exchange holds for `tradedBook`: the ETH buy rests, its funds in `used`. */
const MATCHING = { USDT: { total: '9399.4' }, BTC: { total: '0.01' } };
const PRICES = { 'BTC/USDT': '61000', 'ETH/USDT': '3000' };

describe('Function: computeDrift', () => {
  it('compares the BNB holding that pays fees and the position net of a base-coin fee with the exchange', () => {
    // Prepare: 1 BNB held for fees; a BTC buy paid its fee in BNB, an ETH buy in ETH.
    let book = depositHolding(openBook('USDT', '10000', AT), 'BNB', '1', '300', AT);
    book = applyFill(book, { orderId: 'b1', symbol: 'BTC/USDT', side: 'buy', filled: '0.01', cost: '600', fees: [{ currency: 'BNB', amount: '0.002' }], feePrices: { BNB: '300' } }, AT) ?? book;
    book = applyFill(book, { orderId: 'e1', symbol: 'ETH/USDT', side: 'buy', filled: '0.1', cost: '300', fees: [{ currency: 'ETH', amount: '0.0001' }] }, AT) ?? book;
    const exchange = { USDT: { total: '9100' }, BTC: { total: '0.01' }, ETH: { total: '0.0999' }, BNB: { total: '0.998' } };
    const prices = { ...PRICES, 'BNB/USDT': '310' };

    // Act
    const matching = computeDrift({ book, balances: exchange, prices, watchlist: ['BTC/USDT', 'ETH/USDT'], thresholds: THRESHOLDS });
    const bnbMissing = computeDrift({ book, balances: { ...exchange, BNB: { total: '0.9' } }, prices, watchlist: ['BTC/USDT', 'ETH/USDT'], thresholds: THRESHOLDS });

    // Assess
    expect(matching.assets.map((a) => a.asset)).toEqual(['USDT', 'BNB', 'BTC', 'ETH']);
    expect(matching).toMatchObject({ quote: '0', level: 'ok' });
    expect(bnbMissing.assets.find((a) => a.asset === 'BNB')).toMatchObject({ local: '0.998', exchange: '0.9', quote: '30.38' });
    expect(bnbMissing.level).toBe('alarm');
  });

  it('finds no drift when cash and positions match the exchange', () => {
    // Act
    const drift = computeDrift({ book: tradedBook(), balances: MATCHING, prices: PRICES, watchlist: ['BTC/USDT', 'ETH/USDT'], thresholds: THRESHOLDS });

    // Assess
    expect(drift.quote).toBe('0');
    expect(drift.level).toBe('ok');
    expect(drift.assets.map((a) => a.asset)).toEqual(['USDT', 'BTC', 'ETH']);
    expect(drift.assets[0]).toMatchObject({ local: '9399.4', exchange: '9399.4', difference: '0' });
  });

  it('values a fill booked on the exchange only as the sum of its cash and position differences', () => {
    // Prepare: the exchange bought 0.001 BTC for 61 + 0.061 fee that the book never saw.
    const balances = { USDT: { total: '9338.339' }, BTC: { total: '0.011' } };

    // Act
    const drift = computeDrift({ book: tradedBook(), balances, prices: PRICES, watchlist: ['BTC/USDT'], thresholds: THRESHOLDS });

    // Assess: 61.061 of cash plus 0.001 x 61000 of BTC, never netted to the fee alone.
    expect(drift.assets.find((a) => a.asset === 'USDT')).toMatchObject({ difference: '-61.061', quote: '61.061' });
    expect(drift.assets.find((a) => a.asset === 'BTC')).toMatchObject({ difference: '0.001', price: '61000', quote: '61' });
    expect(drift.quote).toBe('122.061');
    expect(drift.level).toBe('pause');
  });

  it('reports an external deposit of quote as drift of its amount', () => {
    // Act
    const drift = computeDrift({ book: tradedBook(), balances: { ...MATCHING, USDT: { total: '9449.4' } }, prices: PRICES, watchlist: ['BTC/USDT'], thresholds: THRESHOLDS });

    // Assess
    expect(drift.quote).toBe('50');
    expect(drift.level).toBe('alarm');
  });

  it('values a base asset without a ticker at its position price, and leaves an unheld one unpriced', () => {
    // Prepare: no tickers at all; SOL is watched, not held, and the exchange has some.
    const balances = { ...MATCHING, BTC: { total: '0.02' }, SOL: { total: '1' } };

    // Act
    const drift = computeDrift({ book: tradedBook(), balances, prices: {}, watchlist: ['BTC/USDT', 'SOL/USDT'], thresholds: THRESHOLDS });

    // Assess: 0.01 BTC at the average entry 60060 (fee included)
    expect(drift.assets.find((a) => a.asset === 'BTC')).toMatchObject({ price: '60060', quote: '600.6' });
    expect(drift.unpriced).toEqual(['SOL']);
    expect(drift.assets.find((a) => a.asset === 'SOL')).not.toHaveProperty('quote');
    expect(drift.quote).toBe('600.6');
  });

  it('ignores exchange assets that are neither watched nor held', () => {
    // Act
    const drift = computeDrift({ book: tradedBook(), balances: { ...MATCHING, BNB: { total: '3' } }, prices: PRICES, watchlist: ['BTC/USDT'], thresholds: THRESHOLDS });

    // Assess
    expect(drift.assets.map((a) => a.asset)).not.toContain('BNB');
    expect(drift.level).toBe('ok');
  });

  it('counts an asset the exchange does not list as held at zero', () => {
    // Act
    const drift = computeDrift({ book: tradedBook(), balances: { USDT: { total: '9399.4' } }, prices: PRICES, watchlist: ['BTC/USDT'], thresholds: THRESHOLDS });

    // Assess
    expect(drift.assets.find((a) => a.asset === 'BTC')).toMatchObject({ exchange: '0', difference: '-0.01', quote: '610' });
  });
});

describe('Function: driftLevel', () => {
  it.each([
    ['0', 0, 'ok'],
    ['10', 0, 'ok'],
    ['10.000001', 0, 'alarm'],
    ['100', 0, 'alarm'],
    ['100.01', 0, 'pause'],
    ['0', 1, 'alarm'],
  ] as const)('rates a drift of %s with %i unpriced asset(s) as %s', (quote, unpriced, level) => {
    expect(driftLevel(quote, unpriced, THRESHOLDS)).toBe(level);
  });
});

describe('Function: trackedAssets and localHolding', () => {
  it('tracks the quote, watched bases and held bases of the same quote only', () => {
    // Prepare
    const book = tradedBook();

    // Act
    const assets = trackedAssets(book, ['SOL/USDT', 'ETH/BTC', 'BTC/USDT']);

    // Assess
    expect(assets).toEqual(['USDT', 'BTC', 'SOL']);
    expect(localHolding(book, 'USDT')).toBe('9399.4');
    expect(localHolding(book, 'BTC')).toBe('0.01');
    expect(localHolding(book, 'SOL')).toBe('0');
  });

  it('sums every position of an asset in the book\'s currency and its fee holding, whatever the book', () => {
    const symbol = fc.tuple(fc.constantFrom('BTC', 'ETH', 'BNB', 'USDT'), fc.constantFrom('USDT', 'BTC')).map(([b, q]) => `${b}/${q}`);
    const qty = fc.tuple(fc.boolean(), fc.nat({ max: 10 ** 9 }), fc.nat({ max: 8 })).map(([neg, n, scale]) => str(new Decimal(n).div(10 ** scale).times(neg ? -1 : 1)));
    fc.assert(
      fc.property(fc.dictionary(symbol, qty, { maxKeys: 6 }), fc.option(qty, { nil: undefined }), (positions, bnb) => {
        const book: AccountBook = {
          ...openBook('USDT', '1000', AT),
          positions: Object.fromEntries(Object.entries(positions).map(([s, q]): [string, Position] => [s, { symbol: s, qty: q, avgPrice: '1', realizedPnl: '0' }])),
          ...(bnb === undefined ? {} : { holdings: { BNB: { asset: 'BNB', qty: bnb, basis: '0', realizedPnl: '0' } } }),
        };
        for (const asset of ['USDT', 'BTC', 'ETH', 'BNB', 'SOL']) {
          // The plain rule: each matching position's quantity, then the holding.
          let expected = new Decimal(0);
          for (const [s, p] of Object.entries(book.positions)) if (s === `${asset}/USDT`) expected = expected.plus(p.qty);
          if (asset === 'BNB' && bnb !== undefined) expected = expected.plus(bnb);
          expect(localHolding(book, asset)).toBe(asset === 'USDT' ? '1000' : str(expected));
        }
        const drift = computeDrift({ book, balances: {}, prices: {}, watchlist: Object.keys(positions), thresholds: THRESHOLDS });
        for (const a of drift.assets) expect(a.local).toBe(localHolding(book, a.asset));
      }),
      { numRuns: 300 },
    );
  });
});

describe('Function: assertThresholds', () => {
  it('accepts the defaults and refuses an alarm above the pause or a malformed value', () => {
    expect(() => assertThresholds(THRESHOLDS)).not.toThrow();
    expect(() => assertThresholds({ alarmQuote: '200', pauseQuote: '100' })).toThrow(ConfigError);
    expect(() => assertThresholds({ alarmQuote: '-1', pauseQuote: '100' })).toThrow(ConfigError);
    expect(() => assertThresholds({ alarmQuote: 'ten', pauseQuote: '100' })).toThrow(ConfigError);
  });
});

describe('Function: computeDrift with an external baseline (REC-7)', () => {
  /** The traded book whose account also holds 5000 USDT and 0.5 BTC of the owner's. */
  const withOwnersCoins = (): AccountBook => ({ ...tradedBook(), baselines: { USDT: '5000', BTC: '0.5' } });
  const OWNER = { USDT: { total: '14399.4' }, BTC: { total: '0.51' } };

  it('expects the book plus the baseline: the owner\'s holdings of tracked assets are no drift', () => {
    const drift = computeDrift({ book: withOwnersCoins(), balances: OWNER, prices: PRICES, watchlist: ['BTC/USDT', 'ETH/USDT'], thresholds: THRESHOLDS });
    expect(drift).toMatchObject({ quote: '0', level: 'ok' });
    expect(drift.assets[0]).toMatchObject({ asset: 'USDT', local: '9399.4', exchange: '14399.4', baseline: '5000', difference: '0' });
    // Without the baseline the same account is 5000 USDT and 0.5 BTC of drift.
    expect(computeDrift({ book: tradedBook(), balances: OWNER, prices: PRICES, watchlist: ['BTC/USDT', 'ETH/USDT'], thresholds: THRESHOLDS }).level).toBe('pause');
  });

  it('counts a difference from book + baseline either way in exclusive mode', () => {
    const more = computeDrift({ book: withOwnersCoins(), balances: { ...OWNER, USDT: { total: '14449.4' } }, prices: PRICES, watchlist: ['BTC/USDT'], thresholds: THRESHOLDS });
    const less = computeDrift({ book: withOwnersCoins(), balances: { ...OWNER, USDT: { total: '14349.4' } }, prices: PRICES, watchlist: ['BTC/USDT'], thresholds: THRESHOLDS });
    expect(more).toMatchObject({ quote: '50', level: 'alarm' });
    expect(less).toMatchObject({ quote: '50', level: 'alarm' });
  });

  it('values every asset as exchange - (book + baseline) at its price, whether the two agree or not (property)', () => {
    // Amounts with up to 6 decimals; an exchange total that is the book's own text, another
    // writing of it (trailing zeros), or another amount; a baseline or none; a price or none.
    const amount = fc.integer({ min: 0, max: 10 ** 9 }).map((n) => str(new Decimal(n).div(10 ** 6)));
    const total = (local: string) => fc.oneof(fc.constant(local), fc.constant(local.includes('.') ? `${local}00` : `${local}.000`), amount);
    const price = fc.option(fc.integer({ min: 1, max: 10 ** 8 }).map((n) => str(new Decimal(n).div(100))), { nil: undefined });
    const input = fc
      .record({ cash: amount, reserved: amount, btc: amount, eth: amount, bnb: fc.option(amount, { nil: undefined }), baseline: fc.option(amount, { nil: undefined }), mode: fc.constantFrom('exclusive' as const, 'shared' as const), btcPrice: price, bnbPrice: price })
      .chain((r) => {
        const book: AccountBook = {
          ...openBook('USDT', '100000', AT),
          available: r.cash,
          reserved: r.reserved,
          positions: { 'BTC/USDT': { symbol: 'BTC/USDT', qty: r.btc, avgPrice: '0', realizedPnl: '0', basis: '0' }, 'ETH/USDT': { symbol: 'ETH/USDT', qty: r.eth, avgPrice: '0', realizedPnl: '0', basis: '0' } },
          ...(r.bnb === undefined ? {} : { holdings: { BNB: { asset: 'BNB', qty: r.bnb, basis: '0', realizedPnl: '0' } } }),
          ...(r.baseline === undefined ? {} : { baselines: { BTC: r.baseline } }),
        };
        const assets = trackedAssets(book, ['BTC/USDT']);
        return fc.tuple(fc.constant(book), fc.tuple(...assets.map((a) => total(localHolding(book, a)))).map((totals) => Object.fromEntries(assets.map((a, i) => [a, { total: totals[i]! }]))), fc.constant(r));
      });
    fc.assert(
      fc.property(input, ([book, balances, r]) => {
        const prices: Record<string, string> = { ...(r.btcPrice ? { 'BTC/USDT': r.btcPrice } : {}), ...(r.bnbPrice ? { 'BNB/USDT': r.bnbPrice } : {}) };
        const drift = computeDrift({ book, balances, prices, watchlist: ['BTC/USDT'], thresholds: THRESHOLDS, mode: r.mode });
        let sum = new Decimal(0);
        const unpriced: string[] = [];
        for (const a of drift.assets) {
          const local = new Decimal(localHolding(book, a.asset));
          const exchange = new Decimal(balances[a.asset]!.total);
          const difference = r.mode === 'shared' ? Decimal.min(0, exchange.minus(local)) : exchange.minus(local).minus(book.baselines?.[a.asset] ?? '0');
          expect(a.difference).toBe(str(difference));
          if (a.price === undefined) {
            if (!difference.isZero()) unpriced.push(a.asset);
            expect(a.quote).toBeUndefined();
          } else {
            expect(a.quote).toBe(str(difference.abs().times(a.price)));
            sum = sum.plus(difference.abs().times(a.price));
          }
        }
        expect(drift.quote).toBe(str(sum));
        expect(drift.unpriced).toEqual(unpriced);
      }),
      { numRuns: 500 },
    );
  });

  it('in shared mode counts only the exchange holding less than the book itself', () => {
    // Another deployment spent 4000 of "the others'" USDT and bought BTC: no drift of ours.
    const others = computeDrift({ book: withOwnersCoins(), balances: { USDT: { total: '10399.4' }, BTC: { total: '0.6' } }, prices: PRICES, watchlist: ['BTC/USDT'], thresholds: THRESHOLDS, mode: 'shared' });
    expect(others).toMatchObject({ quote: '0', level: 'ok' });
    // Less USDT than the book itself holds: drift, whoever took it.
    const short = computeDrift({ book: withOwnersCoins(), balances: { USDT: { total: '9199.4' }, BTC: { total: '0.6' } }, prices: PRICES, watchlist: ['BTC/USDT'], thresholds: THRESHOLDS, mode: 'shared' });
    expect(short).toMatchObject({ quote: '200', level: 'pause' });
    expect(short.assets[0]).toMatchObject({ asset: 'USDT', difference: '-200' });
  });
});
