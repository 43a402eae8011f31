/**
 * `npm run backtest -- --data <file or dir> [--from <date>] [--to <date>] [--timeframe 1m]
 *   [--tunables <file.json>] [--initial 10000] [--fee-percent 0.1] [--fee-asset quote|base|BNB]
 *   [--initial-fee-asset <amount>] [--fee-asset-price <quote per unit>]
 *   [--slippage-percent 0.05] [--volume-share-percent 10] [--markets <file.json>] [--scan-every-slot]
 *   [--json] [--out <dir>]`
 *
 * Runs the scanner's, executor's and reconciler's use cases over history (backtest/engine.ts).
 * Strategy and protection settings are the ones the live system reads: the TW_* configuration
 * for the defaults, and `--tunables` in the format of the tunables record (`npm run ops -- set`).
 * `--json` prints the report; `--out` writes report.json, report.html (opens offline) and
 * trades.csv. `--scan-every-slot` runs the scanner's use case on every candle close instead of
 * skipping the closes where it provably decides nothing: the same report, slower (the reference
 * the skipping is tested against). Bad data stops the run with a coded error naming the file and
 * line: no report is written from part of the data.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'csv-stringify/sync';
import { z } from 'zod';
import { listDataSet } from '../backtest/data/data-set.js';
import { BacktestDataError } from '../backtest/data/errors.js';
import { runBacktest, type BacktestSettings } from '../backtest/engine.js';
import { renderHtmlReport } from '../backtest/report/html-report.js';
import { parseTime, timeframeMs } from '../backtest/timeframe.js';
import { scannerSettings } from '../shared/runtime/scanner-settings.js';
import { ValidationError } from '../shared/domain/errors.js';
import { ASSET_PATTERN } from '../shared/domain/fees.js';
import type { MarketRules } from '../shared/domain/market.js';
import { UNSIGNED_DECIMAL_PATTERN } from '../shared/domain/money.js';
import { BUILT_IN_STRATEGIES } from '../shared/domain/strategies/index.js';
import { loadConfig } from '../shared/runtime/config.js';
import { TunablesSchema, type Tunables } from '../shared/ports/tunables-store.js';
import { runAsScript } from './run-as-script.js';

const USAGE = 'usage: npm run backtest -- --data <file or dir> [--from <date>] [--to <date>] [--tunables <file>] [--initial <amount>] [--fee-percent <p>] [--scan-every-slot] [--json] [--out <dir>]';

/** Market rules used when `--markets` gives none for a symbol: fine steps and Binance's usual 5 quote minimum. */
export function defaultRules(symbol: string): MarketRules {
  const [base, quote] = symbol.split('/') as [string, string];
  return { symbol, base, quote, amountStep: '0.00000001', priceTick: '0.00000001', minNotional: '5' };
}

const percent = (name: string, value: string, max: number) => {
  if (!UNSIGNED_DECIMAL_PATTERN.test(value) || Number(value) > max) throw new ValidationError(`--${name} must be a decimal between 0 and ${max}, got ${JSON.stringify(value)}`);
  return value;
};

const RulesFileSchema = z.record(
  z.string(),
  z.object({ amountStep: z.string().regex(UNSIGNED_DECIMAL_PATTERN), priceTick: z.string().regex(UNSIGNED_DECIMAL_PATTERN), minNotional: z.string().regex(UNSIGNED_DECIMAL_PATTERN).optional(), minAmount: z.string().regex(UNSIGNED_DECIMAL_PATTERN).optional() }).strict(),
);

