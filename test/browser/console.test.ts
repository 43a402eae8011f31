/**
 * The web console in a real browser (OPS-9, SEC-7): `npm start` runs the whole stack as a child
 * process, Chromium opens the address it prints, and the test checks what a person would see
 * and do: the equity chart and the tables filled from the running stack, pause (the next scan
 * makes no intent, and the pause is audited as made by the console), then resume. The stack's
 * notifier talks to a local fake of the Telegram Bot API (OPS-10).
 */
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
// Conditions are polled through locators: the page's CSP forbids evaluating strings.
import { launchChromium, type Browser } from '../support/chromium.js';
import { startFakeTelegram, type FakeTelegram } from '../support/fake-chat-servers.js';
import { npmStart, type StartedStack } from '../support/npm-start.js';

/** docs/ when asked to refresh the README's screenshots (TW_UPDATE_SCREENSHOTS=1), else a temporary directory. */
const SCREENSHOTS = process.env.TW_UPDATE_SCREENSHOTS === '1' ? 'docs' : join(tmpdir(), 'tradewarden-screenshots');

interface Overview {
  pause: { active: boolean; author?: string; since?: string };
  orders: { createdAt: string; state: string; reason: string | null }[];
  control: { at: string; type: string; data: { author?: string; reason?: string } }[];
}

