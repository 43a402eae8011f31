/**
 * The scanner's settings from the deployment configuration (Config -> ScanSettings), apart from
 * the handler: the backtest and the operator read them without loading the Lambda stack (AWS SDK
 * clients, Powertools, middy), which they do not use.
 */
import { ConfigError } from '../domain/errors.js';
import { BUILT_IN_STRATEGIES } from '../domain/strategies/index.js';
import { MA_CROSSOVER } from '../domain/strategies/ma-crossover.js';
import { PRICE_DROP } from '../domain/strategies/price-drop.js';
import { RSI_MEAN_REVERSION } from '../domain/strategies/rsi-mean-reversion.js';
import type { ScanSettings } from '../use-cases/scan-settings.js';
import { configuredProtections, scanDeadlineSeconds, type Config } from './config.js';

/** Strategies on when the configuration names none. */
export const DEFAULT_STRATEGIES: readonly string[] = [PRICE_DROP];

/**
 * The scanner's defaults from the deployment configuration; the tunables record overrides them.
 * @throws ConfigError when the configuration names a strategy that does not exist.
 */
export function scannerSettings(config: Config): ScanSettings {
  const on = new Set(config.strategies.length > 0 ? config.strategies : DEFAULT_STRATEGIES);
  const unknown = [...on].filter((name) => !BUILT_IN_STRATEGIES[name]);
  if (unknown.length > 0) throw new ConfigError([`TW_STRATEGIES: unknown strategy ${unknown.join(', ')}; known: ${Object.keys(BUILT_IN_STRATEGIES).join(', ')}`]);
  return {
    mode: config.mode,
    watchlist: config.watchlist,
    ...(config.pairListTop > 0
      ? {
          pairList: {
            top: config.pairListTop,
            quoteCurrency: config.quoteCurrency,
            minQuoteVolume: config.pairListMinQuoteVolume,
            minPrice: config.pairListMinPrice,
            maxSpreadPercent: config.pairListMaxSpreadPercent,
            allow: config.pairListAllow,
            deny: config.pairListDeny,
          },
        }
      : {}),
    candleConcurrency: config.scanConcurrency,
    deadlineMs: scanDeadlineSeconds(config) * 1000,
    quoteCurrency: config.quoteCurrency,
    intentTtlSeconds: config.intentTtlSeconds,
    staleDataSeconds: config.staleDataSeconds,
    orderQuoteAmount: config.orderQuoteAmount,
    protections: configuredProtections(config),
    strategies: {
      [PRICE_DROP]: { enabled: on.has(PRICE_DROP), params: { dropPercent: config.dropPercent, lookbackCandles: config.lookbackCandles } },
      [MA_CROSSOVER]: { enabled: on.has(MA_CROSSOVER), params: {} },
      [RSI_MEAN_REVERSION]: { enabled: on.has(RSI_MEAN_REVERSION), params: {} },
    },
  };
}
