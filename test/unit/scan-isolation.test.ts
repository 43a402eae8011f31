/**
 * DATA-7 / RISK-6 in the scan: one symbol's failed candles skip that symbol, not the scan; bounded
 * retries with backoff while time remains; bounded concurrency; a scan stopped by its deadline or
 * the rate budget rotates, so the symbols it did not reach go first next time.
 */
import { describe, expect, it } from 'vitest';
import { CircuitOpenError } from '../../shared/domain/circuit.js';
import { ExchangeRejectedError, ExchangeTransientError } from '../../shared/domain/errors.js';
import type { Candle } from '../../shared/domain/market.js';
import { RateBudgetExhaustedError } from '../../shared/ports/rate-budget.js';
import { scanMarket } from '../../shared/use-cases/scan-market.js';
import { scanFixture, type ScanFixture } from '../fixtures/scanner-fakes.js';
import { flatCandles } from '../support/fakes.js';

const NOW = new Date('2026-05-01T12:00:30.000Z');
const SLOT = new Date('2026-05-01T12:00:00.000Z');
const SYMBOLS = ['AAA/USDT', 'BBB/USDT', 'CCC/USDT', 'DDD/USDT', 'EEE/USDT', 'FFF/USDT'];

/** Every symbol at a 3.8 % drop below its 30-candle high: each one signals a buy when it has candles. */
async function market(symbols: readonly string[] = SYMBOLS, settings = {}): Promise<ScanFixture> {
  const f = await scanFixture(NOW, { watchlist: symbols, protections: { ...(await scanFixture(NOW)).deps.settings.protections, maxOpenPositions: 100 }, ...settings });
  f.exchange.prices = Object.fromEntries(symbols.map((s) => [s, { bid: '49990', ask: '50000' }]));
  f.exchange.candles = Object.fromEntries(symbols.map((s) => [s, flatCandles(NOW, 30, '50500', '52000')]));
  return f;
}

function slot(n: number): Date {
  return new Date(SLOT.getTime() + n * 60_000);
}