describe('Console: in Chromium against npm start', () => {
  let stack: StartedStack;
  let telegram: FakeTelegram;
  let browser: Browser;
  let page: Page;
  let url: URL;

  const api = async (path: string): Promise<Overview> => {
    const res = await fetch(new URL(path, url.origin), { headers: { authorization: `Bearer ${url.searchParams.get('token') ?? ''}` } });
    expect(res.status).toBe(200);
    return (await res.json()) as Overview;
  };
  /** Index of the next status line npm start prints. */
  const nextCycle = () => stack.lines.filter((l) => / cycle \d+ /.test(l)).length + 1;
  const cycleLine = (n: number) => stack.waitFor(new RegExp(` cycle ${n} `), 60_000);

  beforeAll(async () => {
    // A take-profit out of reach keeps the positions the demo strategy opens on screen.
    telegram = await startFakeTelegram();
    stack = npmStart({ TW_STRATEGY_TAKE_PROFIT_PERCENT: '50', TW_TELEGRAM_BOT_TOKEN: telegram.token, TW_TELEGRAM_CHAT_ID: '1001', TW_TELEGRAM_API_URL: telegram.url });
    const line = await stack.waitFor(/^console: /);
    url = new URL(line.slice('console: '.length));
    // Enough cycles for fills, positions and several equity snapshots (one per reconciler run).
    await cycleLine(4);
    browser = await launchChromium({ width: 1400, height: 1100 });
    page = await browser.context.newPage();
    page.on('dialog', (dialog) => void (dialog.type() === 'prompt' ? dialog.accept('browser test pause') : dialog.accept()));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    await telegram?.close();
  });

  it('prints one console line on 127.0.0.1 with a token', () => {
    expect(url.hostname).toBe('127.0.0.1');
    expect(url.searchParams.get('token')).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(stack.lines.filter((l) => l.startsWith('console: '))).toHaveLength(1);
  });

  it('tells Telegram about the fills of npm start', async () => {
    expect(stack.lines.some((l) => / orders \+[1-9]/.test(l))).toBe(true);
    await expect.poll(() => telegram.sent.filter((m) => m.chat_id === '1001' && m.text.startsWith('Filled: ')).length, { timeout: 10_000 }).toBeGreaterThan(0);
  });

  it('refuses a request without the token', async () => {
    const page = await fetch(url.origin + '/');
    expect(page.status).toBe(401);
    const api = await fetch(new URL('/api/overview', url.origin));
    expect(api.status).toBe(401);
    expect(((await api.json()) as { error: { code: string } }).error.code).toBe('UNAUTHORIZED');
  });

  it('renders the equity chart, positions, orders and health from the running stack', async () => {
    await page.goto(url.href);
    await page.waitForSelector('body[data-loaded="true"]', { timeout: 20_000 });
    await expect.poll(async () => Number(await page.locator('#equity-chart').getAttribute('data-points')), { timeout: 20_000 }).toBeGreaterThanOrEqual(2);
    // lightweight-charts draws on canvases inside the chart container.
    expect(await page.locator('#equity-chart canvas').count()).toBeGreaterThan(0);
    expect(Number(await page.locator('#equity-chart').getAttribute('data-markers'))).toBeGreaterThan(0);
    await expect.poll(async () => Number(await page.locator('#candle-chart').getAttribute('data-points')), { timeout: 20_000 }).toBeGreaterThan(0);
    expect(await page.locator('#orders tbody tr').count()).toBeGreaterThan(0);
    expect(await page.locator('#orders tbody').textContent()).toMatch(/FILLED/);
    expect(await page.locator('#heartbeats tbody tr').count()).toBe(4);
    await expect.poll(async () => page.locator('#health-badge').textContent()).toMatch(/health (OK|DEGRADED)/);
    expect(await page.locator('#dlq-depth').textContent()).toBe('0');
    await expect.poll(() => page.locator('#positions tbody tr').count(), { timeout: 20_000 }).toBeGreaterThan(0);
    expect(await page.locator('#positions tbody tr td:nth-child(5)').first().textContent()).toMatch(/^-?[\d,]+\.\d+$/);
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: `${SCREENSHOTS}/console.png` });
  });

  it('shows one intent\'s audit history from the orders table', async () => {
    await page.locator('#orders tbody tr button').first().click();
    await expect.poll(() => page.locator('#history tbody tr').count(), { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
    const types = await page.locator('#history tbody tr td:nth-child(2)').allTextContents();
    expect(types).toContain('intent.accepted');
    expect(types).toContain('order.sent');
  });

  it('pauses from the console: the next scan makes no intent, and the pause is audited as made by the console', async () => {
    await page.locator('#pause-btn').click();
    await page.waitForSelector('#pause-badge[data-paused="true"]', { timeout: 10_000 });
    const paused = await api('/api/overview');
    expect(paused.pause).toMatchObject({ active: true, author: 'console' });
    const record = paused.control.at(-1);
    expect(record).toMatchObject({ type: 'control.paused', data: { author: 'console', reason: 'browser test pause' } });
    // The next full cycle after the pause: its scan is refused, and no order is created after it.
    const next = nextCycle();
    const line = await cycleLine(next + 1);
    expect(line).toMatch(/PAUSED \(browser test pause\)/);
    expect(line).toMatch(/signals 0/);
    // Intents a scan queued just before the pause reach the executor after it, which refuses them.
    const since = paused.pause.since ?? '';
    const after = (await api('/api/overview')).orders.filter((o) => o.createdAt > since);
    for (const o of after) expect(o).toMatchObject({ state: 'REJECTED', reason: 'trading paused: browser test pause' });
    await page.screenshot({ path: `${SCREENSHOTS}/console-paused.png` });
    await expect.poll(() => telegram.sent.some((m) => m.text.startsWith('Trading PAUSED by console')), { timeout: 10_000 }).toBe(true);
  });

  it('resumes from the console, audited, and the scanner runs again', async () => {
    await page.locator('#resume-btn').click();
    await page.waitForSelector('#pause-badge[data-paused="false"]', { timeout: 10_000 });
    const resumed = await api('/api/overview');
    expect(resumed.control.at(-1)).toMatchObject({ type: 'control.resumed', data: { author: 'console' } });
    const line = await cycleLine(nextCycle() + 1);
    expect(line).not.toMatch(/PAUSED/);
    await expect.poll(() => page.locator('#control tbody').textContent()).toMatch(/control\.resumed/);
  });
});
