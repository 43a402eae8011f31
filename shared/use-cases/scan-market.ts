/**
 * One market scan: data in, intents out.
 *
 * Primary course:
 * 1. Kill switch, fail closed: an unreadable pause record fails the scan; a pause returns early.
 * 2. Data source honesty: live mode refuses a synthetic source (DATA-4).
 * 3. Tickers for the whole watchlist in one request (DATA-5); each is validated and stale ones
 *    are dropped with a reason (DATA-1, DATA-2).
 * 4. Candles for the strategy, validated and gap-checked (DATA-3).
 * 5. The strategy turns data and positions into signals; protections drop what breaks a limit.
 * 6. Each signal becomes an intent whose id is derived from the schedule slot, so the same
 *    slot scanned twice sends the same ids (deduplicated by the FIFO queue and the executor).
 * 7. Intents go to the FIFO queue (unless dry run); the scan report is stored for health.
 */
import { TradewardenError, ErrorCode } from '../domain/errors.js';
import { intentIdFor, type Intent } from '../domain/intent.js';
import type { DataSource, Ticker } from '../domain/market.js';
import { checkCandles, checkTicker, type Rejection } from '../domain/market-validation.js';
import { dec } from '../domain/money.js';
import type { Signal, Strategy } from '../domain/strategies/strategy.js';
import type { PriceDropParams } from '../domain/strategies/price-drop.js';
import type { AccountStore } from '../ports/account-store.js';
import type { Clock } from '../ports/clock.js';
import type { ControlStore } from '../ports/control-store.js';
import type { Exchange } from '../ports/exchange.js';
import type { IntentQueue } from '../ports/intent-queue.js';
import { isPauseActive } from './pause.js';

export interface ScanDeps {
  readonly exchange: Exchange;
  readonly queue: IntentQueue;
  readonly control: ControlStore;
  readonly accounts: AccountStore;
  readonly clock: Clock;
  readonly strategy: Strategy<PriceDropParams>;
  readonly settings: {
    readonly mode: 'paper' | 'live';
    readonly watchlist: readonly string[];
    readonly quoteCurrency: string;
    readonly params: PriceDropParams;
    readonly intentTtlSeconds: number;
    readonly staleDataSeconds: number;
    readonly maxOpenPositions: number;
    readonly maxExposurePerSymbol: string;
  };
}

export interface ScanInput {
  /** The schedule slot this scan is for (the scheduled time, not the time it ran). */
  readonly slot: Date;
  readonly dryRun: boolean;
}

export interface ScanResult {
  readonly status: 'scanned' | 'paused';
  readonly slot: string;
  readonly source: DataSource;
  readonly dryRun: boolean;
  readonly pauseReason?: string;
  readonly symbols: number;
  readonly signals: readonly Signal[];
  readonly intents: readonly Intent[];
  readonly rejectedData: readonly Rejection[];
  readonly blocked: readonly { symbol: string; reason: string }[];
}

export async function scanMarket(deps: ScanDeps, input: ScanInput): Promise<ScanResult> {
  const now = deps.clock.now();
  const { settings } = deps;
  const slot = input.slot.toISOString();
  const empty = { slot, source: deps.exchange.source, dryRun: input.dryRun, symbols: settings.watchlist.length, signals: [], intents: [], rejectedData: [], blocked: [] };

  // 1. Kill switch (fail closed: getPause throws when unreadable).
  const pause = await deps.control.getPause();
  if (isPauseActive(pause, now)) return { ...empty, status: 'paused', pauseReason: pause.reason ?? 'paused' };

  // 2. Never trade live on made-up data.
  if (settings.mode === 'live' && deps.exchange.source !== 'exchange') {
    throw new TradewardenError(ErrorCode.SyntheticDataRefused, 'live mode refuses a synthetic market data source', false);
  }

  // 3. One request for the whole watchlist; validate each ticker.
  const raw = await deps.exchange.fetchTickers(settings.watchlist);
  const maxAgeMs = settings.staleDataSeconds * 1000;
  const rejectedData: Rejection[] = [];
  const tickers: Ticker[] = [];
  for (const symbol of settings.watchlist) {
    const found = raw.find((t) => t.symbol === symbol);
    if (!found) {
      rejectedData.push({ symbol, reason: 'no ticker returned' });
      continue;
    }
    const checked = checkTicker(found, now, maxAgeMs);
    if (checked.ok) tickers.push(checked.ticker);
    else rejectedData.push(checked.rejection);
  }

  // 4-5. Strategy over validated data, then protections.
  const book = await deps.accounts.get(settings.quoteCurrency);
  const positions = book?.positions ?? {};
  const signals: Signal[] = [];
  const blocked: { symbol: string; reason: string }[] = [];
  let openPositions = Object.values(positions).filter((p) => dec(p.qty).gt(0)).length;
  const needed = deps.strategy.candlesNeeded(settings.params);
  for (const ticker of tickers) {
    const position = positions[ticker.symbol];
    let candles: Awaited<ReturnType<Exchange['fetchCandles']>> = [];
    const holding = position !== undefined && dec(position.qty).gt(0);
    if (needed > 0 && !holding) {
      const checked = checkCandles(await deps.exchange.fetchCandles(ticker.symbol, needed), now, maxAgeMs + 60_000);
      if (!checked.ok) {
        rejectedData.push({ symbol: ticker.symbol, reason: checked.reason });
        continue;
      }
      candles = checked.candles;
    }
    for (const signal of deps.strategy.evaluate({ ticker, candles, position }, settings.params)) {
      if (signal.side === 'buy') {
        if (openPositions >= settings.maxOpenPositions) {
          blocked.push({ symbol: signal.symbol, reason: `max open positions ${settings.maxOpenPositions} reached` });
          continue;
        }
        const exposure = dec(position?.qty ?? '0').times(ticker.ask).plus(signal.quoteAmount ?? '0');
        if (exposure.gt(settings.maxExposurePerSymbol)) {
          blocked.push({ symbol: signal.symbol, reason: `exposure ${exposure.toFixed()} would exceed ${settings.maxExposurePerSymbol}` });
          continue;
        }
        openPositions += 1;
      }
      signals.push(signal);
    }
  }

  // 6. Deterministic intents for this slot.
  const expiresAt = new Date(now.getTime() + settings.intentTtlSeconds * 1000).toISOString();
  const intents: Intent[] = signals.map((s) => {
    const id = intentIdFor({ strategy: s.strategy, symbol: s.symbol, side: s.side, slot });
    return {
      id,
      strategy: s.strategy,
      symbol: s.symbol,
      side: s.side,
      type: 'market',
      ...(s.quoteAmount ? { quoteAmount: s.quoteAmount } : {}),
      ...(s.amount ? { amount: s.amount } : {}),
      createdAt: now.toISOString(),
      expiresAt,
      correlationId: id,
      reason: s.reason.slice(0, 200),
    };
  });

  // 7. Send, then record the scan for health (data freshness and source).
  if (!input.dryRun && intents.length > 0) await deps.queue.send(intents);
  const scanResult: ScanResult = { ...empty, status: 'scanned', signals, intents, rejectedData, blocked };
  if (!input.dryRun) {
    await deps.control.putReport('scan', {
      at: now.toISOString(),
      slot,
      source: deps.exchange.source,
      symbols: settings.watchlist.length,
      fresh: tickers.length,
      rejectedData,
      intents: intents.length,
    });
  }
  return scanResult;
}