describe('Use case: scanMarket, per-symbol isolation (DATA-7)', () => {
  it('skips and reports the one symbol whose candles fail, and scans the others', async () => {
    const f = await market();
    const inner = f.exchange.fetchCandles.bind(f.exchange);
    f.exchange.fetchCandles = async (symbol, limit) => {
      if (symbol === 'CCC/USDT') throw new ExchangeTransientError('binance GET klines 503');
      return inner(symbol, limit);
    };
    const result = await scanMarket(f.deps, { slot: SLOT, dryRun: false });
    expect(result.status).toBe('scanned');
    expect(result.signals.map((s) => s.symbol).sort()).toEqual(SYMBOLS.filter((s) => s !== 'CCC/USDT'));
    expect(result.failedSymbols).toEqual([{ symbol: 'CCC/USDT', code: 'EXCHANGE_TRANSIENT', reason: 'binance GET klines 503', attempts: 3 }]);
    expect(f.queue.sent).toHaveLength(5);
    expect(f.control.reports.get('scan')).toMatchObject({ failed: false, evaluated: 5, failedSymbols: [{ symbol: 'CCC/USDT' }] });
  });

  it('retries a transient failure with a growing backoff and uses the candles it then gets', async () => {
    const f = await market(['AAA/USDT']);
    const inner = f.exchange.fetchCandles.bind(f.exchange);
    let calls = 0;
    f.exchange.fetchCandles = async (symbol, limit) => {
      calls += 1;
      if (calls <= 2) throw new ExchangeTransientError('timeout');
      return inner(symbol, limit);
    };
    const result = await scanMarket(f.deps, { slot: SLOT, dryRun: false });
    expect(calls).toBe(3);
    expect(f.sleeps).toEqual([100, 200]);
    expect(result.failedSymbols).toEqual([]);
    expect(result.signals).toHaveLength(1);
  });

  it('does not retry a permanent refusal', async () => {
    const f = await market(['AAA/USDT']);
    let calls = 0;
    f.exchange.fetchCandles = async () => {
      calls += 1;
      throw new ExchangeRejectedError('invalid symbol', 'bad-symbol');
    };
    const result = await scanMarket(f.deps, { slot: SLOT, dryRun: false });
    expect(calls).toBe(1);
    expect(result.failedSymbols).toMatchObject([{ symbol: 'AAA/USDT', code: 'EXCHANGE_REJECTED', attempts: 1 }]);
  });

  it('does not retry when the backoff would end after the deadline', async () => {
    const f = await market(['AAA/USDT'], { deadlineMs: 150 });
    let calls = 0;
    f.exchange.fetchCandles = async () => {
      calls += 1;
      throw new ExchangeTransientError('timeout');
    };
    const result = await scanMarket(f.deps, { slot: SLOT, dryRun: false });
    // 100 ms fits before the deadline, 200 more do not.
    expect(calls).toBe(2);
    expect(f.sleeps).toEqual([100]);
    expect(result.failedSymbols).toMatchObject([{ symbol: 'AAA/USDT', attempts: 2 }]);
  });

  it('retries a failed ticker request within the scan, with the jittered backoff, and scans with what it then gets', async () => {
    const f = await market(['AAA/USDT']);
    const inner = f.exchange.fetchTickers.bind(f.exchange);
    let calls = 0;
    f.exchange.fetchTickers = async (symbols) => {
      calls += 1;
      if (calls <= 2) throw new ExchangeTransientError('binance GET ticker/24hr 503');
      return inner(symbols);
    };
    const result = await scanMarket({ ...f.deps, random: () => 0 }, { slot: SLOT, dryRun: false });
    expect(calls).toBe(3);
    // The bottom of the jitter range: half of each step (100, 200 ms).
    expect(f.sleeps).toEqual([50, 100]);
    expect(result.status).toBe('scanned');
    expect(result.signals).toHaveLength(1);
  });

  it('gives up on the ticker request after its attempts, records the failure and fails the scan', async () => {
    const f = await market(['AAA/USDT']);
    let calls = 0;
    f.exchange.fetchTickers = async () => {
      calls += 1;
      throw new ExchangeTransientError('timeout');
    };
    await expect(scanMarket(f.deps, { slot: SLOT, dryRun: false })).rejects.toMatchObject({ code: 'EXCHANGE_TRANSIENT', details: { attempts: 3 } });
    expect(calls).toBe(3);
    expect(f.control.reports.get('scan')).toMatchObject({ failed: true, error: { code: 'EXCHANGE_TRANSIENT' } });
    expect(f.queue.sent).toEqual([]);
  });

  it('does not retry the ticker request past the deadline, on a permanent refusal, or when the rate budget refuses', async () => {
    const cases: readonly [Error, Record<string, unknown>, number][] = [
      [new ExchangeTransientError('timeout'), { deadlineMs: 150 }, 2],
      [new ExchangeRejectedError('invalid symbol', 'bad-symbol'), {}, 1],
      [new RateBudgetExhaustedError('paper', 1200, 1200, new Date(NOW.getTime() + 60_000)), {}, 1],
    ];
    for (const [error, settings, expected] of cases) {
      const f = await market(['AAA/USDT'], settings);
      let calls = 0;
      f.exchange.fetchTickers = async () => {
        calls += 1;
        throw error;
      };
      await expect(scanMarket(f.deps, { slot: SLOT, dryRun: false })).rejects.toBeDefined();
      expect(calls, error.message).toBe(expected);
    }
  });

  it('rejects one symbol whose candles have a gap and scans the others', async () => {
    const f = await market(['AAA/USDT', 'BBB/USDT']);
    const gapped: Candle[] = flatCandles(NOW, 30, '50500', '52000');
    gapped.splice(5, 1);
    f.exchange.candles['AAA/USDT'] = gapped;
    const result = await scanMarket(f.deps, { slot: SLOT, dryRun: false });
    expect(result.rejectedData).toEqual([{ symbol: 'AAA/USDT', reason: expect.stringMatching(/gap/) }]);
    expect(result.signals.map((s) => s.symbol)).toEqual(['BBB/USDT']);
  });

  it('still exits a held position at its stop-loss when its candles cannot be fetched', async () => {
    const f = await market(['AAA/USDT']);
    await f.accounts.update('USDT', (b) => ({ ...b, positions: { ...b.positions, 'AAA/USDT': { symbol: 'AAA/USDT', qty: '0.01', avgPrice: '60000', realizedPnl: '0' } } }));
    f.exchange.fetchCandles = async () => {
      throw new ExchangeTransientError('503');
    };
    const result = await scanMarket(f.deps, { slot: SLOT, dryRun: false });
    expect(result.failedSymbols).toHaveLength(1);
    expect(result.signals).toMatchObject([{ symbol: 'AAA/USDT', side: 'sell', strategy: 'stop-loss' }]);
  });

  it('fails as a whole only when it cannot do anything: tickers unreachable', async () => {
    const f = await market();
    f.exchange.fetchTickers = async () => {
      throw new ExchangeTransientError('503');
    };
    await expect(scanMarket(f.deps, { slot: SLOT, dryRun: false })).rejects.toMatchObject({ code: 'EXCHANGE_TRANSIENT' });
    expect(f.tunables.risk.state.lastSlot).toBeUndefined();
  });
});

