/**
 * Scanner cost per scan for watchlists of 10, 100 and 1000 symbols: exchange requests per scan
 * and scanner CPU milliseconds per scan (process CPU time, so emulator I/O waits do not count
 * but the emulators' own CPU in this process does; both are reported).
 */
import type { Exchange } from '../shared/ports/exchange.js';
import { ManualClock, startTestStack } from '../test/support/local-runtime.js';

export interface ScannerBench {
  readonly symbols: number;
  readonly exchangeRequestsPerScan: number;
  readonly cpuMsPerScan: number;
  readonly wallMsPerScan: number;
}

function countingExchange(inner: Exchange, counter: { count: number }): Exchange {
  const counted = <A extends unknown[], R>(fn: (...a: A) => Promise<R>) => (...a: A) => {
    counter.count += 1;
    return fn(...a);
  };
  return {
    id: inner.id,
    source: inner.source,
    loadMarkets: counted(() => inner.loadMarkets()),
    fetchTickers: counted((s) => inner.fetchTickers(s)),
    fetchCandles: counted((s, l) => inner.fetchCandles(s, l)),
    createOrder: counted((r) => inner.createOrder(r)),
    fetchOrderByClientId: counted((s, c) => inner.fetchOrderByClientId(s, c)),
    fetchOpenOrders: counted((s) => inner.fetchOpenOrders(s)),
    cancelOrder: counted((s, c) => inner.cancelOrder(s, c)),
    fetchBalances: counted(() => inner.fetchBalances()),
  };
}

export async function benchScanner(sizes: readonly number[], scans: number): Promise<ScannerBench[]> {
  const results: ScannerBench[] = [];
  for (const size of sizes) {
    const watchlist = Array.from({ length: size }, (_, i) => `S${String(i).padStart(4, '0')}X/USDT`).join(',');
    // Dry runs: the cost of reading and deciding, without the executor.
    const t = await startTestStack({ TW_WATCHLIST: watchlist, TW_MAX_OPEN_POSITIONS: '1000' });
    try {
      const clock = new ManualClock(new Date('2026-06-01T00:00:30Z'));
      const counter = { count: 0 };
      const runtime = t.runtime({ clock, exchange: ({ paper }) => countingExchange(paper as Exchange, counter) });
      await runtime.scan(clock.now(), true);
      counter.count = 0;
      const cpu0 = process.cpuUsage();
      const wall0 = performance.now();
      for (let i = 0; i < scans; i += 1) {
        clock.advance(60_000);
        await runtime.scan(clock.now(), true);
      }
      const cpu = process.cpuUsage(cpu0);
      results.push({
        symbols: size,
        exchangeRequestsPerScan: counter.count / scans,
        cpuMsPerScan: (cpu.user + cpu.system) / 1000 / scans,
        wallMsPerScan: (performance.now() - wall0) / scans,
      });
    } finally {
      await t.stop();
    }
  }
  return results;
}
