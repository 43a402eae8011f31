/**
 * The OHLCV download through ccxt's real Binance client, fed recorded-shape responses (never the
 * network): paging, resume after a crash, gaps reported and not bridged, retries of transient
 * errors, and no candle that is still forming.
 */
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ccxt, { type Exchange as CcxtClient } from 'ccxt';
import { createPublicClient, downloadCandles, type DownloadRequest } from '../../../backtest/data/download.js';
import { RecordedFetch, recorded, type RecordedResponse } from '../../fixtures/binance/recorded-fetch.js';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 2, 1, 12, 0);

function kline(openTime: number, close = 100): unknown[] {
  return [openTime, '99.00', String(close + 1), '98.50', String(close), '1.50000000', openTime + MINUTE - 1, '150.0', 10, '0.7', '70.0', '0'];
}

function page(...openTimes: number[]): RecordedResponse {
  return { status: 200, headers: { 'content-type': 'application/json;charset=UTF-8', 'x-mbx-used-weight-1m': '2' }, body: openTimes.map((t) => kline(t)) };
}

function client(http: RecordedFetch): CcxtClient {
  const c = createPublicClient('binance', http.fetch as never);
  c.rateLimit = 1;
  return c;
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tw-bt-download-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const request = (over: Partial<DownloadRequest> = {}): DownloadRequest => ({
  symbol: 'BTC/USDT',
  timeframe: '1m',
  timeframeMs: MINUTE,
  from: T0,
  to: T0 + 5 * MINUTE,
  outDir: dir,
  now: () => T0 + 60 * MINUTE,
  pageLimit: 3,
  backoffMs: 1,
  ...over,
});

const rowsOf = (file: string) => readFileSync(file, 'utf8').trim().split('\n');
const startTimes = (http: RecordedFetch) => http.requests.filter((r) => r.url.pathname === '/api/v3/klines').map((r) => Number(r.url.searchParams.get('startTime')));

describe('Backtest data: download through ccxt', () => {
  it('pages through the window and writes one CSV per symbol', async () => {
    const http = new RecordedFetch().on('GET', '/api/v3/exchangeInfo', recorded('exchange-info')).on('GET', '/api/v3/klines', page(T0, T0 + MINUTE, T0 + 2 * MINUTE), page(T0 + 3 * MINUTE, T0 + 4 * MINUTE, T0 + 5 * MINUTE));
    const result = await downloadCandles(client(http), request());
    expect(result).toMatchObject({ written: 5, requests: 2, resumed: false, gaps: [], lastCandle: T0 + 4 * MINUTE });
    expect(startTimes(http)).toEqual([T0, T0 + 3 * MINUTE]);
    const rows = rowsOf(join(dir, 'BTC-USDT.csv'));
    expect(rows[0]).toBe('timestamp,open,high,low,close,volume');
    expect(rows.slice(1).map((r) => Number(r.split(',')[0]))).toEqual([0, 1, 2, 3, 4].map((i) => T0 + i * MINUTE));
  });

  it('resumes after the last complete line of an interrupted download', async () => {
    const first = new RecordedFetch().on('GET', '/api/v3/exchangeInfo', recorded('exchange-info')).on('GET', '/api/v3/klines', page(T0, T0 + MINUTE, T0 + 2 * MINUTE), { fail: new ccxt.NetworkError('connection reset') });
    await expect(downloadCandles(client(first), request())).rejects.toMatchObject({ code: 'EXCHANGE_TRANSIENT' });
    const file = join(dir, 'BTC-USDT.csv');
    appendFileSync(file, `${T0 + 3 * MINUTE},99,1`); // torn by a crash mid-write
    const second = new RecordedFetch().on('GET', '/api/v3/exchangeInfo', recorded('exchange-info')).on('GET', '/api/v3/klines', page(T0 + 3 * MINUTE, T0 + 4 * MINUTE));
    const result = await downloadCandles(client(second), request());
    expect(result).toMatchObject({ resumed: true, startedAt: T0 + 3 * MINUTE, written: 2 });
    expect(startTimes(second)).toEqual([T0 + 3 * MINUTE]);
    expect(rowsOf(file).slice(1).map((r) => Number(r.split(',')[0]))).toEqual([0, 1, 2, 3, 4].map((i) => T0 + i * MINUTE));
  });

  it('reports a gap in the exchange history and writes no candle into it', async () => {
    const http = new RecordedFetch().on('GET', '/api/v3/exchangeInfo', recorded('exchange-info')).on('GET', '/api/v3/klines', page(T0, T0 + 3 * MINUTE, T0 + 4 * MINUTE));
    const result = await downloadCandles(client(http), request({ pageLimit: 1000 }));
    expect(result.gaps).toEqual([{ symbol: 'BTC/USDT', file: join(dir, 'BTC-USDT.csv'), after: T0, before: T0 + 3 * MINUTE, missingCandles: 2 }]);
    expect(rowsOf(result.file)).toHaveLength(1 + 3);
  });

  it('retries a transient error and stops on a permanent one with its code', async () => {
    const flaky = new RecordedFetch().on('GET', '/api/v3/exchangeInfo', recorded('exchange-info')).on('GET', '/api/v3/klines', recorded('errors-service-unavailable-503'), page(T0, T0 + MINUTE, T0 + 2 * MINUTE, T0 + 3 * MINUTE, T0 + 4 * MINUTE));
    expect((await downloadCandles(client(flaky), request({ pageLimit: 1000 }))).written).toBe(5);
    expect(startTimes(flaky)).toEqual([T0, T0]);
    rmSync(join(dir, 'BTC-USDT.csv'));
    const refused = new RecordedFetch().on('GET', '/api/v3/exchangeInfo', recorded('exchange-info')).on('GET', '/api/v3/klines', recorded('errors-filter-failure-1013'));
    await expect(downloadCandles(client(refused), request())).rejects.toMatchObject({ code: 'EXCHANGE_REJECTED', retryable: false });
    expect(startTimes(refused)).toHaveLength(1);
  });

  it('refuses an exchange ccxt does not know', () => {
    expect(() => createPublicClient('no-such-exchange')).toThrow(/unknown exchange "no-such-exchange"/);
  });

  it('never writes the candle that is still forming', async () => {
    const now = T0 + 2 * MINUTE + 30_000;
    const http = new RecordedFetch().on('GET', '/api/v3/exchangeInfo', recorded('exchange-info')).on('GET', '/api/v3/klines', page(T0, T0 + MINUTE, T0 + 2 * MINUTE));
    const result = await downloadCandles(client(http), request({ now: () => now, pageLimit: 1000 }));
    expect(result.lastCandle).toBe(T0 + MINUTE);
    expect(rowsOf(result.file)).toHaveLength(1 + 2);
  });
});
