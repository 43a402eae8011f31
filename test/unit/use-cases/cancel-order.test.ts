/**
 * The cancel use case (EXE-15) on fakes of its ports: one cancel through CANCEL_REQUESTED under
 * the symbol lease, each answer of the exchange, and the sweep of an emergency stop going on
 * past failures. The emulator-backed runs are in test/integration/cancel-orders.test.ts.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { checkBook, reserve } from '../../../shared/domain/account.js';
import { ExchangeRejectedError, ExchangeTransientError, ExchangeUnknownOutcomeError } from '../../../shared/domain/errors.js';
import { applyOrderEvent } from '../../../shared/domain/order-aggregate.js';
import { claimOrder } from '../../../shared/domain/order-creation.js';
import type { OrderRecord } from '../../../shared/domain/order.js';
import type { ExchangeOrder } from '../../../shared/ports/exchange.js';
import { cancelOpenOrders, cancelOrder, CANCEL_LEASE_ATTEMPTS, type CancelDeps } from '../../../shared/use-cases/cancel-order.js';
import { FakeExchange, InMemoryAccountStore, InMemoryAuditLog, InMemoryLockService, InMemoryOrderStore } from '../../support/fakes.js';
import { ManualClock } from '../../support/local-runtime.js';

const AT = new Date('2026-07-01T09:00:00Z');
const REQUEST = { reason: 'drill', author: 'alice' };

describe('Use case: cancel orders', () => {
  let clock: ManualClock;
  let orders: InMemoryOrderStore;
  let accounts: InMemoryAccountStore;
  let audit: InMemoryAuditLog;
  let locks: InMemoryLockService;
  let exchange: FakeExchange;
  let sleeps: number;
  let deps: CancelDeps;

  beforeEach(async () => {
    clock = new ManualClock(AT);
    orders = new InMemoryOrderStore();
    accounts = new InMemoryAccountStore();
    audit = new InMemoryAuditLog();
    locks = new InMemoryLockService();
    exchange = new FakeExchange();
    sleeps = 0;
    await accounts.open('USDT', '1000', AT);
    deps = {
      clock,
      orders,
      accounts,
      audit,
      locks,
      exchange,
      settings: { quoteCurrency: 'USDT', owner: 'test', lockLeaseMs: 30_000, symbols: ['BTC/USDT'] },
      sleep: async () => {
        sleeps += 1;
      },
    };
  });

  /** A resting limit buy of 0.001 BTC at 40000, recorded OPEN with its budget reserved, and open on the exchange. */
  async function restingBuy(id: string, symbol = 'BTC/USDT'): Promise<OrderRecord> {
    const { next: claimed } = claimOrder(
      { id, intentId: id.slice(3), correlationId: id.slice(3), strategy: 'test', symbol, side: 'buy', type: 'limit', amount: '0.001', limitPrice: '40000', reservedQuote: '40.04', fence: 0, createdAt: AT.toISOString() },
      AT,
    );
    const remote: ExchangeOrder = { id: `X-${id}`, clientOrderId: id, symbol, side: 'buy', type: 'limit', status: 'open', amount: '0.001', price: '40000', filled: '0', cost: '0', fees: [], timestamp: AT.getTime() };
    const submitting = applyOrderEvent(claimed, { type: 'Submitting', at: AT }).next;
    const open = applyOrderEvent(submitting, { type: 'Accepted', at: AT, report: remote }).next;
    await orders.create(open);
    await accounts.update('USDT', (b) => reserve(b, { orderId: id, symbol, side: 'buy', amount: '40.04' }, AT));
    exchange.orders.set(id, remote);
    return open;
  }

  const stateOf = async (id: string) => (await orders.get(id))?.state;
  const book = async () => {
    const b = await accounts.get('USDT');
    if (!b) throw new Error('no book');
    return b;
  };

  describe('Function: cancelOrder', () => {
    it('moves an open order through CANCEL_REQUESTED to CANCELED under the symbol lease, releases its budget and audits each step', async () => {
      await restingBuy('tw-a');

      const result = await cancelOrder(deps, { orderId: 'tw-a', ...REQUEST });

      expect(result).toEqual({ orderId: 'tw-a', symbol: 'BTC/USDT', ok: true, outcome: 'canceled', state: 'CANCELED' });
      const order = await orders.get('tw-a');
      expect(order?.events.slice(-2).map((e) => `${e.from}->${e.to}`)).toEqual(['OPEN->CANCEL_REQUESTED', 'CANCEL_REQUESTED->CANCELED']);
      expect(order?.fence).toBe(1);
      expect(exchange.orders.get('tw-a')?.status).toBe('canceled');
      expect((await book()).orders['tw-a']).toBeUndefined();
      expect((await book()).available).toBe('1000');
      expect(audit.types()).toEqual(['order.cancel-requested', 'order.canceled', 'budget.released', 'order.cancel-outcome']);
      expect(audit.records.at(-1)).toMatchObject({ stream: 'symbol:BTC/USDT', correlationId: 'a', data: { orderId: 'tw-a', outcome: 'canceled', author: 'alice', reason: 'drill' } });
      expect((await locks.list()).every((l) => l.owner === null)).toBe(true);
    });

    it('books the whole fill when the exchange reports the order filled before the cancel reached it', async () => {
      await restingBuy('tw-b');
      exchange.orders.set('tw-b', { ...(exchange.orders.get('tw-b') as ExchangeOrder), status: 'closed', filled: '0.001', cost: '40', fees: [{ currency: 'USDT', amount: '0.04' }] });

      const result = await cancelOrder(deps, { orderId: 'tw-b', ...REQUEST });

      expect(result).toMatchObject({ ok: true, outcome: 'filled', state: 'FILLED' });
      expect(await orders.get('tw-b')).toMatchObject({ filled: '0.001', cost: '40' });
      const b = await book();
      expect(b.positions['BTC/USDT']?.qty).toBe('0.001');
      expect(b.available).toBe('959.96');
      expect(checkBook(b)).toEqual([]);
    });

    it('books a partial fill the cancel confirmation reports', async () => {
      await restingBuy('tw-p');
      exchange.cancelOrder = async (_s, id) => {
        const o = { ...(exchange.orders.get(id) as ExchangeOrder), status: 'canceled' as const, filled: '0.0005', cost: '20', fees: [{ currency: 'USDT', amount: '0.02' }] };
        exchange.orders.set(id, o);
        return o;
      };

      expect(await cancelOrder(deps, { orderId: 'tw-p', ...REQUEST })).toMatchObject({ ok: true, outcome: 'canceled', state: 'CANCELED' });

      const b = await book();
      expect(b.positions['BTC/USDT']?.qty).toBe('0.0005');
      expect(b.available).toBe('979.98');
      expect(checkBook(b)).toEqual([]);
    });

    it('restores the earlier state when the exchange refuses the cancel, and reports the failure', async () => {
      await restingBuy('tw-c');
      exchange.cancelOrder = async () => {
        throw new ExchangeRejectedError('cancel refused', 'invalid-order');
      };

      const result = await cancelOrder(deps, { orderId: 'tw-c', ...REQUEST });

      expect(result).toMatchObject({ ok: false, outcome: 'refused', state: 'OPEN', error: { code: 'EXCHANGE_REJECTED' } });
      expect((await orders.get('tw-c'))?.events.slice(-2).map((e) => e.type)).toEqual(['CancelRequested', 'CancelRejected']);
      expect((await book()).orders['tw-c']?.remaining).toBe('40.04');
      expect(audit.types()).toEqual(['order.cancel-requested', 'order.cancel-rejected', 'order.cancel-outcome']);
    });

    it('restores the earlier state when nothing reached the exchange', async () => {
      await restingBuy('tw-t');
      exchange.cancelOrder = async () => {
        throw new ExchangeTransientError('503');
      };
      expect(await cancelOrder(deps, { orderId: 'tw-t', ...REQUEST })).toMatchObject({ ok: false, outcome: 'refused', state: 'OPEN', error: { code: 'EXCHANGE_TRANSIENT' } });
    });

    it('leaves the order CANCEL_REQUESTED when the outcome is unknown, for the reconciler to follow', async () => {
      await restingBuy('tw-u');
      exchange.cancelOrder = async () => {
        throw new ExchangeUnknownOutcomeError('504 after send');
      };

      expect(await cancelOrder(deps, { orderId: 'tw-u', ...REQUEST })).toMatchObject({ ok: false, outcome: 'unconfirmed', state: 'CANCEL_REQUESTED' });
      expect((await orders.get('tw-u'))?.stateBeforeCancel).toBe('OPEN');
      expect((await book()).orders['tw-u']).toBeDefined();
    });

    it('reports a symbol lease another process keeps as busy, after bounded attempts, and changes nothing', async () => {
      const order = await restingBuy('tw-d');
      await locks.acquire('symbol:BTC/USDT', 'executor-1', 60_000, AT);

      const result = await cancelOrder(deps, { orderId: 'tw-d', ...REQUEST });

      expect(result).toMatchObject({ ok: false, outcome: 'busy', error: { code: 'LOCK_HELD' } });
      expect(sleeps).toBe(CANCEL_LEASE_ATTEMPTS - 1);
      expect(await orders.get('tw-d')).toEqual(order);
      expect(exchange.orders.get('tw-d')?.status).toBe('open');
    });

    it('sends nothing for an order that is over, and refuses an unknown or malformed id with a coded error', async () => {
      await restingBuy('tw-e');
      await cancelOrder(deps, { orderId: 'tw-e', ...REQUEST });
      const before = audit.records.length;

      expect(await cancelOrder(deps, { orderId: 'tw-e', ...REQUEST })).toMatchObject({ ok: true, outcome: 'ended', state: 'CANCELED' });
      expect(audit.records.length).toBe(before + 1);
      await expect(cancelOrder(deps, { orderId: 'tw-nope', ...REQUEST })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      await expect(cancelOrder(deps, { orderId: 'tw-a b', ...REQUEST })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      expect(audit.records.length).toBe(before + 1);
    });

    it('looks an order of unknown outcome up first, then cancels it', async () => {
      const open = await restingBuy('tw-f');
      const unknown: OrderRecord = { ...open, state: 'UNKNOWN', exchangeOrderId: undefined } as OrderRecord;
      orders.items.set('tw-f', unknown);

      expect(await cancelOrder(deps, { orderId: 'tw-f', ...REQUEST })).toMatchObject({ ok: true, outcome: 'canceled', state: 'CANCELED' });
      expect((await orders.get('tw-f'))?.events.slice(-3).map((e) => `${e.from}->${e.to}`)).toEqual(['UNKNOWN->OPEN', 'OPEN->CANCEL_REQUESTED', 'CANCEL_REQUESTED->CANCELED']);
    });
  });

  describe('Function: cancelOpenOrders', () => {
    it('goes on past a failed cancel and reports every failure at the end', async () => {
      await restingBuy('tw-1');
      await restingBuy('tw-2', 'ETH/USDT');
      await restingBuy('tw-3');
      exchange.prices['ETH/USDT'] = { bid: '2000', ask: '2001' };
      const cancel = exchange.cancelOrder.bind(exchange);
      exchange.cancelOrder = async (symbol, id) => {
        if (id === 'tw-1') throw new ExchangeTransientError('503');
        if (id === 'tw-3') throw new ExchangeRejectedError('refused', 'invalid-order');
        return cancel(symbol, id);
      };

      const sweep = await cancelOpenOrders(deps, { ...REQUEST, all: false });

      expect(sweep.results.map((r) => [r.orderId, r.outcome])).toEqual([
        ['tw-1', 'refused'],
        ['tw-2', 'canceled'],
        ['tw-3', 'refused'],
      ]);
      expect(sweep.failures.map((f) => [f.orderId, f.error?.code])).toEqual([
        ['tw-1', 'EXCHANGE_TRANSIENT'],
        ['tw-3', 'EXCHANGE_REJECTED'],
      ]);
      expect(await stateOf('tw-2')).toBe('CANCELED');
      expect(audit.records.filter((r) => r.type === 'order.cancel-outcome')).toHaveLength(3);
    });

    it('cancels only tw- orders the books do not follow, and every order with all', async () => {
      const foreign = (clientOrderId: string): ExchangeOrder => ({ id: `X-${clientOrderId}`, clientOrderId, symbol: 'BTC/USDT', side: 'sell', type: 'limit', status: 'open', amount: '0.01', price: '90000', filled: '0', cost: '0', fees: [], timestamp: AT.getTime() });
      exchange.orders.set('manual-1', foreign('manual-1'));
      exchange.orders.set('tw-orphan', foreign('tw-orphan'));

      const first = await cancelOpenOrders(deps, { ...REQUEST, all: false });
      expect(first.results).toEqual([{ orderId: 'tw-orphan', symbol: 'BTC/USDT', ok: true, outcome: 'canceled', exchangeOnly: true }]);
      expect(exchange.orders.get('manual-1')?.status).toBe('open');

      const second = await cancelOpenOrders(deps, { ...REQUEST, all: true });
      expect(second.results.map((r) => [r.orderId, r.outcome])).toEqual([['manual-1', 'canceled']]);
      expect(exchange.orders.get('manual-1')?.status).toBe('canceled');
      expect(audit.records.at(-1)).toMatchObject({ type: 'order.cancel-outcome', data: { orderId: 'manual-1', exchangeOnly: true, exchangeOrderId: 'X-manual-1', author: 'alice' } });
    });

    it('reports a symbol whose open orders cannot be listed, and goes on', async () => {
      await restingBuy('tw-9');
      exchange.fetchOpenOrders = async () => {
        throw new ExchangeTransientError('503');
      };

      const sweep = await cancelOpenOrders(deps, { ...REQUEST, all: false });

      expect(sweep.results[0]).toMatchObject({ orderId: 'tw-9', ok: true, outcome: 'canceled' });
      expect(sweep.failures).toEqual([expect.objectContaining({ orderId: '*', symbol: 'BTC/USDT', ok: false, error: expect.objectContaining({ code: 'EXCHANGE_TRANSIENT' }) })]);
    });
  });
});
