/**
 * TST-3: the fault-injecting Exchange wrapper itself: reproducible faults, scripts, what reaches
 * the inner exchange, and the classification each fault comes out with.
 */
import { describe, expect, it } from 'vitest';
import {
  ExchangeRejectedError,
  ExchangeTransientError,
  ExchangeUnknownOutcomeError,
} from '../../shared/domain/errors.js';
import {
  EXCHANGE_CALLS,
  FAULT_KINDS,
  FaultInjectingExchange,
  seededRandom,
  type FaultKind,
} from '../../testkit/fault-injecting-exchange.js';
import { FakeExchange } from '../support/fakes.js';

const REQUEST = { clientOrderId: 'tw-0123456789abcdef0123456789abcdef', symbol: 'BTC/USDT', side: 'buy', type: 'market', amount: '0.002' } as const;

async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (error) {
    if (error instanceof ExchangeRejectedError) return `rejected:${error.reason}`;
    if (error instanceof ExchangeUnknownOutcomeError) return 'unknown';
    if (error instanceof ExchangeTransientError) return 'transient';
    return `other:${String(error)}`;
  }
}

describe('Class: FaultInjectingExchange', () => {
  describe('Random mode', () => {
    const rates = { default: { 'network-before': 0.1, 'rate-limit-429': 0.1, 'timeout-after-accept': 0.1, latency: 0.1 } };
    const run = async (seed: string) => {
      const exchange = new FaultInjectingExchange(new FakeExchange(), { seed, rates, sleep: async () => undefined });
      const outcomes: string[] = [];
      for (let i = 0; i < 200; i += 1) {
        outcomes.push(await outcome(exchange.fetchTickers(['BTC/USDT'])));
        outcomes.push(await outcome(exchange.fetchOrderByClientId('BTC/USDT', 'tw-x')));
      }
      return { outcomes, injected: exchange.injected.map((f) => `${f.call}:${f.kind}`) };
    };

    it('injects the same faults for the same seed and call sequence', async () => {
      const a = await run('seed-1');
      const b = await run('seed-1');
      expect(a).toEqual(b);
      expect(a.injected.length).toBeGreaterThan(40);
    });

    it('injects different faults for another seed, near the configured rates', async () => {
      const a = await run('seed-1');
      const c = await run('seed-2');
      expect(c.injected).not.toEqual(a.injected);
      // 400 calls at a total rate of 0.4: about 160 faults.
      expect(c.injected.length).toBeGreaterThan(110);
      expect(c.injected.length).toBeLessThan(210);
    });

    it('draws uniform numbers in [0, 1) from a seeded generator', () => {
      const r = seededRandom('x');
      const values = Array.from({ length: 10_000 }, r);
      expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...values)).toBeLessThan(1);
      const mean = values.reduce((s, v) => s + v, 0) / values.length;
      expect(mean).toBeGreaterThan(0.48);
      expect(mean).toBeLessThan(0.52);
    });

    it('leaves call types without a rate alone', async () => {
      const exchange = new FaultInjectingExchange(new FakeExchange(), { rates: { fetchTickers: { 'network-before': 1 } } });
      expect(await outcome(exchange.fetchTickers(['BTC/USDT']))).toBe('transient');
      expect(await outcome(exchange.createOrder(REQUEST))).toBe('ok');
      expect(exchange.forwarded.createOrder).toBe(1);
      expect(exchange.forwarded.fetchTickers).toBe(0);
    });
  });

  describe('Script mode', () => {
    /** fault -> [outcome of createOrder, reached the inner exchange] */
    const CREATE: Record<FaultKind, [string, boolean]> = {
      'network-before': ['transient', false],
      'timeout-before': ['unknown', false],
      'timeout-after-accept': ['unknown', true],
      'rate-limit-418': ['transient', false],
      'rate-limit-429': ['transient', false],
      'server-error': ['unknown', false],
      'server-error-after-accept': ['unknown', true],
      maintenance: ['transient', false],
      'html-403': ['transient', false],
      'empty-body': ['transient', false],
      latency: ['ok', true],
      'insufficient-funds': ['rejected:insufficient-funds', false],
      'invalid-order': ['rejected:invalid-order', false],
      'below-min-notional': ['rejected:invalid-order', false],
    };

    for (const kind of FAULT_KINDS) {
      it(`raises ${kind} on createOrder as ${CREATE[kind][0]}${CREATE[kind][1] ? ', after the exchange processed it' : ', without sending'}`, async () => {
        const inner = new FakeExchange();
        const exchange = new FaultInjectingExchange(inner, { sleep: async () => undefined }).script('createOrder', kind);
        expect(await outcome(exchange.createOrder(REQUEST))).toBe(CREATE[kind][0]);
        expect(inner.createCalls).toBe(CREATE[kind][1] ? 1 : 0);
        expect(exchange.forwarded.createOrder).toBe(CREATE[kind][1] ? 1 : 0);
        expect(exchange.createsByClientOrderId.get(REQUEST.clientOrderId) ?? 0).toBe(CREATE[kind][1] ? 1 : 0);
        expect(exchange.injected).toEqual([{ call: 'createOrder', kind, seq: 1, clientOrderId: REQUEST.clientOrderId }]);
        // The script is used up: the next call goes through.
        if (!CREATE[kind][1]) expect(await outcome(exchange.createOrder(REQUEST))).toBe('ok');
      });
    }

    it('makes timeouts and 5xx on reads transient: a read can always be repeated', async () => {
      const exchange = new FaultInjectingExchange(new FakeExchange()).script('fetchOrderByClientId', 'timeout-before', 'server-error', 'timeout-after-accept');
      for (let i = 0; i < 3; i += 1) expect(await outcome(exchange.fetchOrderByClientId('BTC/USDT', 'tw-x'))).toBe('transient');
      expect(exchange.forwarded.fetchOrderByClientId).toBe(1);
    });

    it('consumes scripts in order, per call type first and then the any-call queue', async () => {
      const exchange = new FaultInjectingExchange(new FakeExchange()).script('*', 'maintenance').script('fetchTickers', 'rate-limit-418', 'html-403');
      expect(exchange.pending('fetchTickers')).toBe(2);
      await outcome(exchange.fetchTickers(['BTC/USDT']));
      await outcome(exchange.fetchTickers(['BTC/USDT']));
      await outcome(exchange.fetchBalances());
      expect(exchange.injected.map((f) => `${f.call}:${f.kind}`)).toEqual(['fetchTickers:rate-limit-418', 'fetchTickers:html-403', 'fetchBalances:maintenance']);
      expect(exchange.pending('*')).toBe(0);
    });

    it('waits the scripted latency and then succeeds', async () => {
      const waits: number[] = [];
      const exchange = new FaultInjectingExchange(new FakeExchange(), { sleep: async (ms) => void waits.push(ms) }).script('fetchBalances', { kind: 'latency', latencyMs: 1234 });
      expect(await outcome(exchange.fetchBalances())).toBe('ok');
      expect(waits).toEqual([1234]);
    });

    it('counts calls and forwarded calls for every call type', async () => {
      const exchange = new FaultInjectingExchange(new FakeExchange());
      await exchange.loadMarkets();
      await exchange.fetchCandles('BTC/USDT', 5);
      await exchange.fetchOpenOrders();
      await exchange.cancelOrder('BTC/USDT', 'tw-x');
      for (const call of ['loadMarkets', 'fetchCandles', 'fetchOpenOrders', 'cancelOrder'] as const) expect(exchange.forwarded[call]).toBe(1);
      expect(Object.keys(exchange.calls).sort()).toEqual([...EXCHANGE_CALLS].sort());
    });
  });
});