function readJson(option: string, path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new ValidationError(`--${option}: cannot read ${path}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new ValidationError(`--${option}: ${path} is not valid JSON`);
  }
}

/**
 * The CLI. `observe` hands a run's phase times to the caller (the bench's breakdown,
 * bench/backtest-child.ts); the run is the same with or without it.
 */
export async function main(argv: readonly string[] = process.argv.slice(2), env: Readonly<Record<string, string | undefined>> = process.env, observe: Pick<BacktestSettings, 'phases'> = {}): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        data: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        timeframe: { type: 'string', default: '1m' },
        symbols: { type: 'string' },
        tunables: { type: 'string' },
        markets: { type: 'string' },
        initial: { type: 'string', default: '10000' },
        'fee-percent': { type: 'string', default: '0.1' },
        'fee-asset': { type: 'string', default: 'quote' },
        'initial-fee-asset': { type: 'string', default: '0' },
        'fee-asset-price': { type: 'string' },
        'slippage-percent': { type: 'string', default: '0.05' },
        'volume-share-percent': { type: 'string', default: '10' },
        json: { type: 'boolean', default: false },
        'scan-every-slot': { type: 'boolean', default: false },
        out: { type: 'string' },
      },
    }));
  } catch (error) {
    throw new ValidationError(`${error instanceof Error ? error.message : String(error)}; ${USAGE}`);
  }
  if (!values.data) throw new ValidationError(`--data is required; ${USAGE}`);
  // The data's timeframe: one scan per candle close; the strategies' lookbacks count candles of it.
  timeframeMs(values.timeframe);
  const from = values.from ? parseTime('from', values.from) : undefined;
  const to = values.to ? parseTime('to', values.to) : undefined;
  if (from !== undefined && to !== undefined && to <= from) throw new ValidationError('--to must be after --from (an empty window)');
  if (!UNSIGNED_DECIMAL_PATTERN.test(values.initial) || Number(values.initial) <= 0) throw new ValidationError(`--initial must be a positive decimal, got ${JSON.stringify(values.initial)}`);
  // Fees as the paper exchange charges them (EXE-12): quote, the coin bought, or a third asset.
  const feeAsset = values['fee-asset'];
  if (feeAsset !== 'quote' && feeAsset !== 'base' && !ASSET_PATTERN.test(feeAsset)) throw new ValidationError(`--fee-asset must be quote, base or an asset code such as BNB, got ${JSON.stringify(feeAsset)}`);
  const third = feeAsset !== 'quote' && feeAsset !== 'base';
  if (!UNSIGNED_DECIMAL_PATTERN.test(values['initial-fee-asset'])) throw new ValidationError(`--initial-fee-asset must be a non-negative decimal, got ${JSON.stringify(values['initial-fee-asset'])}`);
  if (!third && Number(values['initial-fee-asset']) > 0) throw new ValidationError('--initial-fee-asset goes with --fee-asset <asset code> (BNB)');
  const feeAssetPrice = values['fee-asset-price'];
  if (feeAssetPrice !== undefined && (!third || !UNSIGNED_DECIMAL_PATTERN.test(feeAssetPrice) || Number(feeAssetPrice) <= 0)) throw new ValidationError('--fee-asset-price must be a positive decimal and goes with --fee-asset <asset code> (BNB)');

  // The same configuration the live scanner reads; the tables and queues are not used here.
  const config = loadConfig({
    TW_STATE_TABLE: 'backtest',
    TW_AUDIT_TABLE: 'backtest',
    TW_IDEMPOTENCY_TABLE: 'backtest',
    TW_PAPER_TABLE: 'backtest',
    TW_EXECUTION_QUEUE_URL: 'http://backtest.invalid/execution',
    TW_EXECUTION_DLQ_URL: 'http://backtest.invalid/execution-dlq',
    ...env,
    TW_MODE: 'paper',
  });
  if (feeAsset === config.quoteCurrency) throw new ValidationError(`--fee-asset ${feeAsset} is the quote currency: use --fee-asset quote`);
  const named = values.symbols ? values.symbols.split(',').map((s) => s.trim().toUpperCase()) : env['TW_WATCHLIST'] ? config.watchlist : undefined;
  const files = await listDataSet(values.data, named);
  let tunables: Tunables = {};
  if (values.tunables) {
    const parsed = TunablesSchema.safeParse(readJson('tunables', values.tunables));
    if (!parsed.success) throw new ValidationError(`--tunables ${values.tunables}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    tunables = parsed.data;
  }
  const rulesFile = values.markets ? RulesFileSchema.safeParse(readJson('markets', values.markets)) : undefined;
  if (rulesFile && !rulesFile.success) throw new ValidationError(`--markets ${values.markets}: ${rulesFile.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const rules: Record<string, MarketRules> = {};
  for (const { symbol } of files) {
    const given = rulesFile?.data?.[symbol];
    rules[symbol] = given ? { ...defaultRules(symbol), ...given } : defaultRules(symbol);
    if (rules[symbol].quote !== config.quoteCurrency) throw new BacktestDataError(files.find((f) => f.symbol === symbol)!.path, 0, `${symbol} is not quoted in ${config.quoteCurrency} (TW_QUOTE_CURRENCY)`);
  }

  const { report, charts } = await runBacktest({
    files,
    ...(from === undefined ? {} : { from }),
    ...(to === undefined ? {} : { to }),
    timeframe: values.timeframe,
    scan: scannerSettings(config),
    tunables,
    strategies: BUILT_IN_STRATEGIES,
    rules,
    initialQuote: values.initial,
    feePercent: percent('fee-percent', values['fee-percent'], 10),
    feeAsset,
    initialFeeAsset: values['initial-fee-asset'],
    ...(feeAssetPrice === undefined ? {} : { feeAssetPrice }),
    slippagePercent: percent('slippage-percent', values['slippage-percent'], 10),
    volumeSharePercent: percent('volume-share-percent', values['volume-share-percent'], 100),
    reservationBufferPercent: config.reservationBufferPercent,
    reservationMaxAgeMs: config.reservationMaxAgeSeconds * 1000,
    drift: { alarmQuote: config.driftAlarmQuote, pauseQuote: config.driftPauseQuote },
    // The reference mode: the scanner's use case on every slot, none skipped (backtest/scan-gate.ts).
    gate: !values['scan-every-slot'],
    ...observe,
  });

  if (values.out) {
    mkdirSync(values.out, { recursive: true });
    writeFileSync(join(values.out, 'report.json'), JSON.stringify(report, null, 2) + '\n');
    writeFileSync(join(values.out, 'report.html'), renderHtmlReport(report as unknown as { totals: Record<string, unknown> } & Record<string, unknown>, charts));
    const columns = ['symbol', 'entryStrategy', 'exitStrategy', 'entryTime', 'exitTime', 'entryPrice', 'exitPrice', 'amount', 'pnl', 'fees', 'returnPercent', 'open'];
    writeFileSync(join(values.out, 'trades.csv'), stringify(report.trades.map((t) => ({ ...t })), { header: true, columns }));
  }
  if (values.json) console.log(JSON.stringify(report, null, 2));
  else {
    const t = report.totals;
    console.log(`backtest: ${report.candles} candles of ${files.map((f) => f.symbol).join(', ')} in ${report.seconds} s`);
    console.log(`  pnl ${t.pnl} ${config.quoteCurrency} (${t.returnPercent} %), buy and hold ${report.benchmark.returnPercent} %`);
    console.log(`  trades ${t.trades}, win rate ${t.winRate}, profit factor ${t.profitFactor ?? '—'}, fees ${t.fees}`);
    console.log(`  max drawdown ${t.maxDrawdownPercent} % over ${t.maxDrawdownDays} days, sharpe ${t.sharpe ?? '—'}, sortino ${t.sortino ?? '—'}, exposure ${t.exposurePercent} %`);
    console.log(`  rejected or blocked signals ${report.rejectedCount}, data gaps ${report.gapCount}`);
    if (values.out) console.log(`  report: ${join(values.out, 'report.html')}`);
  }
  return 0;
}

runAsScript(import.meta.url, () => main());
