import { describe, it, expect } from 'vitest';
import { DAY_MS, EquityTracker, MAX_CURVE_POINTS, sharpeRatio, sortinoRatio } from '../../../backtest/report/equity-tracker.js';
import { TradeBook, tradeTotals, type BookedFill } from '../../../backtest/report/trades.js';
import { buildReport } from '../../../backtest/report/report.js';
import { CandleThinner } from '../../../backtest/report/candle-thinner.js';

const T0 = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;

describe('Backtest report: equity', () => {
  it('measures the deepest drawdown, its percent and how long equity stayed under the peak', () => {
    const eq = new EquityTracker();
    const series = [100, 120, 90, 110, 130, 125];
    series.forEach((v, i) => eq.update(T0 + i * HOUR, v, i > 0));
    expect(eq.drawdown()).toEqual({ maxDrawdown: 30, maxDrawdownPercent: 25, maxDrawdownDurationMs: 3 * HOUR });
    expect(eq.exposedMs).toBe(4 * HOUR); // a position was open from the second point to the end
    expect(eq.spanMs).toBe(5 * HOUR);
  });

  it('takes daily returns from each day\'s closing equity', () => {
    const eq = new EquityTracker();
    eq.update(T0, 100, false);
    eq.update(T0 + HOUR, 105, false);
    eq.update(T0 + DAY_MS, 110, false);
    eq.update(T0 + 2 * DAY_MS + HOUR, 99, false);
    const r = eq.dailyReturns();
    expect(r.map((x) => Number(x.toFixed(6)))).toEqual([0.05, Number((110 / 105 - 1).toFixed(6)), -0.1]);
  });

  it('computes Sharpe and Sortino as annualized ratios, null when undefined', () => {
    const returns = [0.01, -0.02, 0.03, 0.0];
    const mean = 0.005;
    const sd = Math.sqrt(returns.reduce((a, r) => a + (r - mean) ** 2, 0) / 3);
    expect(sharpeRatio(returns)).toBeCloseTo((mean / sd) * Math.sqrt(365), 10);
    expect(sortinoRatio(returns)).toBeCloseTo((mean / Math.sqrt(0.0004 / 4)) * Math.sqrt(365), 10);
    expect(sharpeRatio([0.01])).toBeNull();
    expect(sharpeRatio([0.01, 0.01])).toBeNull();
    expect(sortinoRatio([0.01, 0.02])).toBeNull();
  });

  it('keeps a bounded curve however long the run', () => {
    const eq = new EquityTracker();
    for (let i = 0; i < 100_000; i += 1) eq.update(T0 + i * 60_000, 100 + (i % 50), false);
    const { equity, drawdownPercent } = eq.curves();
    expect(equity.length).toBeLessThanOrEqual(MAX_CURVE_POINTS + 1);
    expect(equity.length).toBe(drawdownPercent.length);
    expect(equity[equity.length - 1]!.time).toBe(Math.floor((T0 + 99_999 * 60_000) / 1000));
  });
});

describe('Backtest report: trades', () => {
  const fill = (over: Partial<BookedFill>): BookedFill => ({ time: T0, symbol: 'BTC/USDT', strategy: 'price-drop', side: 'buy', amount: '1', cost: '100', feeQuote: '0.1', positionAfter: '1', ...over });

  it('pairs partial entries and exits into one round trip with its PnL after fees', () => {
    const book = new TradeBook();
    book.book(fill({ amount: '0.5', cost: '50', feeQuote: '0.05', positionAfter: '0.5' }));
    book.book(fill({ time: T0 + HOUR, amount: '0.5', cost: '51', feeQuote: '0.05', positionAfter: '1' }));
    book.book(fill({ time: T0 + 2 * HOUR, strategy: 'take-profit', side: 'sell', amount: '1', cost: '110', feeQuote: '0.11', positionAfter: '0' }));
    const [trade] = book.trades(new Map(), new Map());
    expect(trade).toEqual({
      symbol: 'BTC/USDT',
      entryStrategy: 'price-drop',
      exitStrategy: 'take-profit',
      entryTime: new Date(T0).toISOString(),
      exitTime: new Date(T0 + 2 * HOUR).toISOString(),
      entryPrice: '101',
      exitPrice: '110',
      amount: '1',
      pnl: '8.79',
      fees: '0.21',
      returnPercent: 8.703,
      open: false,
    });
  });

  it('values a trade still open at the last close', () => {
    const book = new TradeBook();
    book.book(fill({}));
    const [trade] = book.trades(new Map([['BTC/USDT', '90']]), new Map([['BTC/USDT', '1']]));
    expect(trade).toMatchObject({ open: true, exitTime: null, pnl: '-10.1' });
  });

  it('totals win rate and profit factor', () => {
    const book = new TradeBook();
    book.book(fill({}));
    book.book(fill({ side: 'sell', cost: '120', feeQuote: '0', positionAfter: '0' }));
    book.book(fill({ time: T0 + HOUR }));
    book.book(fill({ time: T0 + 2 * HOUR, side: 'sell', cost: '95', feeQuote: '0', positionAfter: '0' }));
    const totals = tradeTotals(book.trades(new Map(), new Map()));
    expect(totals).toEqual({ trades: 2, wins: 1, winRate: 0.5, profitFactor: Number((19.9 / 5.1).toFixed(6)), pnl: '14.8', fees: '0.2' });
  });
});

describe('Backtest report: assembly', () => {
  it('compares with buy and hold and breaks results down per symbol and strategy', () => {
    const eq = new EquityTracker();
    eq.update(T0, 1000, true);
    eq.update(T0 + DAY_MS, 1010, false);
    const report = buildReport({
      settings: { initial: '1000' },
      trades: [],
      initialEquity: '1000',
      finalEquity: '1010',
      equity: eq,
      firstOpen: new Map([['BTC/USDT', '100'], ['ETH/USDT', '10']]),
      lastClose: new Map([['BTC/USDT', '110'], ['ETH/USDT', '9']]),
      rejected: [],
      rejectedCount: 0,
      gaps: [],
      gapCount: 0,
      candles: 4,
      seconds: 0.5,
    });
    expect(report.benchmark).toEqual({ returnPercent: 0, bySymbol: { 'BTC/USDT': 10, 'ETH/USDT': -10 } });
    expect(report.totals).toMatchObject({ pnl: '10', returnPercent: 1, exposurePercent: 100, tradesPerDay: 0, maxDrawdownPercent: 0 });
  });
});

describe('Backtest report: chart candles', () => {
  it('merges bars pairwise to stay under the limit, keeping highs, lows and the last close', () => {
    const thinner = new CandleThinner(60_000, 4);
    for (let i = 0; i < 8; i += 1) thinner.add({ openTime: T0 + i * 60_000, open: String(10 + i), high: String(20 + i), low: String(5 - i / 10), close: String(11 + i), volume: '1' });
    const bars = thinner.bars();
    expect(bars.length).toBeLessThanOrEqual(4);
    expect(bars[0]).toEqual({ time: T0 / 1000, open: 10, high: 21, low: 4.9, close: 12 });
    expect(bars[bars.length - 1]!.close).toBe(18);
  });
});
