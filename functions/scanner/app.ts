/**
 * Scanner handler: parse the schedule event, run one scan, map the result to metrics, audit its
 * decisions (shared/use-cases/audit-scan.ts).
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDbTunablesStore } from '../../shared/adapters/aws/dynamodb-tunables-store.js';
import { CircuitOpenError } from '../../shared/domain/circuit.js';
import type { MarketRules } from '../../shared/domain/market.js';
import { BUILT_IN_STRATEGIES } from '../../shared/domain/strategies/index.js';
import type { StrategyPlugin } from '../../shared/domain/strategies/strategy.js';
import type { RiskStateStore, TunablesStore } from '../../shared/ports/tunables-store.js';
import { checkScheduledTime } from '../../shared/domain/scheduled-time.js';
import type { Container } from '../../shared/runtime/container.js';
import { ScannerEventSchema } from '../../shared/runtime/events/scanner.js';
import { withStack } from '../../shared/runtime/handler-stack.js';
import { MetricName } from '../../shared/runtime/metric-names.js';
import { addIfNonZero } from '../../shared/runtime/observability.js';
import { scannerSettings } from '../../shared/runtime/scanner-settings.js';
import { auditScanDecisions } from '../../shared/use-cases/audit-scan.js';
import { CandleCache, scanMarket, type ScanDeps } from '../../shared/use-cases/scan-market.js';

/** Time kept before the function timeout to decide, send the intents and write the report. */
export const SCAN_FINISH_MARGIN_MS = 5_000;

/** Kept here for the handler's importers; the settings live apart from the Lambda stack. */
export { DEFAULT_STRATEGIES, scannerSettings } from '../../shared/runtime/scanner-settings.js';

export interface ScannerOptions {
  /** @default DynamoDbTunablesStore on the state table */
  readonly tunables?: TunablesStore & RiskStateStore;
  /** @default BUILT_IN_STRATEGIES */
  readonly strategies?: Readonly<Record<string, StrategyPlugin>>;
}

export function createScannerHandler(c: Container, options: ScannerOptions = {}) {
  const { config } = c;
  const tunables = options.tunables ?? new DynamoDbTunablesStore({ doc: c.doc, table: config.stateTable });
  // Per container: markets once, candles between scans (bounded).
  let markets: Promise<Readonly<Record<string, MarketRules>>> | undefined;
  const deps: ScanDeps = {
    exchange: c.exchange,
    queue: c.queue,
    control: c.control,
    accounts: c.accounts,
    tunables,
    risk: tunables,
    clock: c.clock,
    markets: () =>
      (markets ??= c.exchange.loadMarkets().catch((error: unknown) => {
        markets = undefined;
        throw error;
      })),
    strategies: options.strategies ?? BUILT_IN_STRATEGIES,
    candles: new CandleCache(),
    orders: c.orders,
    settings: scannerSettings(config),
  };
  const everyMs = config.scannerEverySeconds * 1000;
  // DATA-9: a time more than one period ahead, or older than an intent lives, changes nothing.
  const limits = { periodMs: everyMs, maxAgeMs: config.intentTtlSeconds * 1000 };
  const check = (event: { scheduledTime?: string | undefined }) => {
    if (event.scheduledTime) checkScheduledTime('scanner', event.scheduledTime, c.clock.now(), limits);
  };
  return withStack(
    'scanner',
    c,
    ScannerEventSchema,
    async (event, context) => {
      // The slot is the scheduled time floored to the interval: a repeated event for the same
      // slot derives the same intent ids.
      const at = event.scheduledTime ? Date.parse(event.scheduledTime) : c.clock.now().getTime();
      const slot = new Date(Math.floor(at / everyMs) * everyMs);
      const remaining = typeof context?.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() - SCAN_FINISH_MARGIN_MS : Infinity;
      const { metrics } = c.observability;
      try {
        const result = await scanMarket(deps, { slot, dryRun: event.dryRun ?? false, deadlineMs: Math.max(0, Math.min(deps.settings.deadlineMs ?? Infinity, remaining)) });
        // Published only when not zero: a quiet hour bills no metric (addIfNonZero).
        addIfNonZero(metrics, MetricName.Signals, MetricUnit.Count, result.signals.length);
        addIfNonZero(metrics, MetricName.IntentsSent, MetricUnit.Count, result.dryRun ? 0 : result.intents.length);
        addIfNonZero(metrics, MetricName.StaleData, MetricUnit.Count, result.rejectedData.length);
        addIfNonZero(metrics, MetricName.SymbolsFailed, MetricUnit.Count, result.failedSymbols.length);
        addIfNonZero(metrics, MetricName.SymbolsUnreached, MetricUnit.Count, result.unreached.length);
        await auditScanDecisions(c.audit, result, c.clock.now());
        return result;
      } catch (error) {
        metrics.addMetric(MetricName.ScanFailed, MetricUnit.Count, 1);
        if (error instanceof CircuitOpenError) metrics.addMetric(MetricName.CircuitOpen, MetricUnit.Count, 1);
        throw error;
      }
    },
    { check },
  );
}
