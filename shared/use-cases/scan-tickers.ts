/**
 * The scan's ticker request (DATA-5, DATA-7): the one exchange call without which a scan can do
 * nothing, so it is retried within the scan before the scan gives up, and a failure that remains
 * is recorded for health (the scan report) before the scan fails with it.
 */
import { CircuitOpenError } from '../domain/circuit.js';
import { toTradewardenError, type TradewardenError } from '../domain/errors.js';
import { scanRetryDelayMs } from '../domain/timing.js';
import { RateBudgetExhaustedError } from '../ports/rate-budget.js';
import type { ScanDeps, ScanInput } from './scan-market.js';
import { DEFAULT_CANDLE_ATTEMPTS, DEFAULT_CANDLE_BACKOFF_MS, DEFAULT_SCAN_DEADLINE_MS } from './scan-settings.js';

const timer = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The ticker request, retried like a candle fetch: a retryable failure (not a refusal of the
 * rate budget or an open circuit) is tried again after a jittered backoff, at most the candle
 * attempts, and only while the pause ends before the scan's deadline. A failure that remains is
 * recorded for health and fails the scan.
 */
export async function fetchOrReport<T>(deps: ScanDeps, input: ScanInput, now: Date, fetch: () => Promise<T>): Promise<T> {
  const { settings } = deps;
  const deadline = now.getTime() + (input.deadlineMs ?? settings.deadlineMs ?? DEFAULT_SCAN_DEADLINE_MS);
  const attempts = settings.candleAttempts ?? DEFAULT_CANDLE_ATTEMPTS;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await fetch();
    } catch (error) {
      const failure = toTradewardenError(error);
      const delay = scanRetryDelayMs(attempt, settings.candleBackoffMs ?? DEFAULT_CANDLE_BACKOFF_MS, deps.random);
      const refused = error instanceof RateBudgetExhaustedError || error instanceof CircuitOpenError;
      if (failure.retryable && !refused && attempt < attempts && deps.clock.now().getTime() + delay < deadline) {
        await (deps.sleep ?? timer)(delay);
        continue;
      }
      failure.details['attempts'] = attempt;
      await reportFailure(deps, input, now, failure);
      throw failure;
    }
  }
}

async function reportFailure(deps: ScanDeps, input: ScanInput, now: Date, failure: TradewardenError): Promise<void> {
  if (input.dryRun) return;
  try {
    await deps.control.putReport('scan', {
      at: now.toISOString(),
      slot: input.slot.toISOString(),
      source: deps.exchange.source,
      failed: true,
      error: { code: failure.code, message: failure.message.slice(0, 300) },
      symbols: deps.settings.watchlist.length,
      fresh: 0,
    });
  } catch (reportError) {
    // The scan fails either way; keep the market data error as the one it fails with.
    failure.details['reportWriteFailed'] = reportError instanceof Error ? reportError.message : String(reportError);
  }
}
