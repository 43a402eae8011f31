/**
 * Scanner handler: parse the schedule event, run one scan, map the result.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { priceDrop } from '../../shared/domain/strategies/price-drop.js';
import type { Container } from '../../shared/runtime/container.js';
import { ScannerEventSchema } from '../../shared/runtime/events.js';
import { withStack } from '../../shared/runtime/handler-stack.js';
import { MetricName } from '../../shared/runtime/metric-names.js';
import { scanMarket } from '../../shared/use-cases/scan-market.js';

export function createScannerHandler(c: Container) {
  const { config } = c;
  const deps = {
    exchange: c.exchange,
    queue: c.queue,
    control: c.control,
    accounts: c.accounts,
    clock: c.clock,
    strategy: priceDrop,
    settings: {
      mode: config.mode,
      watchlist: config.watchlist,
      quoteCurrency: config.quoteCurrency,
      params: {
        dropPercent: config.dropPercent,
        lookbackCandles: config.lookbackCandles,
        takeProfitPercent: config.takeProfitPercent,
        stopLossPercent: config.stopLossPercent,
        orderQuoteAmount: config.orderQuoteAmount,
      },
      intentTtlSeconds: config.intentTtlSeconds,
      staleDataSeconds: config.staleDataSeconds,
      maxOpenPositions: config.maxOpenPositions,
      maxExposurePerSymbol: config.maxExposurePerSymbol,
    },
  };
  const everyMs = config.scannerEverySeconds * 1000;
  return withStack('scanner', c, ScannerEventSchema, async (event) => {
    // The slot is the scheduled time floored to the interval: a repeated event for the same
    // slot derives the same intent ids.
    const at = event.scheduledTime ? Date.parse(event.scheduledTime) : c.clock.now().getTime();
    const slot = new Date(Math.floor(at / everyMs) * everyMs);
    try {
      const result = await scanMarket(deps, { slot, dryRun: event.dryRun ?? false });
      const { metrics } = c.observability;
      metrics.addMetric(MetricName.Signals, MetricUnit.Count, result.signals.length);
      metrics.addMetric(MetricName.IntentsSent, MetricUnit.Count, result.dryRun ? 0 : result.intents.length);
      metrics.addMetric(MetricName.StaleData, MetricUnit.Count, result.rejectedData.length);
      return result;
    } catch (error) {
      c.observability.metrics.addMetric(MetricName.ScanFailed, MetricUnit.Count, 1);
      throw error;
    }
  });
}
