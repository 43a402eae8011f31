/**
 * Downloads OHLCV history for the backtest through ccxt, page by page, into one file per symbol
 * (the format `npm run backtest -- --data` reads). It resumes where an earlier run stopped: the
 * file is read back (and validated), a line torn by a crash is cut, and the next page starts
 * after its last candle. The candle still forming is never written. Gaps the exchange has in its
 * history (DATA-3) are reported, never filled in. Transient exchange errors are retried with
 * jittered exponential backoff (cockatiel); permanent ones stop the download with their code.
 */
import { appendFileSync, closeSync, existsSync, ftruncateSync, openSync, readSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ccxt, { type Exchange as CcxtClient } from 'ccxt';
import { ExponentialBackoff, handleWhen, retry } from 'cockatiel';
import { ccxtClientSettings } from '../../shared/adapters/exchange/ccxt-exchange.js';
import { classifyExchangeError } from '../../shared/adapters/exchange/classify-exchange-error.js';
import { MarketDataError, TradewardenError, ValidationError } from '../../shared/domain/errors.js';
import type { Candle } from '../../shared/domain/market.js';
import { type CandleGap, fileNameForSymbol, readCandleFile } from './candle-file.js';

/** What the download needs of a ccxt exchange. */
export interface OhlcvSource {
  fetchOHLCV(symbol: string, timeframe: string, since: number, limit: number): Promise<ReadonlyArray<ReadonlyArray<number | undefined>>>;
}

/** Request timeout of the download's client, ms. */
export const DOWNLOAD_TIMEOUT_MS = 10_000;

/**
 * A ccxt client for public market data only: no keys, no clock sync (nothing is signed), ccxt's
 * own rate limiter on. `fetchImplementation` replaces the HTTP layer (recorded responses in tests).
 * @throws ValidationError for an exchange id ccxt does not know.
 */
export function createPublicClient(exchangeId: string, fetchImplementation?: CcxtClient['fetchImplementation']): CcxtClient {
  const Exchange = (ccxt as unknown as Record<string, new (settings: Record<string, unknown>) => CcxtClient>)[exchangeId];
  if (!ccxt.exchanges.includes(exchangeId) || !Exchange) throw new ValidationError(`unknown exchange ${JSON.stringify(exchangeId)}; ccxt knows e.g. binance, kraken, coinbase`);
  // The live client's settings (spot markets only, no retries inside ccxt), minus the clock sync.
  const settings = ccxtClientSettings({ exchangeId, timeoutMs: DOWNLOAD_TIMEOUT_MS });
  const client = new Exchange({ ...settings, options: { ...(settings['options'] as Record<string, unknown>), adjustForTimeDifference: false } });
  if (fetchImplementation) client.fetchImplementation = fetchImplementation;
  if (!client.has['fetchOHLCV']) throw new ValidationError(`${exchangeId} offers no OHLCV history through ccxt`);
  return client;
}

/** Candles asked for per request: Binance's maximum for klines. */
export const DOWNLOAD_PAGE_LIMIT = 1000;
/** Attempts of one page on transient errors before the download stops (it can be resumed). */
export const DOWNLOAD_MAX_ATTEMPTS = 5;

export interface DownloadRequest {
  readonly symbol: string;
  readonly timeframe: string;
  readonly timeframeMs: number;
  /** Inclusive start, epoch ms (ignored when the file already goes past it). */
  readonly from: number;
  /** Exclusive end, epoch ms; the download stops at the last closed candle before it. */
  readonly to: number;
  readonly outDir: string;
  readonly now: () => number;
  readonly pageLimit?: number;
  /** Backoff base, ms (tests use 1). */
  readonly backoffMs?: number;
}

export interface DownloadResult {
  readonly symbol: string;
  readonly file: string;
  /** Epoch ms the run started from: `from`, or just after the file's last candle. */
  readonly startedAt: number;
  readonly resumed: boolean;
  readonly written: number;
  readonly requests: number;
  readonly gaps: readonly CandleGap[];
  /** Open time of the last candle in the file, if any. */
  readonly lastCandle: number | undefined;
}

export async function downloadCandles(source: OhlcvSource, request: DownloadRequest): Promise<DownloadResult> {
  const file = join(request.outDir, fileNameForSymbol(request.symbol, 'csv'));
  const gaps: CandleGap[] = [];
  let last = existsSync(file) ? await resumePoint(file, request.timeframeMs, (g) => gaps.push(g)) : undefined;
  if (!existsSync(file)) writeFileSync(file, 'timestamp,open,high,low,close,volume\n');
  const resumed = last !== undefined;
  const startedAt = last === undefined ? request.from : Math.max(request.from, last + request.timeframeMs);
  const limit = request.pageLimit ?? DOWNLOAD_PAGE_LIMIT;
  const policy = retry(
    handleWhen((e) => e instanceof TradewardenError && e.retryable),
    { maxAttempts: DOWNLOAD_MAX_ATTEMPTS - 1, backoff: new ExponentialBackoff({ initialDelay: request.backoffMs ?? 500, maxDelay: 30_000 }) },
  );
  let since = startedAt;
  let written = 0;
  let requests = 0;
  for (;;) {
    const closedBefore = Math.min(request.to, request.now() - request.timeframeMs + 1);
    if (since >= closedBefore) break;
    const rows = await policy.execute(async () => {
      requests += 1;
      try {
        return await source.fetchOHLCV(request.symbol, request.timeframe, since, limit);
      } catch (error) {
        throw classifyExchangeError(error, 'read');
      }
    });
    const page: Candle[] = [];
    for (const row of rows) {
      const candle = toCandle(row, request.symbol);
      if (candle.openTime < since || candle.openTime >= closedBefore) continue;
      if (last !== undefined) {
        if (candle.openTime <= last) continue;
        if (candle.openTime - last > request.timeframeMs) {
          gaps.push({ symbol: request.symbol, file, after: last, before: candle.openTime, missingCandles: (candle.openTime - last) / request.timeframeMs - 1 });
        }
      }
      page.push(candle);
      last = candle.openTime;
    }
    if (page.length > 0) {
      appendFileSync(file, page.map((c) => `${c.openTime},${c.open},${c.high},${c.low},${c.close},${c.volume}\n`).join(''));
      written += page.length;
    }
    // An empty page: the exchange has nothing from `since` on (a gap up to now, or the end).
    const next = page.length > 0 ? last! + request.timeframeMs : rows.length > 0 ? lastOpenTime(rows) + request.timeframeMs : Infinity;
    if (next <= since) break;
    since = next;
  }
  return { symbol: request.symbol, file, startedAt, resumed, written, requests, gaps, lastCandle: last };
}

/** Cuts a last line torn by a crash, validates the file and returns its last candle's open time. */
async function resumePoint(file: string, timeframeMs: number, onGap: (gap: CandleGap) => void): Promise<number | undefined> {
  cutTornLine(file);
  let last: number | undefined;
  for await (const candle of readCandleFile(file, { timeframeMs, onGap })) last = candle.openTime;
  return last;
}

function cutTornLine(file: string): void {
  const size = statSync(file).size;
  if (size === 0) return;
  const fd = openSync(file, 'r+');
  try {
    const tail = Buffer.alloc(Math.min(size, 4096));
    readSync(fd, tail, 0, tail.length, size - tail.length);
    if (tail[tail.length - 1] === 0x0a) return;
    const cut = tail.lastIndexOf(0x0a);
    ftruncateSync(fd, cut < 0 ? 0 : size - tail.length + cut + 1);
  } finally {
    closeSync(fd);
  }
}

function lastOpenTime(rows: ReadonlyArray<ReadonlyArray<number | undefined>>): number {
  return Math.max(...rows.map((r) => (typeof r[0] === 'number' ? r[0] : -Infinity)));
}

/** @throws MarketDataError for a row with a missing or non-finite field: it is never skipped silently. */
function toCandle(row: ReadonlyArray<number | undefined>, symbol: string): Candle {
  const [openTime, open, high, low, close, volume] = row;
  if ([openTime, open, high, low, close, volume].some((v) => typeof v !== 'number' || !Number.isFinite(v))) {
    throw new MarketDataError(`the exchange sent an incomplete candle for ${symbol}: ${JSON.stringify(row)}`, false);
  }
  return { openTime: openTime!, open: decimal(open!), high: decimal(high!), low: decimal(low!), close: decimal(close!), volume: decimal(volume!) };
}

function decimal(value: number): string {
  const text = String(value);
  return /e/i.test(text) ? value.toFixed(18).replace(/\.?0+$/, '') : text;
}
