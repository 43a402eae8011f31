import { beforeEach, describe, expect, it } from 'vitest';
import { scanMarket, type ScanDeps } from '../../../shared/use-cases/scan-market.js';
import { scanFixture } from '../../fixtures/scanner-fakes.js';
import { CollectingQueue, FakeExchange, InMemoryControlStore, flatCandles } from '../../support/fakes.js';

const NOW = new Date('2026-05-01T12:00:30.000Z');
const SLOT = new Date('2026-05-01T12:00:00.000Z');

describe('Use case: scanMarket', () => {
  let deps: ScanDeps;
  let exchange: FakeExchange;
  let queue: CollectingQueue;
  let control: InMemoryControlStore;

  beforeEach(async () => {
    ({ deps, exchange, queue, control } = await scanFixture(NOW));
    // A 30-candle high of 52000 and an ask of 50000: a drop of 3.8%.
    exchange.candles['BTC/USDT'] = flatCandles(NOW, 30, '50500', '52000');
  });

  it('sends one intent for a drop below the trigger, with group and id fixed by the slot', async () => {
    const result = await scanMarket(deps, { slot: SLOT, dryRun: false });
    expect(result.source).toBe('synthetic');
    expect(result.intents).toHaveLength(1);
    expect(queue.sent).toHaveLength(1);
    const [sent] = queue.sent;
    expect(sent).toMatchObject({ symbol: 'BTC/USDT', side: 'buy', quoteAmount: '100', createdAt: NOW.toISOString(), expiresAt: '2026-05-01T12:02:30.000Z' });
    // A slot already sent is not scanned again; a dry run of it derives the same id.
    const again = await scanMarket(deps, { slot: SLOT, dryRun: true });
    expect(again.intents[0]?.id).toBe(sent?.id);
  });

  it('returns the signals of a dry run and sends nothing', async () => {
    const result = await scanMarket(deps, { slot: SLOT, dryRun: true });
    expect(result.signals).toHaveLength(1);
    expect(queue.sent).toHaveLength(0);
    expect(control.reports.get('scan')).toBeUndefined();
  });

  it('produces no signal from a stale ticker and reports it', async () => {
    exchange.tickerTime = () => NOW.getTime() - 10 * 60_000;
    const result = await scanMarket(deps, { slot: SLOT, dryRun: false });
    expect(result.signals).toHaveLength(0);
    expect(result.rejectedData).toEqual([{ symbol: 'BTC/USDT', reason: expect.stringMatching(/stale/) }]);
    expect(control.reports.get('scan')).toMatchObject({ fresh: 0, source: 'synthetic' });
  });

  it('produces no signal from a crossed book', async () => {
    exchange.prices['BTC/USDT'] = { bid: '50010', ask: '50000' };
    const result = await scanMarket(deps, { slot: SLOT, dryRun: false });
    expect(result.intents).toHaveLength(0);
    expect(result.rejectedData[0]?.reason).toMatch(/crossed/);
  });

  it('computes nothing across a candle gap', async () => {
    const candles = flatCandles(NOW, 30, '50500', '52000');
    candles.splice(10, 1);
    exchange.candles['BTC/USDT'] = candles;
    const result = await scanMarket(deps, { slot: SLOT, dryRun: false });
    expect(result.intents).toHaveLength(0);
    expect(result.rejectedData[0]?.reason).toMatch(/gap/);
  });

  it('says it is paused and sends nothing while the kill switch is on', async () => {
    control.pause = { paused: true, reason: 'drill', author: 'ops', since: NOW.toISOString() };
    const result = await scanMarket(deps, { slot: SLOT, dryRun: false });
    expect(result).toMatchObject({ status: 'paused', pauseReason: 'drill' });
    expect(queue.sent).toHaveLength(0);
  });

  it('fails closed when the pause record cannot be read', async () => {
    control.failPauseRead = true;
    await expect(scanMarket(deps, { slot: SLOT, dryRun: false })).rejects.toThrow(/unreadable/);
    expect(queue.sent).toHaveLength(0);
  });

  it('refuses a synthetic source in live mode', async () => {
    deps = { ...deps, settings: { ...deps.settings, mode: 'live' } };
    await expect(scanMarket(deps, { slot: SLOT, dryRun: false })).rejects.toMatchObject({ code: 'SYNTHETIC_DATA_REFUSED' });
    expect(queue.sent).toHaveLength(0);
  });
});
