/**
 * RISK-5 / PERF-2: the circuit breaker reads the shared circuit once per call on the happy path
 * (admission), and still records every outcome that changes it.
 */
import { describe, expect, it, vi } from 'vitest';
import { CircuitBreakerExchange } from '../../shared/adapters/exchange/circuit-breaker-exchange.js';
import { CircuitOpenError, type CircuitSettings } from '../../shared/domain/circuit.js';
import { ExchangeTransientError } from '../../shared/domain/errors.js';
import { InMemoryCircuitStore } from '../fixtures/scanner-fakes.js';
import { ManualClock } from '../support/local-runtime.js';
import { FakeExchange } from '../support/fakes.js';

const SETTINGS: CircuitSettings = { failureThreshold: 3, openMs: 60_000, probeLeaseMs: 10_000 };

/** A store that counts its reads. */
class CountingCircuitStore extends InMemoryCircuitStore {
  reads = 0;
  override read(exchangeId: string) {
    this.reads += 1;
    return super.read(exchangeId);
  }
}

function setup() {
  const store = new CountingCircuitStore();
  const inner = new FakeExchange();
  const breaker = new CircuitBreakerExchange({ inner, store, clock: new ManualClock(new Date('2026-05-01T12:00:00Z')), settings: SETTINGS, onRecordError: (error) => { throw error; } });
  return { store, inner, breaker };
}

describe('Class: CircuitBreakerExchange', () => {
  describe('Method: fetchTickers (any guarded call)', () => {
    it('reads the circuit once for a success on a closed circuit without failures', async () => {
      const { store, breaker } = setup();
      await breaker.fetchTickers(['BTC/USDT']);
      await breaker.fetchTickers(['BTC/USDT']);
      expect(store.reads).toBe(2);
      expect(await breaker.circuit()).toEqual({ status: 'closed', consecutiveFailures: 0 });
    });

    it('still resets the failure count on the first success after failures', async () => {
      // Prepare: two counted failures
      const { store, inner, breaker } = setup();
      const fetch = inner.fetchTickers.bind(inner);
      let failures = 2;
      inner.fetchTickers = async (symbols) => {
        if (failures > 0) {
          failures -= 1;
          throw new ExchangeTransientError('exchange down');
        }
        return fetch(symbols);
      };
      for (let i = 0; i < 2; i += 1) await expect(breaker.fetchTickers(['BTC/USDT'])).rejects.toThrow('exchange down');
      expect(await breaker.circuit()).toMatchObject({ status: 'closed', consecutiveFailures: 2 });

      // Act
      store.reads = 0;
      await breaker.fetchTickers(['BTC/USDT']);

      // Assess: admission read, then the outcome's read and write
      expect(store.reads).toBe(2);
      expect(await breaker.circuit()).toEqual({ status: 'closed', consecutiveFailures: 0 });
    });
  });

  describe('Method: prepareOrder', () => {
    const order = { clientOrderId: 'tw-1', symbol: 'BTC/USDT', side: 'buy', type: 'market', amount: '0.001' } as const;

    it('lets the next createOrder decide on the read it started, and only that call', async () => {
      const { store, breaker } = setup();
      breaker.prepareOrder();
      await breaker.createOrder(order);
      expect(store.reads).toBe(1);
      await breaker.createOrder({ ...order, clientOrderId: 'tw-2' });
      expect(store.reads).toBe(2);
    });

    it('refuses the order when the prepared read finds the circuit open', async () => {
      const { store, inner, breaker } = setup();
      await store.write(inner.id, { status: 'open', consecutiveFailures: 3, openedAt: 0, retryAt: Date.parse('2026-05-01T13:00:00Z') }, 0);
      breaker.prepareOrder();
      await expect(breaker.createOrder(order)).rejects.toBeInstanceOf(CircuitOpenError);
    });

    it('reads again when the prepared read is older than a moment', async () => {
      const { store, inner, breaker } = setup();
      const now = vi.spyOn(performance, 'now');
      try {
        now.mockReturnValue(1_000);
        breaker.prepareOrder();
        // The circuit opens after the prepared read, and the send comes much later.
        await store.write(inner.id, { status: 'open', consecutiveFailures: 3, openedAt: 0, retryAt: Date.parse('2026-05-01T13:00:00Z') }, 0);
        now.mockReturnValue(10_000);
        await expect(breaker.createOrder(order)).rejects.toBeInstanceOf(CircuitOpenError);
        expect(store.reads).toBe(2);
      } finally {
        now.mockRestore();
      }
    });
  });
});
