/**
 * EXE-13 and RISK-9, the pure rules: which limit an entry breaks, counted from the account book
 * alone (positions at cost, orders in flight at what they still reserve), with dust left out.
 */
import { describe, expect, it } from 'vitest';
import { applyFill, openBook, reserve, type AccountBook } from '../../shared/domain/account.js';
import { costExposure, entryLimitBreach, isDust, type EntryLimits } from '../../shared/domain/entry-limits.js';
import type { MarketRules } from '../../shared/domain/market.js';

const AT = new Date('2026-06-01T10:00:00.000Z');
const LIMITS: EntryLimits = { maxOpenPositions: 2, maxExposurePerSymbol: '500', maxTotalExposure: '800' };
const RULES: MarketRules = { symbol: 'X/USDT', base: 'X', quote: 'USDT', amountStep: '0.01', priceTick: '0.01', minAmount: '0.01', minNotional: '5' };
const noDust = () => false;

/** A book holding `qty` of `symbol` bought for `cost` (no fee). */
function holding(book: AccountBook, symbol: string, qty: string, cost: string, id = `buy-${symbol}`): AccountBook {
  const reserved = reserve(book, { orderId: id, symbol, side: 'buy', amount: cost }, AT) ?? book;
  const filled = applyFill(reserved, { orderId: id, symbol, side: 'buy', filled: qty, cost, fees: [] }, AT) ?? reserved;
  const { [id]: _done, ...orders } = filled.orders;
  return { ...filled, orders };
}

describe('Rules: entry limits at cost (EXE-13)', () => {
  const empty = openBook('USDT', '10000', AT);

  it('lets an entry through while every limit holds', () => {
    expect(entryLimitBreach(empty, { symbol: 'ADA/USDT', reserve: '500' }, LIMITS, noDust)).toBeNull();
  });

  it('names max-exposure-per-symbol when the position cost plus reservations plus the entry passes the limit', () => {
    let book = holding(empty, 'ADA/USDT', '400', '300');
    book = reserve(book, { orderId: 'queued', symbol: 'ADA/USDT', side: 'buy', amount: '150' }, AT) ?? book;
    expect(entryLimitBreach(book, { symbol: 'ADA/USDT', reserve: '50' }, LIMITS, noDust)).toBeNull();
    const breach = entryLimitBreach(book, { symbol: 'ADA/USDT', reserve: '50.01' }, LIMITS, noDust);
    expect(breach).toMatchObject({ limit: 'max-exposure-per-symbol', details: { exposure: '500.01', limit: '500' } });
  });

  it('names max-open-positions for a new symbol once positions and buys in flight fill the count, but not for a symbol already open', () => {
    let book = holding(empty, 'ADA/USDT', '10', '100');
    book = reserve(book, { orderId: 'eth', symbol: 'ETH/USDT', side: 'buy', amount: '100' }, AT) ?? book;
    expect(entryLimitBreach(book, { symbol: 'SOL/USDT', reserve: '10' }, LIMITS, noDust)?.limit).toBe('max-open-positions');
    expect(entryLimitBreach(book, { symbol: 'ADA/USDT', reserve: '10' }, LIMITS, noDust)).toBeNull();
  });

  it('names max-total-exposure across symbols, and ignores it when set to 0', () => {
    const book = holding(empty, 'ADA/USDT', '10', '450');
    expect(entryLimitBreach(book, { symbol: 'ETH/USDT', reserve: '400' }, LIMITS, noDust)?.limit).toBe('max-total-exposure');
    expect(entryLimitBreach(book, { symbol: 'ETH/USDT', reserve: '400' }, { ...LIMITS, maxTotalExposure: '0' }, noDust)).toBeNull();
  });

  it('counts sells in flight toward nothing: an exit reserves no exposure', () => {
    let book = holding(empty, 'ADA/USDT', '10', '100');
    book = reserve(book, { orderId: 'sell', symbol: 'ADA/USDT', side: 'sell', amount: '0' }, AT) ?? book;
    expect(costExposure(book, noDust).bySymbol.get('ADA/USDT')?.toFixed()).toBe('100');
  });
});

describe('Rules: dust (RISK-9)', () => {
  it('is a position whose amount rounds to nothing, is under the minimum amount, or is worth less than the minimum order value', () => {
    const position = (qty: string) => ({ symbol: 'X/USDT', qty, avgPrice: '2', realizedPnl: '0' });
    expect(isDust(position('0.004'), RULES, '2')).toBe(true);
    expect(isDust(position('2'), RULES, '2')).toBe(true);
    expect(isDust(position('2.5'), RULES, '2')).toBe(false);
    expect(isDust(position('2.5'), RULES, '1.9')).toBe(true);
    expect(isDust(position('2'), undefined, '2'), 'no rules: not known to be dust').toBe(false);
    expect(isDust(position('0'), RULES, '2'), 'flat is not dust').toBe(false);
  });

  it('does not count as an open position nor toward exposure', () => {
    let book = holding(openBook('USDT', '10000', AT), 'X/USDT', '1', '2');
    book = holding(book, 'ADA/USDT', '10', '100');
    const dust = (p: { symbol: string; qty: string; avgPrice: string }) => isDust(p as never, p.symbol === 'X/USDT' ? RULES : undefined, p.avgPrice);
    expect([...costExposure(book, dust).open]).toEqual(['ADA/USDT']);
    expect(entryLimitBreach(book, { symbol: 'SOL/USDT', reserve: '100' }, LIMITS, dust)).toBeNull();
    expect(entryLimitBreach(book, { symbol: 'SOL/USDT', reserve: '100' }, LIMITS, noDust)?.limit).toBe('max-open-positions');
  });
});
