import { describe, expect, it } from 'vitest';
import { openBook, type AccountBook } from '../../shared/domain/account.js';
import type { MarketRules, Ticker } from '../../shared/domain/market.js';
import {
  assessRisk,
  entryBlock,
  exitBlock,
  exposureOf,
  protectiveExit,
  recordExit,
  type EntryCheck,
  type ProtectionSettings,
} from '../../shared/domain/protections.js';

const NOW = new Date('2026-05-01T12:00:30.000Z');
const SETTINGS: ProtectionSettings = {
  maxOpenPositions: 2,
  maxExposurePerSymbol: '500',
  maxTotalExposure: '800',
  cooldownSeconds: 900,
  stopLossPercent: '3',
  takeProfitPercent: '2',
  maxDailyLoss: '100',
  maxDrawdownPercent: '10',
};
const RULES: MarketRules = { symbol: 'ETH/USDT', base: 'ETH', quote: 'USDT', amountStep: '0.001', priceTick: '0.01', minAmount: '0.001', minNotional: '10' };

function ticker(symbol: string, bid: string): Ticker {
  return { symbol, bid, ask: bid, last: bid, volume: '1', timestamp: NOW.getTime() };
}

function book(positions: Record<string, { qty: string; avgPrice: string }>, orders: Record<string, { symbol: string; side: 'buy' | 'sell'; remaining: string }> = {}): AccountBook {
  const base = openBook('USDT', '1000', NOW);
  return {
    ...base,
    positions: Object.fromEntries(Object.entries(positions).map(([symbol, p]) => [symbol, { symbol, ...p, realizedPnl: '0' }])),
    orders: Object.fromEntries(Object.entries(orders).map(([id, o]) => [id, { ...o, reserved: o.remaining, filled: '0', cost: '0', fees: [], at: NOW.toISOString() }])),
  };
}

function check(overrides: Partial<EntryCheck>): EntryCheck {
  return {
    symbol: 'ETH/USDT',
    quoteAmount: '100',
    exposure: exposureOf(book({}), {}),
    risk: { cooldowns: {} },
    entriesPaused: undefined,
    rules: RULES,
    now: NOW,
    settings: SETTINGS,
    ...overrides,
  };
}

