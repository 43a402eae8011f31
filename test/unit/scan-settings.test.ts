import { describe, expect, it } from 'vitest';
import { scannerSettings } from '../../functions/scanner/app.js';
import { DEFAULT_PROTECTIONS } from '../../shared/domain/protections.js';
import { BUILT_IN_STRATEGIES } from '../../shared/domain/strategies/index.js';
import { loadConfig } from '../../shared/runtime/config.js';
import { resolveScanSettings } from '../../shared/use-cases/scan-market.js';

const CONFIG = loadConfig({
  TW_STATE_TABLE: 'state',
  TW_AUDIT_TABLE: 'audit',
  TW_IDEMPOTENCY_TABLE: 'idem',
  TW_PAPER_TABLE: 'paper',
  TW_EXECUTION_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/1/q.fifo',
  TW_EXECUTION_DLQ_URL: 'https://sqs.us-east-1.amazonaws.com/1/dlq.fifo',
  TW_STRATEGY_DROP_PERCENT: '2',
});

describe('Scanner settings', () => {
  it('takes its defaults from the deployment configuration: price-drop on, the others off', () => {
    const settings = scannerSettings(CONFIG);
    expect(settings.strategies).toEqual({
      'price-drop': { enabled: true, params: { dropPercent: '2', lookbackCandles: 30 } },
      'ma-crossover': { enabled: false, params: {} },
      'rsi-mean-reversion': { enabled: false, params: {} },
    });
    expect(settings.protections).toEqual({
      maxOpenPositions: CONFIG.maxOpenPositions,
      maxExposurePerSymbol: CONFIG.maxExposurePerSymbol,
      stopLossPercent: CONFIG.stopLossPercent,
      takeProfitPercent: CONFIG.takeProfitPercent,
      ...DEFAULT_PROTECTIONS,
    });
  });

  it('uses the scanner settings the configuration defines once it has them', () => {
    const settings = scannerSettings({ ...CONFIG, strategies: ['ma-crossover'], cooldownSeconds: 60, maxDailyLoss: '50' } as typeof CONFIG);
    expect(settings.strategies['price-drop']?.enabled).toBe(false);
    expect(settings.strategies['ma-crossover']?.enabled).toBe(true);
    expect(settings.protections).toMatchObject({ cooldownSeconds: 60, maxDailyLoss: '50' });
  });

  it('refuses a configuration naming a strategy that does not exist', () => {
    expect(() => scannerSettings({ ...CONFIG, strategies: ['price-drop', 'moon-shot'] } as typeof CONFIG)).toThrow(/TW_STRATEGIES: unknown strategy moon-shot/);
  });

  it('resolves a strategy switch per symbol over the global switch over the default', () => {
    const resolved = resolveScanSettings(
      scannerSettings(CONFIG),
      { strategies: { 'price-drop': { enabled: false, symbols: { 'ETH/USDT': true } }, 'rsi-mean-reversion': { symbols: { 'BTC/USDT': true } } } },
      BUILT_IN_STRATEGIES,
    );
    const on = (name: string, symbol: string) => resolved.strategies.find((s) => s.strategy.name === name)?.enabledFor(symbol);
    expect([on('price-drop', 'BTC/USDT'), on('price-drop', 'ETH/USDT')]).toEqual([false, true]);
    expect([on('rsi-mean-reversion', 'BTC/USDT'), on('rsi-mean-reversion', 'ETH/USDT')]).toEqual([true, false]);
    expect([on('ma-crossover', 'BTC/USDT')]).toEqual([false]);
  });
});