describe('Use case: scanMarket, bounded concurrency and rotation (RISK-6)', () => {
  it('keeps at most the configured number of candle requests in flight', async () => {
    const symbols = Array.from({ length: 40 }, (_, i) => `S${String(i).padStart(2, '0')}/USDT`);
    const f = await market(symbols, { candleConcurrency: 4 });
    const inner = f.exchange.fetchCandles.bind(f.exchange);
    let inFlight = 0;
    let peak = 0;
    f.exchange.fetchCandles = async (symbol, limit) => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 2));
      inFlight -= 1;
      return inner(symbol, limit);
    };
    const result = await scanMarket(f.deps, { slot: SLOT, dryRun: true });
    expect(peak).toBe(4);
    expect(result.signals).toHaveLength(40);
  });

  it('stops at the rate budget, reports the symbols not reached and visits them first next scan', async () => {
    const f = await market(SYMBOLS, { candleConcurrency: 1 });
    const inner = f.exchange.fetchCandles.bind(f.exchange);
    const order: string[][] = [];
    let room = 0;
    f.exchange.fetchCandles = async (symbol, limit) => {
      order.at(-1)?.push(symbol);
      if (room <= 0) throw new RateBudgetExhaustedError('fake', 4800, 4800, new Date(NOW.getTime() + 30_000));
      room -= 1;
      return inner(symbol, limit);
    };
    const reached = new Map<string, number>();
    for (let n = 0; n < 3; n += 1) {
      // Each scan's window has room for two candle requests; the cache is emptied so each needs one.
      for (const s of SYMBOLS) f.deps.candles.remove(s);
      room = 2;
      order.push([]);
      const result = await scanMarket(f.deps, { slot: slot(n), dryRun: false });
      expect(result.stoppedBy).toBe('rate-budget');
      expect(result.unreached).toHaveLength(4);
      expect(f.tunables.risk.state.unreached).toEqual(result.unreached);
      for (const s of order[n]!.slice(0, 2)) reached.set(s, (reached.get(s) ?? 0) + 1);
    }
    expect(order[0]!.slice(0, 2)).toEqual(['AAA/USDT', 'BBB/USDT']);
    expect(order[1]!.slice(0, 2)).toEqual(['CCC/USDT', 'DDD/USDT']);
    expect(order[2]!.slice(0, 2)).toEqual(['EEE/USDT', 'FFF/USDT']);
    // Three scans with room for two each covered all six: none dropped twice.
    expect([...reached.keys()].sort()).toEqual(SYMBOLS);
    expect(f.control.reports.get('scan')).toMatchObject({ stoppedBy: 'rate-budget', unreached: ['AAA/USDT', 'BBB/USDT', 'CCC/USDT', 'DDD/USDT'] });
  });

  it('starts no request after the deadline and rotates what it did not reach', async () => {
    const f = await market(SYMBOLS, { candleConcurrency: 1, deadlineMs: 3_000 });
    let t = NOW.getTime();
    const deps = { ...f.deps, clock: { now: () => new Date(t) } };
    const inner = f.exchange.fetchCandles.bind(f.exchange);
    f.exchange.fetchCandles = async (symbol, limit) => {
      const candles = await inner(symbol, limit);
      t += 1_000;
      return candles;
    };
    const result = await scanMarket(deps, { slot: SLOT, dryRun: false });
    expect(result.stoppedBy).toBe('deadline');
    expect(result.unreached).toEqual(['DDD/USDT', 'EEE/USDT', 'FFF/USDT']);
    expect(result.evaluated).toBe(3);
  });

  it('stops fetching when the circuit opens and completes with what it has', async () => {
    const f = await market(SYMBOLS, { candleConcurrency: 1 });
    const inner = f.exchange.fetchCandles.bind(f.exchange);
    let calls = 0;
    f.exchange.fetchCandles = async (symbol, limit) => {
      calls += 1;
      if (calls > 2) throw new CircuitOpenError('fake', NOW.getTime() + 60_000);
      return inner(symbol, limit);
    };
    const result = await scanMarket(f.deps, { slot: SLOT, dryRun: false });
    expect(result.status).toBe('scanned');
    expect(result.stoppedBy).toBe('circuit-open');
    expect(result.signals.map((s) => s.symbol)).toEqual(['AAA/USDT', 'BBB/USDT']);
    expect(result.unreached).toHaveLength(4);
  });

  it('fetches only the candle that closed since the last scan', async () => {
    const f = await market(['AAA/USDT']);
    const limits: number[] = [];
    const inner = f.exchange.fetchCandles.bind(f.exchange);
    f.exchange.fetchCandles = async (symbol, limit) => {
      limits.push(limit);
      return inner(symbol, limit);
    };
    await scanMarket(f.deps, { slot: SLOT, dryRun: true });
    const later = new Date(NOW.getTime() + 60_000);
    f.exchange.tickerTime = () => later.getTime();
    f.exchange.candles['AAA/USDT'] = flatCandles(later, 30, '50500', '52000');
    const result = await scanMarket({ ...f.deps, clock: { now: () => later } }, { slot: slot(1), dryRun: true });
    // One new candle plus one overlapping the cached series to check the join.
    expect(limits).toEqual([30, 2]);
    expect(result.signals).toHaveLength(1);
  });
});
