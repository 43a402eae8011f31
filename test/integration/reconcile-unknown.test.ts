/**
 * REC-2 and EXE-3 on the embedded stack: UNKNOWN orders are resolved by looking them up; a
 * network error is never read as "not found", and an order is declared lost only after three
 * not-found answers spanning the grace period. An order whose lookup fails is skipped and
 * reported, and the run goes on (DATA-7).
 */
import { describe, expect, it } from 'vitest';
import { checkBook } from '../../shared/domain/account.js';
import { ErrorCode, ExchangeTransientError, ExchangeUnknownOutcomeError } from '../../shared/domain/errors.js';
import type { LocalRuntime } from '../../local-runtime/runtime.js';
import { LOST_GRACE_MS } from '../../shared/domain/timing.js';
import { ManualClock } from '../support/local-runtime.js';
import { execute, intent, useScriptedStack, type ScriptedExchange } from './reconcile-support.js';

const SECOND = 1000;

describe('Reconciler: UNKNOWN orders and "not found" (REC-2)', () => {
  let runtime: LocalRuntime;
  let x: ScriptedExchange;
  const clock = new ManualClock(new Date('2026-03-02T10:00:00.000Z'));

  useScriptedStack({ TW_PAPER_SEED: 'reconcile-unknown', TW_WATCHLIST: 'BTC/USDT,ETH/USDT' }, { clock }, (stack) => ({ runtime, x } = stack));

  const c = () => runtime.containers.reconciler;

  it('resolves an UNKNOWN order that the exchange has by booking what it reports', async () => {
    // Prepare: the request reaches the exchange, the answer is lost (timeout after send).
    const buy = intent({ symbol: 'BTC/USDT', side: 'buy', type: 'market', quoteAmount: '30', at: clock.now() });
    const orderId = `tw-${buy.id}`;
    x.script.createOrder = async (request, inner) => {
      await inner.createOrder(request);
      throw new ExchangeUnknownOutcomeError('socket hang up after the request was sent');
    };
    await expect(execute(runtime, buy)).rejects.toMatchObject({ code: ErrorCode.ExchangeUnknownOutcome });
    x.script = {};
    expect((await c().orders.get(orderId))?.state).toBe('UNKNOWN');

    // Act
    clock.advance(20 * SECOND);
    const report = await runtime.reconcile();

    // Assess
    const remote = await x.inner.fetchOrderByClientId('BTC/USDT', orderId);
    const book = await c().accounts.get('USDT');
    expect(report.filled).toBe(1);
    expect(await c().orders.get(orderId)).toMatchObject({ state: 'FILLED', filled: remote?.filled, notFoundCount: 0 });
    expect(book?.positions['BTC/USDT']?.qty).toBe(remote?.filled);
    expect(book?.orders[orderId]).toBeUndefined();
    expect(report.balances?.drift.level).toBe('ok');
  });

  it('never counts a network error as "not found", and declares an order lost only after three answers over the grace period', async () => {
    // Prepare: the request never reached the exchange, but the executor cannot know that.
    const t0 = clock.now();
    const buy = intent({ symbol: 'ETH/USDT', side: 'buy', type: 'market', quoteAmount: '30', at: t0 });
    const orderId = `tw-${buy.id}`;
    x.script.createOrder = async () => {
      throw new ExchangeUnknownOutcomeError('timeout: no answer');
    };
    await expect(execute(runtime, buy)).rejects.toMatchObject({ code: ErrorCode.ExchangeUnknownOutcome });
    x.script = {};
    const reservedBefore = (await c().accounts.get('USDT'))?.orders[orderId]?.reserved;
    expect(reservedBefore).toBeDefined();
    const at = (ms: number) => clock.set(new Date(t0.getTime() + ms));
    const order = async () => c().orders.get(orderId);
    const networkDown = () => {
      x.script.fetchOrderByClientId = async () => {
        throw new ExchangeTransientError('ECONNRESET');
      };
    };

    // Act 1: five minutes of network errors. Each run skips the order and reports it with the
    // network error (DATA-7): one bad order cannot stall the others, and nothing is counted.
    networkDown();
    const outcomes: string[] = [];
    const reported: unknown[] = [];
    for (let minute = 1; minute <= 5; minute += 1) {
      at(minute * 60 * SECOND);
      const r = await runtime.reconcile();
      outcomes.push(`${r.status}:${r.checked}:${r.failed}`);
      reported.push(r.failures.find((f) => f.orderId === orderId)?.code);
    }

    // Assess 1
    const failed = ErrorCode.ExchangeTransient;
    expect(outcomes).toEqual(Array.from({ length: 5 }, () => 'completed:1:1'));
    expect(reported).toEqual(Array.from({ length: 5 }, () => failed));
    expect(await order()).toMatchObject({ state: 'UNKNOWN', notFoundCount: 0 });
    expect((await order())?.firstNotFoundAt).toBeUndefined();
    expect(await c().control.getReport('reconciliation')).toMatchObject({ status: 'completed', failures: expect.arrayContaining([expect.objectContaining({ orderId, code: failed })]) });
    expect((await runtime.health()).reasons.join('\n')).toContain('reconciliation:skipped');

    // Act 2: the exchange answers "not found" three times within less than the grace period.
    x.script = {};
    const base = 6 * 60 * SECOND;
    const counts: number[] = [];
    for (const offset of [0, 40, 80]) {
      at(base + 10 * SECOND + offset * SECOND);
      await runtime.reconcile();
      counts.push((await order())?.notFoundCount ?? -1);
    }
    // A network error between two not-found answers changes nothing either.
    networkDown();
    at(base + 120 * SECOND);
    expect(await runtime.reconcile()).toMatchObject({ failed: 1, failures: [expect.objectContaining({ orderId, code: ErrorCode.ExchangeTransient })] });
    x.script = {};
    const beforeGrace = await order();

    // Assess 2
    expect(counts).toEqual([1, 2, 3]);
    expect(beforeGrace).toMatchObject({ state: 'UNKNOWN', notFoundCount: 3 });
    expect(Date.parse(beforeGrace?.firstNotFoundAt ?? '')).toBe(t0.getTime() + base + 10 * SECOND);

    // Act 3: past the grace period since the first not-found answer.
    at(base + 10 * SECOND + LOST_GRACE_MS + SECOND);
    const report = await runtime.reconcile();

    // Assess 3
    const book = await c().accounts.get('USDT');
    expect(report.lost).toBe(1);
    expect(await order()).toMatchObject({ state: 'FAILED', notFoundCount: 4 });
    expect((await order())?.reason).toContain('not found on the exchange 4 times');
    expect(book?.orders[orderId]).toBeUndefined();
    expect(book ? checkBook(book) : ['no book']).toEqual([]);
    expect(x.calls.filter((call) => call.method === 'createOrder')).toHaveLength(2);
    const health = await runtime.health();
    expect(health.reasons.join('\n')).toContain('reconciliation:lost');
  });
});
