/**
 * RISK-8 on the embedded stack: a confirmed drift above the hard limit blocks new entries only.
 * The reconciler writes a pause of scope `entries` whose reason carries the figures; the executor
 * refuses buys under it and still sends exits (a sell of a held position); the scanner still
 * scans and makes stop-loss and take-profit exits; status and health say "entries blocked by
 * drift" with the figures. An operator's pause of all trading still stops everything.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dec } from '../../shared/domain/money.js';
import type { LocalRuntime } from '../../local-runtime/runtime.js';
import { localOperatorDeps } from '../../operator/local-transport.js';
import { collectStatus } from '../../shared/operations/status.js';
import { pauseTrading } from '../../shared/operations/pause.js';
import { scanMarket } from '../../shared/use-cases/scan-market.js';
import { ManualClock, startTestStack, type TestStack } from '../support/local-runtime.js';
import { execute, intent } from './reconcile-support.js';
import { scanFixture } from '../fixtures/scanner-fakes.js';
import { flatCandles } from '../support/fakes.js';
import { transferOnPaperExchange } from '../support/paper-balances.js';


describe('Drift halt blocks entries only (RISK-8)', () => {
  let t: TestStack;
  let runtime: LocalRuntime;
  const clock = new ManualClock(new Date('2026-03-02T10:00:00.000Z'));
  const c = () => runtime.containers.executor;

  beforeAll(async () => {
    t = await startTestStack({ TW_PAPER_SEED: 'drift-halt', TW_WATCHLIST: 'BTC/USDT,ETH/USDT' });
    runtime = t.runtime({ clock });
  });

  afterAll(async () => {
    await t?.stop();
  });

  it('refuses buys and still sends the exit of a held position, and says so in status and health', async () => {
    // Prepare: a position, then 250 USDT on the exchange that the book does not know of.
    const entry = await execute(runtime, intent({ symbol: 'BTC/USDT', side: 'buy', type: 'market', quoteAmount: '200', at: clock.now() }));
    expect(entry).toMatchObject({ outcome: 'executed', state: 'FILLED' });
    await transferOnPaperExchange(c(), 'USDT', '250');
    clock.advance(60_000);

    // Act
    const report = await runtime.reconcile();
    const pause = await c().control.getPause();
    clock.advance(1000);
    const buy = await execute(runtime, intent({ symbol: 'ETH/USDT', side: 'buy', type: 'market', quoteAmount: '50', at: clock.now() }));
    const exit = await execute(runtime, intent({ symbol: 'BTC/USDT', side: 'sell', type: 'market', amount: entry.filled, at: clock.now() }));
    const health = await runtime.health();
    const status = await collectStatus(localOperatorDeps(runtime));

    // Assess
    expect(report.balances).toMatchObject({ confirmed: true, paused: true, drift: { level: 'pause', quote: '250' } });
    expect(pause).toMatchObject({ paused: true, scope: 'entries', author: 'reconciler', reason: 'entries blocked by drift: 250 USDT above the hard limit 100 USDT' });
    expect(buy).toMatchObject({ outcome: 'rejected', state: 'REJECTED' });
    expect(buy.reason).toBe('trading paused for entries: entries blocked by drift: 250 USDT above the hard limit 100 USDT');
    expect(exit).toMatchObject({ outcome: 'executed', state: 'FILLED', filled: entry.filled });
    const book = await c().accounts.get('USDT');
    expect(dec(book?.positions['BTC/USDT']?.qty ?? '0').isZero()).toBe(true);
    expect(health.checks.find((check) => check.name === 'pause')?.detail).toMatch(/^entries blocked by drift: 250 USDT above the hard limit 100 USDT \(for 1 s, by reconciler; exits keep working\)/);
    expect(status.trading).toBe('entries blocked by drift: 250 USDT above the hard limit 100 USDT');
  });

  it('still stops exits under an operator pause of all trading', async () => {
    // Prepare: a position, then the operator's pause over the drift halt.
    await c().control.setPause({ paused: false });
    const entry = await execute(runtime, intent({ symbol: 'ETH/USDT', side: 'buy', type: 'market', quoteAmount: '50', at: clock.now() }));
    expect(entry).toMatchObject({ outcome: 'executed' });
    await pauseTrading(localOperatorDeps(runtime), { reason: 'maintenance', author: 'ops' });

    // Act
    const exit = await execute(runtime, intent({ symbol: 'ETH/USDT', side: 'sell', type: 'market', amount: entry.filled, at: clock.now() }));

    // Assess
    expect(exit).toMatchObject({ outcome: 'rejected', state: 'REJECTED' });
    expect(exit.reason).toBe('trading paused: maintenance');
    expect((await collectStatus(localOperatorDeps(runtime))).trading).toBe('paused: maintenance');
  });
});

describe('Scanner under the drift halt (RISK-8)', () => {
  const NOW = new Date('2026-05-01T12:00:30.000Z');
  const SLOT = new Date('2026-05-01T12:00:00.000Z');
  const HALT = { paused: true, scope: 'entries', reason: 'entries blocked by drift: 150 USDT above the hard limit 100 USDT', author: 'reconciler', since: NOW.toISOString() } as const;

  async function fixture() {
    const f = await scanFixture(NOW, { watchlist: ['BTC/USDT', 'ETH/USDT'] });
    f.exchange.prices['ETH/USDT'] = { bid: '2999', ask: '3000' };
    // Both 3.8% below their 30-candle high: price-drop wants to buy both.
    f.exchange.candles['BTC/USDT'] = flatCandles(NOW, 30, '50500', '52000');
    f.exchange.candles['ETH/USDT'] = flatCandles(NOW, 30, '3050', '3120');
    f.control.pause = HALT;
    return f;
  }

  it('makes the stop-loss exit of a held position and blocks the entry, naming the drift', async () => {
    // Prepare: BTC bought at 52000, bid 49990 is 3.9% below (stop 3%).
    const f = await fixture();
    await f.accounts.update('USDT', (b) => ({ ...b, positions: { 'BTC/USDT': { symbol: 'BTC/USDT', qty: '0.002', avgPrice: '52000', realizedPnl: '0' } } }));

    // Act
    const result = await scanMarket(f.deps, { slot: SLOT, dryRun: false });

    // Assess
    expect(result.status).toBe('scanned');
    expect(result.intents).toEqual([expect.objectContaining({ symbol: 'BTC/USDT', side: 'sell', strategy: 'stop-loss' })]);
    expect(result.entriesPaused).toBe(HALT.reason);
    expect(result.blocked).toEqual([{ symbol: 'ETH/USDT', strategy: 'price-drop', side: 'buy', reason: `entries paused: ${HALT.reason}` }]);
  });

  it('makes the take-profit exit under the drift halt', async () => {
    const f = await fixture();
    await f.accounts.update('USDT', (b) => ({ ...b, positions: { 'BTC/USDT': { symbol: 'BTC/USDT', qty: '0.002', avgPrice: '48000', realizedPnl: '0' } } }));
    const result = await scanMarket(f.deps, { slot: SLOT, dryRun: false });
    expect(result.intents).toEqual([expect.objectContaining({ symbol: 'BTC/USDT', side: 'sell', strategy: 'take-profit' })]);
  });

  it('scans nothing under a pause of all trading', async () => {
    const f = await fixture();
    f.control.pause = { paused: true, reason: 'operator', since: NOW.toISOString() };
    const result = await scanMarket(f.deps, { slot: SLOT, dryRun: false });
    expect(result).toMatchObject({ status: 'paused', pauseReason: 'operator', intents: [] });
  });
});
