import { describe, expect, it } from 'vitest';
import { scannerSettings } from '../../functions/scanner/app.js';
import { DEFAULT_PROTECTIONS } from '../../shared/domain/protections.js';
import { BUILT_IN_STRATEGIES } from '../../shared/domain/strategies/index.js';
import { loadConfig } from '../../shared/runtime/config.js';
import { resolveScanSettings } from '../../shared/use-cases/scan-market.js';
import { tunablesKey } from '../../shared/use-cases/scan-settings.js';

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

  describe('Function: resolveScanSettings (a record read again)', () => {
    const record = () => ({ maxOpenPositions: 2, strategies: { 'price-drop': { enabled: true, params: { dropPercent: '2.5' } } } });

    it('resolves a record with the same content, read again as a new object, to the same settings and prepared strategies', () => {
      const defaults = scannerSettings(CONFIG);
      const first = resolveScanSettings(defaults, record(), BUILT_IN_STRATEGIES);
      const again = resolveScanSettings(defaults, record(), BUILT_IN_STRATEGIES);
      expect(again).toBe(first);
      expect(again.strategies[0]!.strategy).toBe(first.strategies[0]!.strategy);
    });

    it('resolves a changed record anew, with the change', () => {
      const defaults = scannerSettings(CONFIG);
      const first = resolveScanSettings(defaults, record(), BUILT_IN_STRATEGIES);
      const changed = resolveScanSettings(defaults, { ...record(), maxOpenPositions: 3 }, BUILT_IN_STRATEGIES);
      expect(changed).not.toBe(first);
      expect(changed.protections.maxOpenPositions).toBe(3);
      const params = resolveScanSettings(defaults, { ...record(), strategies: { 'price-drop': { enabled: true, params: { dropPercent: '3' } } } }, BUILT_IN_STRATEGIES);
      expect(params.strategies.find((s) => s.strategy.name === 'price-drop')?.strategy.params).toMatchObject({ dropPercent: '3' });
      // Back to the first content: resolved again (only the last content is kept), equal to the first.
      const back = resolveScanSettings(defaults, record(), BUILT_IN_STRATEGIES);
      expect(back.protections).toEqual(first.protections);
    });

    it('still refuses an invalid record on every read', () => {
      const defaults = scannerSettings(CONFIG);
      const bad = () => ({ strategies: { 'price-drop': { params: { dropPercent: '250' } } } });
      expect(() => resolveScanSettings(defaults, bad(), BUILT_IN_STRATEGIES)).toThrow(/invalid parameters for strategy price-drop/);
      expect(() => resolveScanSettings(defaults, bad(), BUILT_IN_STRATEGIES)).toThrow(/invalid parameters for strategy price-drop/);
    });

    it('keys a record by its content, and gives no key where the text would hide a difference (-0)', () => {
      expect(tunablesKey(record())).toBe(tunablesKey(record()));
      expect(tunablesKey({ maxOpenPositions: 1 })).not.toBe(tunablesKey({ maxOpenPositions: 2 }));
      expect(tunablesKey({ orderQuoteAmount: '1' })).not.toBe(tunablesKey({ maxOpenPositions: 1 }));
      expect(tunablesKey({ maxOpenPositions: -0 })).toBeUndefined();
    });
  });
});
