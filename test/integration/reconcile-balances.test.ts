/**
 * REC-4 on the embedded stack: the exchange's balances against the local book. Drift above the
 * alarm threshold is reported and audited; confirmed drift above the hard limit pauses new
 * entries; a fill in flight is not mistaken for drift.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { dec } from '../../shared/domain/money.js';
import type { LocalRuntime } from '../../local-runtime/runtime.js';
const DRIFT_ALARM_QUOTE = '10';
const DRIFT_PAUSE_QUOTE = '100';
import { ManualClock, startTestStack, type TestStack } from '../support/local-runtime.js';
import { auditRecords, crossingBuy, execute, floorTo, intent, restingBuy, scripted, type ScriptedExchange } from './reconcile-support.js';
import { transferOnPaperExchange } from '../support/paper-balances.js';


describe('Reconciler: balances against the exchange (REC-4)', () => {
  let t: TestStack;
  let runtime: LocalRuntime;
  let x: ScriptedExchange;
  const clock = new ManualClock(new Date('2026-03-02T10:00:00.000Z'));

  beforeAll(async () => {
    t = await startTestStack({ TW_PAPER_SEED: 'reconcile-balances', TW_WATCHLIST: 'BTC/USDT,ETH/USDT' });
    const wrap = scripted();
    runtime = t.runtime({ clock, exchange: wrap.option });
    x = wrap.exchange as ScriptedExchange;
  });

  afterAll(async () => {
    await t?.stop();
  });

  beforeEach(() => {
    x.script = {};
    clock.advance(60_000);
  });

  const c = () => runtime.containers.reconciler;
  const driftAudits = async () => (await auditRecords(c(), 'account:USDT')).filter((r) => r.type === 'balance.drift');

  it('finds no drift when the books match the exchange', async () => {
    // Act
    const report = await runtime.reconcile();

    // Assess
    expect(report.balances?.drift).toMatchObject({ currency: 'USDT', quote: '0', level: 'ok', unpriced: [] });
    expect(report.balances?.equity).toBe(t.config.paperInitialQuote);
    expect(await driftAudits()).toHaveLength(0);
  });

  it(`reports and audits an external deposit above ${DRIFT_ALARM_QUOTE} USDT as drift, without pausing`, async () => {
    // Prepare
    await transferOnPaperExchange(c(), 'USDT', '50');

    // Act
    const report = await runtime.reconcile();

    // Assess
    expect(report.balances).toMatchObject({ confirmed: true, paused: false, drift: { quote: '50', level: 'alarm' } });
    expect(report.balances?.drift.assets[0]).toMatchObject({ asset: 'USDT', difference: '50' });
    const audits = await driftAudits();
    expect(audits).toHaveLength(1);
    expect(audits[0]?.data).toMatchObject({ driftQuote: '50', level: 'alarm', currency: 'USDT' });
    expect((await c().control.getPause()).paused).toBe(false);
  });

  it(`pauses new entries once, with the reason, on drift above ${DRIFT_PAUSE_QUOTE} USDT`, async () => {
    // Prepare
    await transferOnPaperExchange(c(), 'USDT', '100');

    // Act
    const report = await runtime.reconcile();
    const pause = await c().control.getPause();
    clock.advance(60_000);
    const again = await runtime.reconcile();
    const buy = intent({ symbol: 'BTC/USDT', side: 'buy', type: 'market', quoteAmount: '20', at: clock.now() });
    const refused = await execute(runtime, buy);
    const health = await runtime.health();

    // Assess
    expect(report.balances).toMatchObject({ confirmed: true, paused: true, drift: { quote: '150', level: 'pause' } });
    expect(pause).toMatchObject({ paused: true, scope: 'entries', author: 'reconciler', since: report.balances?.at });
    expect(pause.reason).toBe('entries blocked by drift: 150 USDT above the hard limit 100 USDT');
    expect((await auditRecords(c(), 'control')).filter((r) => r.type === 'control.paused')).toHaveLength(1);
    expect(again.balances).toMatchObject({ paused: false, pauseSkipped: 'already paused by reconciler' });
    expect(await c().control.getPause()).toEqual(pause);
    expect(refused).toMatchObject({ outcome: 'rejected' });
    expect(refused.reason).toContain('trading paused for entries: entries blocked by drift');
    expect(health.status).toBe('FAILING');
    expect(health.reasons.join('\n')).toMatch(/reconciliation:drift: balances drift by 150 USDT/);
    expect(await driftAudits()).toHaveLength(3);
  });

  it('does not mistake a fill the exchange made a moment ago for drift', async () => {
    // Prepare: books in line again, trading resumed, and a resting BTC buy that the market is
    // about to cross.
    await transferOnPaperExchange(c(), 'USDT', '-150');
    await c().control.setPause({ paused: false });
    const crossing = crossingBuy(t.config.paperSeed, 'BTC/USDT', clock.now());
    const rules = (await c().exchange.loadMarkets())['BTC/USDT'];
    const amount = floorTo(dec('120').div(crossing.limitPrice).toFixed(), rules?.amountStep ?? '1');
    const buy = intent({ symbol: 'BTC/USDT', side: 'buy', type: 'limit', amount, limitPrice: crossing.limitPrice, at: clock.now() });
    expect(await execute(runtime, buy)).toMatchObject({ state: 'OPEN' });
    clock.advance(20_000);
    const auditsBefore = (await driftAudits()).length;
    // The market crosses the limit between the order pass and the balance check: the exchange
    // fills it as it reports its balances, before anybody booked the fill.
    let first = true;
    x.script.fetchBalances = async (inner) => {
      if (first) clock.set(crossing.at);
      first = false;
      return inner.fetchBalances();
    };

    const callsBefore = x.calls.length;

    // Act
    const report = await runtime.reconcile();

    // Assess: measured twice, the second time after the fill was booked.
    expect(x.calls.slice(callsBefore).filter((call) => call.method === 'fetchBalances')).toHaveLength(2);
    expect(report.balances).toMatchObject({ confirmed: true, paused: false, drift: { level: 'ok', quote: '0' } });
    expect(await c().orders.get(`tw-${buy.id}`)).toMatchObject({ state: 'FILLED', filled: amount });
    expect((await c().control.getPause()).paused).toBe(false);
    expect(await driftAudits()).toHaveLength(auditsBefore);
  });

  it('does not pause on hard drift it cannot confirm while an executor works on an order, and pauses once it can', async () => {
    // Prepare: a hard drift, and an order in flight whose symbol an executor holds.
    await transferOnPaperExchange(c(), 'USDT', '200');
    const buy = await restingBuy(c(), 'ETH/USDT', clock.now());
    expect(await execute(runtime, buy)).toMatchObject({ state: 'OPEN' });
    clock.advance(20_000);
    const executor = await c().locks.acquire('symbol:ETH/USDT', 'executor:still-working', 60_000, clock.now());

    // Act 1
    const unconfirmed = await runtime.reconcile();
    const health = await runtime.health();

    // Assess 1
    expect(unconfirmed.skippedBusy).toBe(1);
    expect(unconfirmed.balances).toMatchObject({ confirmed: false, paused: false, drift: { level: 'pause', quote: '200' } });
    expect(unconfirmed.balances?.pauseSkipped).toContain('in flight');
    expect((await c().control.getPause()).paused).toBe(false);
    expect(health.checks.find((check) => check.name === 'reconciliation:drift')).toMatchObject({ status: 'DEGRADED' });

    // Act 2: the executor is done.
    await c().locks.release(executor);
    clock.advance(60_000);
    const confirmed = await runtime.reconcile();

    // Assess 2
    expect(confirmed.balances).toMatchObject({ confirmed: true, paused: true, drift: { level: 'pause', quote: '200' } });
    expect((await c().control.getPause()).paused).toBe(true);
  });
});
