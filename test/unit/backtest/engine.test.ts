/**
 * The backtest drives the live use cases over history (BT-1, BT-2, BT-3): every fill booked by
 * the reconciler matches the venue, equal runs print equal reports, no decision sees a candle
 * before it closed, and bad data gives no report.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listDataSet } from '../../../backtest/data/data-set.js';
import { runBacktest, type BacktestSettings } from '../../../backtest/engine.js';
import { dec } from '../../../shared/domain/money.js';
import { main as backtestCli } from '../../../scripts/backtest.js';
import { writeCandleFile } from '../../../testkit/candle-series.js';
import { backtestSettings } from '../../support/backtest-settings.js';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 0, 1);
const CANDLES = 1440;
const SPIKE_AT = 1000;
let dir: string;

const settings = (over: Partial<BacktestSettings> = {}): Promise<BacktestSettings> => backtestSettings(join(dir, 'set'), over);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tw-bt-engine-'));
  // A tenfold spike planted late in the window: a run that could see it early would act on it.
  mkdirSync(join(dir, 'set'));
  await writeCandleFile(join(dir, 'set'), { symbol: 'BTC/USDT', start: T0, candles: CANDLES, startPrice: 60000, plant: new Map([[SPIKE_AT, 600000]]) });

  await writeCandleFile(join(dir, 'set'), { symbol: 'ETH/USDT', start: T0, candles: CANDLES, startPrice: 3000 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Backtest: the live use cases over history', () => {
  it('trades, and Tradewarden\'s book ends equal to the venue\'s balances', async () => {
    const { report, final } = await runBacktest(await settings());
    expect(report.totals.trades).toBeGreaterThan(0);
    expect(report.candles).toBe(2 * CANDLES);
    expect(final.book).not.toBeNull();
    const book = final.book!;
    // Quote: what the book holds (available + reserved + committed cost) is what the venue holds in cash plus the positions' cost.
    expect(dec(book.available).plus(book.reserved).toFixed()).toBe(dec(final.venueBalances['USDT']!).toFixed());
    for (const position of Object.values(book.positions)) {
      expect(position.qty).toBe(final.venueBalances[position.symbol.split('/')[0]!] ?? '0');
    }
    expect(final.auditRecords).toBeGreaterThan(report.totals.trades);
  });

  it('books a fee charged in the bought coin: the position holds what the venue holds', async () => {
    const { report, final } = await runBacktest(await settings({ feeAsset: 'base' }));
    expect(report.totals.trades).toBeGreaterThan(0);
    const book = final.book!;
    expect(dec(book.available).plus(book.reserved).toFixed()).toBe(dec(final.venueBalances['USDT']!).toFixed());
    for (const symbol of ['BTC/USDT', 'ETH/USDT']) {
      expect(book.positions[symbol]?.qty ?? '0').toBe(final.venueBalances[symbol.split('/')[0]!] ?? '0');
    }
  });

  it('books fees charged in BNB: the holding in the book is what the venue holds, and the report counts their value', async () => {
    const { report, final } = await runBacktest(await settings({ feeAsset: 'BNB', initialFeeAsset: '2', feeAssetPrice: '600' }));
    expect(report.totals.trades).toBeGreaterThan(0);
    const book = final.book!;
    expect(dec(final.venueBalances['BNB']!).lt('2')).toBe(true);
    expect(book.holdings?.BNB?.qty).toBe(final.venueBalances['BNB']);
    expect(dec(book.available).plus(book.reserved).toFixed()).toBe(dec(final.venueBalances['USDT']!).toFixed());
    // Every fee was paid in BNB: what left the holding, at 600, is the report's fees.
    expect(dec(report.totals.fees).toFixed(6)).toBe(dec('2').minus(final.venueBalances['BNB']!).times(600).toFixed(6));
  });

  it('runs on hourly candles end to end (--timeframe 1h): one scan per close, the scanner accepts them, the report says 1h', async () => {
    const data = mkdtempSync(join(dir, 'hourly-'));
    const HOUR = 60 * MINUTE;
    await writeCandleFile(data, { symbol: 'BTC/USDT', start: T0, candles: 24 * 20, startPrice: 60000, timeframeMs: HOUR, seed: 'hourly' });
    const out = join(data, 'out');
    const printed: string[] = [];
    const log = console.log;
    console.log = (line: string) => void printed.push(line);
    try {
      await backtestCli(['--data', data, '--timeframe', '1h', '--out', out], {});
    } finally {
      console.log = log;
    }
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { settings: { timeframe: string }; candles: number; totals: { trades: number }; rejected: Array<{ reason: string }> };
    expect(report.settings.timeframe).toBe('1h');
    expect(report.candles).toBe(24 * 20);
    expect(report.totals.trades).toBeGreaterThan(0);
    // The same data read as one-minute candles is refused: its timestamps are an hour apart.
    const { report: asMinutes } = await runBacktest({ ...(await settings()), files: await listDataSet(data), timeframe: '1m' });
    expect(asMinutes.gapCount).toBeGreaterThan(0);
  });

  it('prints the same report for the same data and settings, apart from seconds', async () => {
    const a = await runBacktest(await settings());
    const b = await runBacktest(await settings());
    expect(JSON.stringify({ ...a.report, seconds: 0 })).toBe(JSON.stringify({ ...b.report, seconds: 0 }));
  });

  it('never sees a candle before it closed: the run up to the spike decides exactly as the full run did', async () => {
    const cutoff = T0 + SPIKE_AT * MINUTE;
    const full = await runBacktest(await settings());
    const truncated = await runBacktest(await settings({ to: cutoff }));
    const before = (iso: string | null) => iso !== null && Date.parse(iso) <= cutoff;
    const closedBefore = (r: typeof full.report) => r.trades.filter((t) => !t.open && before(t.exitTime));
    expect(closedBefore(full.report)).toEqual(closedBefore(truncated.report));
    expect(full.report.rejected.filter((r) => before(r.time))).toEqual(truncated.report.rejected.filter((r) => before(r.time)));
    const curve = (r: typeof full) => r.charts.equity.filter((p) => p.time * 1000 < cutoff - 60 * MINUTE).map((p) => p.value);
    expect(curve(full).slice(0, 50)).toEqual(curve(truncated).slice(0, 50));
  });

  it('reads the lookback before --from as startup candles: decided on as the live scanner would, never traded or counted', async () => {
    // A 10 % drop two candles before the window: the live scanner at the window's first close sees it in its lookback.
    const from = T0 + 120 * MINUTE;
    const drop = join(dir, 'drop');
    mkdirSync(drop, { recursive: true });
    await writeCandleFile(drop, { symbol: 'BTC/USDT', start: T0, candles: 240, startPrice: 60000, plant: new Map([[118, 54000]]) });
    const files = await listDataSet(drop);
    const withStartup = await runBacktest(await settings({ files, from }));
    const cut = join(dir, 'drop-cut');
    mkdirSync(cut, { recursive: true });
    await writeCandleFile(cut, { symbol: 'BTC/USDT', start: from, candles: 120, startPrice: 54000 });
    const withoutStartup = await runBacktest(await settings({ files: await listDataSet(cut), from }));

    expect(withStartup.report.candles).toBe(120);
    const entry = withStartup.report.trades[0];
    expect(entry?.entryStrategy).toBe('price-drop');
    // Decided at the first close of the window, filled at the next candle's open: nothing before the window.
    expect(Date.parse(entry!.entryTime)).toBe(from + 2 * MINUTE);
    expect(withStartup.charts.equity[0]!.time * 1000).toBeGreaterThanOrEqual(from);
    // Without the startup candles the same window cannot see the drop at its start.
    expect(withoutStartup.report.trades.every((t) => Date.parse(t.entryTime) > from + 2 * MINUTE)).toBe(true);
  });

  it('fills in parts when the candles are thin, and books every part', async () => {
    const { report, final } = await runBacktest(await settings({ volumeSharePercent: '0.0001' }));
    // 0.0001 % of 5..55 coins a minute is far less than one order: every entry takes several candles.
    expect(report.trades.length).toBeGreaterThan(0);
    const book = final.book!;
    for (const position of Object.values(book.positions)) expect(position.qty).toBe(final.venueBalances[position.symbol.split('/')[0]!] ?? '0');
  });
});

describe('Backtest CLI: bad input', () => {
  it.each([
    ['a malformed row', `${T0},1,2,0.5\n`, /BTC-USDT.csv:2: expected 6 columns/],
    ['a non-monotonic timestamp', `${T0 + MINUTE},1,2,0.5,1,1\n${T0},1,2,0.5,1,1\n`, /BTC-USDT.csv:3: timestamp .* is not after/],
    ['a negative volume', `${T0},1,2,0.5,1,-3\n`, /volume must not be negative/],
    ['high below low', `${T0},1,0.4,0.5,1,1\n`, /high 0.4 is below low 0.5/],
  ])('stops on %s with a coded error and writes no report', async (_name, rows, message) => {
    const data = mkdtempSync(join(dir, 'bad-'));
    writeFileSync(join(data, 'BTC-USDT.csv'), `timestamp,open,high,low,close,volume\n${rows}`);
    const out = join(data, 'out');
    await expect(backtestCli(['--data', data, '--out', out], {})).rejects.toMatchObject({ code: 'BACKTEST_DATA_INVALID', message: expect.stringMatching(message) });
    expect(existsSync(join(out, 'report.json'))).toBe(false);
  });

  it('refuses a file for a symbol the settings do not name, and an empty window', async () => {
    await expect(backtestCli(['--data', join(dir, 'set'), '--symbols', 'BTC/USDT'], {})).rejects.toMatchObject({ code: 'BACKTEST_DATA_INVALID', message: expect.stringMatching(/ETH\/USDT is not among the symbols/) });
    await expect(backtestCli(['--data', join(dir, 'set'), '--from', '2030-01-01'], {})).rejects.toMatchObject({ message: expect.stringMatching(/no candle in the requested window/) });
  });
});
