/**
 * A backtest's wiring: the venue (the candle venue, or the paper exchange for a parity run) and the
 * live scanner's, executor's and reconciler's use cases over in-memory ports, with the settings a
 * backtest gives them. No rule lives here: only which port each use case gets.
 */
import { dec, str } from '../shared/domain/money.js';
import type { ExecuteIntentDeps } from '../shared/use-cases/execute-intent.js';
import type { ReconcileDeps } from '../shared/use-cases/reconcile.js';
import { CandleCache, type ScanDeps } from '../shared/use-cases/scan-market.js';
import { entryLimitsOf } from '../shared/use-cases/scan-settings.js';
import { CandleVenue } from './candle-venue.js';
import type { BacktestSettings } from './engine.js';
import type { PaperVenue } from './paper-venue.js';
import { MemoryAccountStore, MemoryAuditLog, MemoryControlStore, MemoryLockService, MemoryOrderStore, MemoryQueue, MemoryTunablesStore, type SimulatedClock } from './memory-ports.js';

/** The executor's and reconciler's lease in a backtest: everything runs in one process, in order. */
export const LEASE_MS = 60_000;

/** What the engine has worked out before wiring: the symbols, clock, candle period, lookback and fees. */
export interface WiringFacts {
  readonly symbols: readonly string[];
  readonly clock: SimulatedClock;
  readonly timeframeMs: number;
  readonly lookback: number;
  /** Fee per fill, as a fraction. */
  readonly feeRate: string;
  /** A third fee asset (BNB) held from the start, if any. */
  readonly thirdFeeAsset: string | undefined;
}

export async function wireUseCases(settings: BacktestSettings, at: WiringFacts) {
  const quote = settings.scan.quoteCurrency;
  // The paper exchange (parity runs only) is loaded when asked for: it brings the DynamoDB paper
  // store's module, and with it the AWS SDK, which a run on the candle venue has no use for.
  const venue: CandleVenue | PaperVenue = settings.quotes
    ? new (await import('./paper-venue.js')).PaperVenue({ quotes: settings.quotes, rules: settings.rules, clock: at.clock, timeframeMs: at.timeframeMs, lookback: at.lookback, quoteCurrency: quote, feeRate: at.feeRate, feeAsset: settings.feeAsset, initialBalances: { [quote]: settings.initialQuote, ...(at.thirdFeeAsset ? { [at.thirdFeeAsset]: settings.initialFeeAsset! } : {}) } })
    : new CandleVenue({
        quoteCurrency: quote,
        initialQuote: settings.initialQuote,
        feeRate: at.feeRate,
        feeAsset: settings.feeAsset,
        ...(settings.initialFeeAsset === undefined ? {} : { initialFeeAsset: settings.initialFeeAsset }),
        ...(settings.feeAssetPrice === undefined ? {} : { feeAssetPrice: settings.feeAssetPrice }),
        slippage: str(dec(settings.slippagePercent).div(100)),
        volumeShare: str(dec(settings.volumeSharePercent).div(100)),
        timeframeMs: at.timeframeMs,
        lookback: at.lookback,
        rules: settings.rules,
      });
  const orders = new MemoryOrderStore();
  const accounts = new MemoryAccountStore();
  const locks = new MemoryLockService();
  const control = new MemoryControlStore();
  const audit = new MemoryAuditLog();
  const tunables = new MemoryTunablesStore(settings.tunables);
  const queue = new MemoryQueue();
  const scanDeps: ScanDeps = {
    exchange: venue,
    queue,
    control,
    accounts,
    tunables,
    risk: tunables,
    clock: at.clock,
    markets: async () => settings.rules,
    strategies: settings.strategies,
    candles: new CandleCache(undefined, undefined, at.timeframeMs),
    orders,
    settings: { ...settings.scan, watchlist: [...at.symbols], mode: 'paper' },
  };
  // The executor and the reconciler share the stores, the lease service, the venue and the clock.
  const shared = { orders, accounts, locks, exchange: venue, audit, control, clock: at.clock };
  const executeDeps: ExecuteIntentDeps = {
    ...shared,
    marketRules: async (symbol) => settings.rules[symbol]!,
    markets: async () => settings.rules,
    entryLimits: async () => entryLimitsOf(settings.scan.protections, (await tunables.getTunables()).tunables),
    settings: { quoteCurrency: quote, lockLeaseMs: LEASE_MS, reservationBufferPercent: settings.reservationBufferPercent, owner: 'backtest-executor', resendGraceMs: 0, intentTtlMs: settings.scan.intentTtlSeconds * 1000 },
  };
  const reconcileDeps: ReconcileDeps = {
    ...shared,
    settings: {
      quoteCurrency: quote,
      owner: 'backtest-reconciler',
      lockLeaseMs: LEASE_MS,
      // The executor of a backtest has finished before the reconciler runs: nothing to wait for.
      settleMs: 0,
      lostAfterNotFound: 3,
      lostGraceMs: 0,
      reservationMaxAgeMs: settings.reservationMaxAgeMs,
      pageSize: 100,
      watchlist: at.symbols,
      drift: settings.drift,
    },
  };
  return { venue, orders, accounts, control, audit, tunables, queue, scanDeps, executeDeps, reconcileDeps };
}
