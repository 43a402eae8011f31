/**
 * Cancels from the web console in a real browser (OPS-9, EXE-15, RISK-2): Chromium opens the
 * console of an embedded stack whose executor placed resting limit buys, cancels one order from
 * its row, then presses emergency stop. The resulting state is read back from the stores, the
 * paper exchange and the audit log: each cancel went through CANCEL_REQUESTED under the
 * symbol lease, and was audited as made by the console.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { CONSOLE_AUTHOR, operatorActions } from '../../console/actions.js';
import { ConsoleReadModel } from '../../console/read-model.js';
import { newSecrets } from '../../console/security.js';
import { startConsoleServer, type RunningConsole } from '../../console/server.js';
import type { LocalRuntime } from '../../local-runtime/runtime.js';
import { localOperatorDeps } from '../../operator/local-transport.js';
import { auditRecords, execute, restingBuy } from '../integration/reconcile-support.js';
import { launchChromium, type Browser } from '../support/chromium.js';
import { ManualClock, startTestStack, type TestStack } from '../support/local-runtime.js';

const SYMBOLS = ['BTC/USDT', 'ETH/USDT', 'XRP/USDT'];

describe('Console: cancel an order and emergency stop, in Chromium', () => {
  let t: TestStack;
  let runtime: LocalRuntime;
  let web: RunningConsole;
  let browser: Browser;
  let page: Page;
  const ids: Record<string, string> = {};
  const clock = new ManualClock(new Date(Date.now() - 10 * 60_000));
  const c = () => runtime.containers.executor;
  const stateOf = async (id: string) => (await c().orders.get(id))?.state;
  const row = (id: string) => page.locator('#orders tbody tr', { has: page.locator(`button[data-cancel="${id}"]`) });

  beforeAll(async () => {
    t = await startTestStack({ TW_PAPER_SEED: 'console-cancel', TW_WATCHLIST: SYMBOLS.join(',') });
    runtime = t.runtime({ clock });
    await c().ensureAccount();
    for (const symbol of SYMBOLS) {
      const buy = await restingBuy(c(), symbol, clock.now(), { fraction: '0.5', quote: '25' });
      expect(await execute(runtime, buy)).toMatchObject({ state: 'OPEN' });
      ids[symbol] = `tw-${buy.id}`;
    }
    web = await startConsoleServer({ read: new ConsoleReadModel(runtime.containers.health), actions: operatorActions(localOperatorDeps(runtime)), secrets: newSecrets() });
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.on('dialog', (dialog) => void (dialog.type() === 'prompt' ? dialog.accept('browser cancel test') : dialog.accept()));
    await page.goto(web.url);
    await page.waitForSelector('body[data-loaded="true"]', { timeout: 20_000 });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await web?.stop();
    await t?.stop();
  });

  it('offers a cancel button on each open order', async () => {
    for (const id of Object.values(ids)) await expect.poll(() => row(id).locator('td.state').textContent()).toBe('OPEN');
  });

  it('cancels one order from its row: CANCELED in the table, the store and on the exchange, audited as the console', async () => {
    const id = ids['ETH/USDT'] ?? '';
    await row(id).locator(`button[data-cancel="${id}"]`).click();

    await expect.poll(() => page.locator('#action-result').textContent(), { timeout: 10_000 }).toBe(`cancel ${id}: canceled (CANCELED)`);
    // The row lost its cancel button: find it by its history, in the refreshed table.
    await expect.poll(async () => (await page.locator('#orders tbody tr').allTextContents()).some((text) => text.includes('ETH/USDT') && text.includes('CANCELED'))).toBe(true);
    expect(await row(id).count()).toBe(0);
    expect((await c().orders.get(id))?.events.slice(-2).map((e) => e.to)).toEqual(['CANCEL_REQUESTED', 'CANCELED']);
    expect((await c().exchange.fetchOrderByClientId('ETH/USDT', id))?.status).toBe('canceled');
    const outcome = (await auditRecords(c(), 'symbol:ETH/USDT')).at(-1);
    expect(outcome).toMatchObject({ type: 'order.cancel-outcome', data: { orderId: id, outcome: 'canceled', author: CONSOLE_AUTHOR, reason: 'browser cancel test' } });
    // The others are untouched.
    expect(await stateOf(ids['BTC/USDT'] ?? '')).toBe('OPEN');
    expect(await stateOf(ids['XRP/USDT'] ?? '')).toBe('OPEN');
  });

  it('emergency stop from the console pauses and cancels every other open order, audited as the console', async () => {
    await page.locator('#stop-btn').click();

    await page.waitForSelector('#pause-badge[data-paused="true"]', { timeout: 10_000 });
    await expect.poll(() => page.locator('#action-result').textContent(), { timeout: 10_000 }).toMatch(/^emergency stop \(browser cancel test\): canceled 2, filled before the cancel 0, failed 0$/);
    expect(await stateOf(ids['BTC/USDT'] ?? '')).toBe('CANCELED');
    expect(await stateOf(ids['XRP/USDT'] ?? '')).toBe('CANCELED');
    expect(await c().exchange.fetchOpenOrders()).toEqual([]);
    expect(await c().control.getPause()).toMatchObject({ paused: true, author: CONSOLE_AUTHOR, reason: 'browser cancel test' });
    const stop = (await auditRecords(c(), 'control')).filter((r) => r.type === 'control.emergency-stop').at(-1);
    expect(stop?.data).toMatchObject({ author: CONSOLE_AUTHOR, canceled: 2, failed: 0 });
    await expect.poll(() => page.locator('#orders button[data-cancel]').count()).toBe(0);
    expect((await c().audit.verify()).valid).toBe(true);
  });
});
