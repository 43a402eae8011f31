import { beforeEach, describe, expect, it } from 'vitest';
import { CircuitBreakerExchange } from '../../shared/adapters/exchange/circuit-breaker-exchange.js';
import { CLOSED_CIRCUIT, CircuitOpenError, admit, recordOutcome, type CircuitSettings, type CircuitState } from '../../shared/domain/circuit.js';
import { ExchangeRejectedError, ExchangeTransientError, ExchangeUnknownOutcomeError } from '../../shared/domain/errors.js';
import { RateBudgetExhaustedError } from '../../shared/ports/rate-budget.js';
import { InMemoryCircuitStore } from '../fixtures/scanner-fakes.js';
import { ManualClock } from '../support/local-runtime.js';
import { FakeExchange } from '../support/fakes.js';

const SETTINGS: CircuitSettings = { failureThreshold: 3, openMs: 60_000, probeLeaseMs: 10_000 };
const T = Date.parse('2026-05-01T12:00:00Z');

describe('Circuit breaker (RISK-5)', () => {
  describe('Function: admit / recordOutcome', () => {
    it('opens after N consecutive failures and resets the count on a success', () => {
      let s: CircuitState = CLOSED_CIRCUIT;
      s = recordOutcome(s, { ok: false, failure: 'x' }, T, false, SETTINGS);
      s = recordOutcome(s, { ok: false, failure: 'x' }, T, false, SETTINGS);
      expect(s).toMatchObject({ status: 'closed', consecutiveFailures: 2 });
      expect(recordOutcome(s, { ok: true }, T, false, SETTINGS)).toBe(CLOSED_CIRCUIT);
      s = recordOutcome(s, { ok: false, failure: 'timeout' }, T, false, SETTINGS);
      expect(s).toEqual({ status: 'open', consecutiveFailures: 3, openedAt: T, retryAt: T + 60_000, lastFailure: 'timeout' });
    });

    it('rejects while open, offers one probe after the cool-down, and refuses others while it runs', () => {
      const open = recordOutcome({ status: 'closed', consecutiveFailures: 2 }, { ok: false, failure: 'x' }, T, false, SETTINGS);
      expect(admit(open, T + 59_999, SETTINGS)).toEqual({ kind: 'reject', retryAt: T + 60_000 });
      const probe = admit(open, T + 60_000, SETTINGS);
      expect(probe).toMatchObject({ kind: 'probe', next: { status: 'half-open', probeUntil: T + 70_000 } });
      const halfOpen = probe.kind === 'probe' ? probe.next : open;
      expect(admit(halfOpen, T + 65_000, SETTINGS)).toEqual({ kind: 'reject', retryAt: T + 70_000 });
      // A probe whose holder died is taken over after its lease.
      expect(admit(halfOpen, T + 70_000, SETTINGS)).toMatchObject({ kind: 'probe' });
    });

    it('closes on the probe success, reopens on its failure, and ignores late results of other calls', () => {
      const halfOpen: CircuitState = { status: 'half-open', consecutiveFailures: 3, openedAt: T, retryAt: T + 60_000, probeUntil: T + 70_000 };
      expect(recordOutcome(halfOpen, { ok: true }, T + 61_000, true, SETTINGS)).toBe(CLOSED_CIRCUIT);
      expect(recordOutcome(halfOpen, { ok: false, failure: 'still down' }, T + 61_000, true, SETTINGS)).toMatchObject({ status: 'open', retryAt: T + 121_000 });
      expect(recordOutcome(halfOpen, { ok: true }, T + 61_000, false, SETTINGS)).toBe(halfOpen);
    });
  });

  describe('Class: CircuitBreakerExchange', () => {
    let clock: ManualClock;
    let store: InMemoryCircuitStore;
    let inner: FakeExchange;
    let breaker: CircuitBreakerExchange;
    let transitions: string[];
    let recordErrors: unknown[];

    beforeEach(() => {
      clock = new ManualClock(new Date(T));
      store = new InMemoryCircuitStore();
      inner = new FakeExchange();
      transitions = [];
      recordErrors = [];
      breaker = new CircuitBreakerExchange({
        inner,
        store,
        clock,
        settings: SETTINGS,
        onTransition: (from, to) => transitions.push(`${from.status}->${to.status}`),
        onRecordError: (e) => recordErrors.push(e),
      });
    });

    const failTickers = (error: Error) => {
      inner.fetchTickers = async () => {
        throw error;
      };
    };

    it('opens after consecutive transient failures, then refuses without calling the exchange', async () => {
      failTickers(new ExchangeTransientError('503'));
      for (let i = 0; i < 3; i += 1) await expect(breaker.fetchTickers(['BTC/USDT'])).rejects.toBeInstanceOf(ExchangeTransientError);
      let calls = 0;
      inner.fetchTickers = async () => {
        calls += 1;
        return [];
      };
      await expect(breaker.fetchTickers(['BTC/USDT'])).rejects.toBeInstanceOf(CircuitOpenError);
      await expect(breaker.createOrder({ clientOrderId: 'tw-1', symbol: 'BTC/USDT', side: 'buy', type: 'market', amount: '0.001' })).rejects.toMatchObject({ code: 'EXCHANGE_TRANSIENT', details: { reason: 'circuit-open' } });
      expect(calls).toBe(0);
      expect(inner.createCalls).toBe(0);
      expect(transitions).toEqual(['closed->closed', 'closed->closed', 'closed->open']);
      expect((await breaker.circuit()).status).toBe('open');
    });

    it('probes once after the cool-down and closes on success', async () => {
      failTickers(new ExchangeUnknownOutcomeError('504'));
      for (let i = 0; i < 3; i += 1) await expect(breaker.fetchTickers(['BTC/USDT'])).rejects.toThrow();
      inner.fetchTickers = FakeExchange.prototype.fetchTickers.bind(inner);
      clock.advance(60_000);
      expect(await breaker.fetchTickers(['BTC/USDT'])).toHaveLength(1);
      expect(transitions.slice(-2)).toEqual(['open->half-open', 'half-open->closed']);
      expect(await breaker.circuit()).toEqual(CLOSED_CIRCUIT);
    });

    it('reopens when the probe fails', async () => {
      failTickers(new ExchangeTransientError('503'));
      for (let i = 0; i < 3; i += 1) await expect(breaker.fetchTickers(['BTC/USDT'])).rejects.toThrow();
      clock.advance(60_000);
      await expect(breaker.fetchTickers(['BTC/USDT'])).rejects.toBeInstanceOf(ExchangeTransientError);
      expect(await breaker.circuit()).toMatchObject({ status: 'open', retryAt: T + 120_000 });
    });

    it('counts a rejection as an answer and our own rate-budget refusal as nothing', async () => {
      failTickers(new ExchangeTransientError('503'));
      await expect(breaker.fetchTickers(['BTC/USDT'])).rejects.toThrow();
      failTickers(new ExchangeRejectedError('bad symbol', 'bad-symbol'));
      await expect(breaker.fetchTickers(['BTC/USDT'])).rejects.toThrow();
      expect(await breaker.circuit()).toEqual(CLOSED_CIRCUIT);
      failTickers(new RateBudgetExhaustedError('fake', 4800, 4800, new Date(T + 60_000)));
      for (let i = 0; i < 5; i += 1) await expect(breaker.fetchTickers(['BTC/USDT'])).rejects.toBeInstanceOf(RateBudgetExhaustedError);
      expect(await breaker.circuit()).toEqual(CLOSED_CIRCUIT);
    });

    it('lets cancels through while the circuit is open, without claiming the probe (EXE-15)', async () => {
      // Prepare: a resting order, then the circuit opened by failures.
      inner.orders.set('tw-rest', { id: 'X9', clientOrderId: 'tw-rest', symbol: 'BTC/USDT', side: 'buy', type: 'limit', status: 'open', amount: '0.001', price: '40000', filled: '0', cost: '0', fees: [], timestamp: T });
      failTickers(new ExchangeTransientError('503'));
      for (let i = 0; i < 3; i += 1) await expect(breaker.fetchTickers(['BTC/USDT'])).rejects.toThrow();
      const cancels = breaker.bypassingCircuit();

      // Act / Assess: the guarded cancel is refused, the bypass reaches the exchange.
      await expect(breaker.cancelOrder('BTC/USDT', 'tw-rest')).rejects.toBeInstanceOf(CircuitOpenError);
      expect(inner.orders.get('tw-rest')?.status).toBe('open');
      expect(await cancels.fetchOpenOrders('BTC/USDT')).toHaveLength(1);
      expect(await cancels.cancelOrder('BTC/USDT', 'tw-rest')).toMatchObject({ status: 'canceled' });
      expect(await cancels.fetchOrderByClientId('BTC/USDT', 'tw-rest')).toMatchObject({ status: 'canceled' });
      // Its success neither closes the open circuit nor takes the probe, even after the cool-down.
      expect((await breaker.circuit()).status).toBe('open');
      clock.advance(60_000);
      await cancels.cancelOrder('BTC/USDT', 'tw-rest');
      expect((await breaker.circuit()).status).toBe('open');
      expect(transitions).toEqual(['closed->closed', 'closed->closed', 'closed->open']);
    });

    it('counts a bypassing call\'s failure while the circuit is closed, like any call', async () => {
      inner.cancelOrder = async () => {
        throw new ExchangeTransientError('503');
      };
      const cancels = breaker.bypassingCircuit();
      for (let i = 0; i < 3; i += 1) await expect(cancels.cancelOrder('BTC/USDT', 'tw-x')).rejects.toBeInstanceOf(ExchangeTransientError);
      expect(await breaker.circuit()).toMatchObject({ status: 'open', consecutiveFailures: 3 });
    });

    it('returns an accepted order even when its outcome cannot be recorded', async () => {
      failTickers(new ExchangeTransientError('503'));
      await expect(breaker.fetchTickers(['BTC/USDT'])).rejects.toThrow();
      store.write = async () => {
        throw new Error('DynamoDB throttled');
      };
      const order = await breaker.createOrder({ clientOrderId: 'tw-1', symbol: 'BTC/USDT', side: 'buy', type: 'market', amount: '0.001' });
      expect(order.status).toBe('closed');
      expect(recordErrors).toHaveLength(1);
    });

    it('keeps an unknown outcome unknown even when its failure cannot be recorded', async () => {
      inner.nextCreateError = new ExchangeUnknownOutcomeError('504 after send');
      store.write = async () => {
        throw new Error('DynamoDB throttled');
      };
      await expect(breaker.createOrder({ clientOrderId: 'tw-1', symbol: 'BTC/USDT', side: 'buy', type: 'market', amount: '0.001' })).rejects.toBeInstanceOf(ExchangeUnknownOutcomeError);
    });
  });
});
