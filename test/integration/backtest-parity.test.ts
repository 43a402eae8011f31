/**
 * The backtest and `npm start` run the same code (BT-1). The synthetic market is traded for a
 * window through the embedded stack's runtime (the four Lambda handlers against the DynamoDB and
 * SQS emulators, the paper exchange on PAPER_TABLE), and the candles of the same window, written
 * as a data set of CSV files, are run through `npm run backtest`'s engine with the synthetic
 * market as its quote source. The backtest's venue is the same PaperExchange class over
 * in-memory books; its scanner, executor and reconciler are the same use cases. Both must make
 * the same intents, fill the same orders at the same prices with the same fees, and end with
 * the same book.
 *
 * Why the quotes come from the market and not from the candles: a scan at a slot's close reads
 * the ticker of that instant (the price of its first second, bid and ask around it), and market
 * orders fill at the ask or bid of the second they arrive. Candles carry neither the spread nor
 * the price of that instant (their close is the second before), so a run on candles alone prices
 * every order half a spread better and sizes it from another price; with take-profit and
 * stop-loss at 0.3 % that changes decisions within minutes. The candle venue's own rules (next
 * open, volume cap, partial fills) are proven by test/unit/backtest/*.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listDataSet } from '../../backtest/data/data-set.js';
import { runBacktest, type BacktestOutcome } from '../../backtest/engine.js';
import { scannerSettings } from '../../functions/scanner/app.js';
import type { LocalRuntime } from '../../local-runtime/runtime.js';
import { SyntheticMarket } from '../../shared/adapters/paper/synthetic-market.js';
import type { AccountBook } from '../../shared/domain/account.js';
import type { Intent } from '../../shared/domain/intent.js';
import { dec } from '../../shared/domain/money.js';
import type { OrderRecord } from '../../shared/domain/order.js';
import { BUILT_IN_STRATEGIES } from '../../shared/domain/strategies/index.js';
import { ENV, type Config } from '../../shared/runtime/config.js';
import { ManualClock, startTestStack, type TestStack } from '../support/local-runtime.js';

const MINUTE = 60_000;
const SYMBOLS = ['BTC/USDT', 'ETH/USDT', 'SOL/USDT', 'XRP/USDT', 'ADA/USDT', 'DOGE/USDT', 'LINK/USDT', 'AVAX/USDT'];
/** The window: 45 one-minute slots, after 30 minutes of history that both sides read. */
const DATA_START = Date.UTC(2026, 5, 1, 8, 0);
const WARM_UP_MINUTES = 30;
const WINDOW_MINUTES = 45;
const WINDOW_START = DATA_START + WARM_UP_MINUTES * MINUTE;
const WINDOW_END = WINDOW_START + WINDOW_MINUTES * MINUTE;

/** What an order did on the venue: the same fields on both sides. */
const fillOf = (o: OrderRecord) => ({
  id: o.id,
  symbol: o.symbol,
  side: o.side,
  type: o.type,
  state: o.state,
  strategy: o.strategy,
  amount: o.filled,
  cost: o.cost,
  price: dec(o.cost).div(o.filled).toFixed(),
  fees: o.fees,
});
const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);
const filled = (orders: readonly OrderRecord[]) => orders.filter((o) => !dec(o.filled).isZero()).map(fillOf).sort(byId);
/** The book's money and positions (versions and timestamps differ by how often each side wrote). */
const bookOf = (b: AccountBook | null) => b && { total: b.total, available: b.available, reserved: b.reserved, committed: b.committed, positions: b.positions, holdings: b.holdings ?? {} };

function writeDataSet(dir: string, market: SyntheticMarket): void {
  for (const symbol of SYMBOLS) {
    const candles = market.candles(symbol, new Date(WINDOW_END), WARM_UP_MINUTES + WINDOW_MINUTES);
    const rows = candles.map((c) => `${c.openTime},${c.open},${c.high},${c.low},${c.close},${c.volume}`);
    writeFileSync(join(dir, `${symbol.replace('/', '-')}.csv`), `timestamp,open,high,low,close,volume\n${rows.join('\n')}\n`);
  }
}

