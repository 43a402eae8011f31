/**
 * The backtest settings the backtest suites start from: the live scanner's configuration defaults
 * over a data set, with the CLI's default market rules, fees and fills (as `npm run backtest`
 * builds them without options, apart from a 300 s cooldown).
 */
import { listDataSet } from '../../backtest/data/data-set.js';
import type { BacktestSettings } from '../../backtest/engine.js';
import { scannerSettings } from '../../functions/scanner/app.js';
import { BUILT_IN_STRATEGIES } from '../../shared/domain/strategies/index.js';
import { loadConfig } from '../../shared/runtime/config.js';
import { defaultRules } from '../../scripts/backtest.js';

/** The deployment configuration a backtest reads (tables and queues are never reached). */
export const BACKTEST_CONFIG = loadConfig({
  TW_STATE_TABLE: 'backtest',
  TW_AUDIT_TABLE: 'backtest',
  TW_IDEMPOTENCY_TABLE: 'backtest',
  TW_PAPER_TABLE: 'backtest',
  TW_EXECUTION_QUEUE_URL: 'http://q.invalid/e',
  TW_EXECUTION_DLQ_URL: 'http://q.invalid/d',
});

/** The settings of a run over the data set in `dir`, with `over` on top. */
export async function backtestSettings(dir: string, over: Partial<BacktestSettings> = {}): Promise<BacktestSettings> {
  const files = await listDataSet(dir);
  const config = BACKTEST_CONFIG;
  return {
    files,
    scan: scannerSettings(config),
    tunables: { cooldownSeconds: 300 },
    strategies: BUILT_IN_STRATEGIES,
    rules: Object.fromEntries(files.map((f) => [f.symbol, defaultRules(f.symbol)])),
    initialQuote: '10000',
    feePercent: '0.1',
    feeAsset: 'quote',
    slippagePercent: '0.05',
    volumeSharePercent: '10',
    reservationBufferPercent: config.reservationBufferPercent,
    reservationMaxAgeMs: config.reservationMaxAgeSeconds * 1000,
    drift: { alarmQuote: config.driftAlarmQuote, pauseQuote: config.driftPauseQuote },
    ...over,
  };
}