describe('Protections (RISK-4)', () => {
  describe('Function: protectiveExit', () => {
    const position = { symbol: 'BTC/USDT', qty: '0.01', avgPrice: '100', realizedPnl: '0' };

    it('exits at the stop-loss and the take-profit, whichever strategy opened the position', () => {
      expect(protectiveExit(position, ticker('BTC/USDT', '97'), SETTINGS)).toMatchObject({ protection: 'stop-loss' });
      expect(protectiveExit(position, ticker('BTC/USDT', '102'), SETTINGS)).toMatchObject({ protection: 'take-profit' });
      expect(protectiveExit(position, ticker('BTC/USDT', '97.01'), SETTINGS)).toBeNull();
      expect(protectiveExit(position, ticker('BTC/USDT', '101.99'), SETTINGS)).toBeNull();
    });

    it('does nothing for a flat position', () => {
      expect(protectiveExit({ ...position, qty: '0' }, ticker('BTC/USDT', '50'), SETTINGS)).toBeNull();
    });
  });

  describe('Function: exposureOf', () => {
    it('values positions at the bid and counts quote reserved for buys in flight', () => {
      const exposure = exposureOf(book({ 'BTC/USDT': { qty: '0.01', avgPrice: '100' }, 'XRP/USDT': { qty: '0', avgPrice: '0' } }, { o1: { symbol: 'ETH/USDT', side: 'buy', remaining: '50' }, o2: { symbol: 'BTC/USDT', side: 'sell', remaining: '0' } }), { 'BTC/USDT': '120' });
      expect(exposure.openPositions).toBe(2);
      expect(exposure.bySymbol).toEqual({ 'BTC/USDT': '1.2', 'ETH/USDT': '50' });
      expect(exposure.total).toBe('51.2');
      expect([...exposure.buying]).toEqual(['ETH/USDT']);
      expect([...exposure.selling]).toEqual(['BTC/USDT']);
    });
  });

  describe('Function: entryBlock', () => {
    it('allows an entry within every limit', () => {
      expect(entryBlock(check({}))).toBeNull();
    });

    it('blocks while entries are paused, with the reason', () => {
      expect(entryBlock(check({ entriesPaused: 'daily loss 120 >= 100' }))).toBe('entries paused: daily loss 120 >= 100');
    });

    it('blocks a second buy while one is in flight', () => {
      expect(entryBlock(check({ exposure: exposureOf(book({}, { o1: { symbol: 'ETH/USDT', side: 'buy', remaining: '100' } }), {}) }))).toMatch(/in flight/);
    });

    it('blocks during the cooldown after an exit and allows after it', () => {
      const risk = recordExit({ cooldowns: {} }, 'ETH/USDT', new Date(NOW.getTime() - 899_000));
      expect(entryBlock(check({ risk }))).toMatch(/cooldown after exit until 2026-05-01T12:00:31.000Z/);
      expect(entryBlock(check({ risk, now: new Date(NOW.getTime() + 1000) }))).toBeNull();
    });

    it('blocks a new symbol at max open positions', () => {
      const exposure = exposureOf(book({ 'BTC/USDT': { qty: '0.01', avgPrice: '100' }, 'SOL/USDT': { qty: '1', avgPrice: '100' } }), {});
      expect(entryBlock(check({ exposure }))).toBe('max open positions 2 reached');
    });

    it('blocks beyond the exposure per symbol and in total', () => {
      expect(entryBlock(check({ quoteAmount: '501', settings: { ...SETTINGS, maxTotalExposure: '0' } }))).toMatch(/exceed 500 per symbol/);
      const exposure = exposureOf(book({ 'BTC/USDT': { qty: '7.5', avgPrice: '100' } }), {});
      expect(entryBlock(check({ exposure, quoteAmount: '100' }))).toBe('total exposure 850 would exceed 800');
      expect(entryBlock(check({ exposure, quoteAmount: '100', settings: { ...SETTINGS, maxTotalExposure: '0' } }))).toBeNull();
    });

    it('blocks an order below the market minimum notional', () => {
      expect(entryBlock(check({ quoteAmount: '9.99' }))).toBe('order 9.99 below min notional 10');
    });
  });

  describe('Function: exitBlock', () => {
    it('refuses dust and a second sell in flight, allows a sendable exit', () => {
      const flat = exposureOf(book({}), {});
      expect(exitBlock('ETH/USDT', '0.0009', '2000', flat, RULES)).toMatch(/dust/);
      expect(exitBlock('ETH/USDT', '0.004', '2000', flat, RULES)).toMatch(/below min notional 10/);
      expect(exitBlock('ETH/USDT', '0.01', '2000', flat, RULES)).toBeNull();
      const selling = exposureOf(book({}, { o1: { symbol: 'ETH/USDT', side: 'sell', remaining: '0' } }), {});
      expect(exitBlock('ETH/USDT', '0.01', '2000', selling, RULES)).toMatch(/in flight/);
    });
  });

  describe('Function: assessRisk', () => {
    it('starts the day at the current equity and raises the peak', () => {
      const { state, entriesPaused } = assessRisk({ cooldowns: {} }, '1000', NOW, SETTINGS);
      expect(state).toEqual({ peakEquity: '1000', day: '2026-05-01', dayStartEquity: '1000', cooldowns: {} });
      expect(entriesPaused).toBeUndefined();
      expect(assessRisk(state, '1050', NOW, SETTINGS).state).toMatchObject({ peakEquity: '1050', dayStartEquity: '1000' });
    });

    it('pauses entries once the daily loss is reached, and a new day starts afresh', () => {
      const morning = assessRisk({ cooldowns: {} }, '1000', NOW, SETTINGS).state;
      expect(assessRisk(morning, '900.01', NOW, SETTINGS).entriesPaused).toBeUndefined();
      expect(assessRisk(morning, '900', NOW, SETTINGS).entriesPaused).toMatch(/^daily loss 100 >= 100/);
      const tomorrow = new Date('2026-05-02T00:00:10Z');
      const dailyOnly = { ...SETTINGS, maxDrawdownPercent: '0' };
      expect(assessRisk(assessRisk(morning, '900', NOW, dailyOnly).state, '900', tomorrow, dailyOnly)).toMatchObject({ entriesPaused: undefined, state: { day: '2026-05-02', dayStartEquity: '900' } });
    });

    it('pauses entries at the max drawdown from the peak, across days', () => {
      const peak = { peakEquity: '2000', day: '2026-04-30', dayStartEquity: '1850', cooldowns: {} };
      expect(assessRisk(peak, '1800', NOW, SETTINGS).entriesPaused).toMatch(/^drawdown 10% >= 10%/);
      expect(assessRisk(peak, '1800.01', NOW, SETTINGS).entriesPaused).toBeUndefined();
      expect(assessRisk(peak, '1000', NOW, { ...SETTINGS, maxDrawdownPercent: '0', maxDailyLoss: '0' }).entriesPaused).toBeUndefined();
    });

    it('drops cooldowns that have run out (the record stays bounded)', () => {
      const state = { cooldowns: { 'OLD/USDT': '2026-05-01T11:00:00.000Z', 'NEW/USDT': '2026-05-01T11:59:00.000Z' } };
      expect(assessRisk(state, '1000', NOW, SETTINGS).state.cooldowns).toEqual({ 'NEW/USDT': '2026-05-01T11:59:00.000Z' });
    });
  });
});