async function backtestOf(config: Config, dir: string, market: SyntheticMarket, intents: Intent[]): Promise<BacktestOutcome> {
  return runBacktest({
    files: await listDataSet(dir),
    from: WINDOW_START,
    to: WINDOW_END,
    scan: scannerSettings(config),
    tunables: {},
    strategies: BUILT_IN_STRATEGIES,
    rules: Object.fromEntries(SYMBOLS.map((s) => [s, market.rules(s)])),
    initialQuote: config.paperInitialQuote,
    feePercent: config.paperFeePercent,
    feeAsset: config.paperFeeAsset,
    initialFeeAsset: config.paperInitialFeeAsset,
    slippagePercent: '0',
    volumeSharePercent: '100',
    reservationBufferPercent: config.reservationBufferPercent,
    reservationMaxAgeMs: config.reservationMaxAgeSeconds * 1000,
    drift: { alarmQuote: config.driftAlarmQuote, pauseQuote: config.driftPauseQuote },
    quotes: market,
    onIntents: (slotIntents) => intents.push(...slotIntents),
  });
}

/** Fees in the quote currency, and in a third asset (BNB) held from the start (EXE-12). */
const FEES: ReadonlyArray<{ readonly name: string; readonly env: Readonly<Record<string, string>> }> = [
  { name: 'fees in USDT', env: {} },
  { name: 'fees in BNB', env: { [ENV.paperFeeAsset]: 'BNB', [ENV.paperInitialFeeAsset]: '25' } },
];

describe.each(FEES)('Backtest parity with the npm start runtime, $name (BT-1)', ({ env }) => {
  let t: TestStack;
  let runtime: LocalRuntime;
  let dir: string;
  const clock = new ManualClock(new Date(WINDOW_START));
  const live = { intents: [] as Intent[], orders: [] as OrderRecord[], book: null as AccountBook | null };

  beforeAll(async () => {
    t = await startTestStack({ ...env, [ENV.watchlist]: SYMBOLS.join(','), [ENV.maxOpenPositions]: '8', [ENV.dropPercent]: '0.3', [ENV.takeProfitPercent]: '0.3', [ENV.stopLossPercent]: '0.3' });
    runtime = t.runtime({ clock });
    // npm start's cycle at every slot close of the window: scan, execute the queue, reconcile.
    for (let slot = WINDOW_START + MINUTE; slot <= WINDOW_END; slot += MINUTE) {
      clock.set(new Date(slot));
      const scan = await runtime.scan(new Date(slot));
      live.intents.push(...scan.intents);
      await runtime.drain();
      await runtime.reconcile();
    }
    live.orders = await runtime.containers.executor.orders.listRecent(1000);
    live.book = await runtime.containers.executor.accounts.get(t.config.quoteCurrency);
    dir = mkdtempSync(join(tmpdir(), 'tw-parity-'));
    writeDataSet(dir, new SyntheticMarket({ seed: t.config.paperSeed }));
  }, 300_000);

  afterAll(async () => {
    await t?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('makes the same intents, fills the same orders at the same prices and fees, and ends with the same book', async () => {
    const intents: Intent[] = [];
    const { report, final } = await backtestOf(t.config, dir, new SyntheticMarket({ seed: t.config.paperSeed }), intents);

    // The window traded: entries and exits (take-profit and stop-loss) on several symbols.
    const liveFills = filled(live.orders);
    expect(liveFills.length).toBeGreaterThanOrEqual(10);
    expect(new Set(liveFills.map((f) => f.side))).toEqual(new Set(['buy', 'sell']));
    expect(new Set(liveFills.map((f) => f.strategy))).toEqual(new Set(['price-drop', 'take-profit', 'stop-loss']));
    expect(new Set(liveFills.map((f) => f.symbol)).size).toBeGreaterThanOrEqual(4);

    expect([...intents].sort(byId)).toEqual([...live.intents].sort(byId));
    expect(filled(final.orders)).toEqual(liveFills);
    expect(final.orders.length).toBe(live.orders.length);
    expect(bookOf(final.book)).toEqual(bookOf(live.book));
    // The report's trades are those fills.
    expect(report.totals.fees).not.toBe(0);
    expect(report.candles).toBe(SYMBOLS.length * WINDOW_MINUTES);
    const feeCurrencies = new Set(liveFills.flatMap((f) => f.fees.map((fee) => fee.currency)));
    expect(feeCurrencies).toEqual(new Set([t.config.paperFeeAsset === 'quote' ? 'USDT' : t.config.paperFeeAsset]));
  });
});
