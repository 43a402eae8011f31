import { beforeEach, describe, expect, it } from 'vitest';
import { checkBook } from '../../../shared/domain/account.js';
import { ExchangeTransientError, ExchangeUnknownOutcomeError } from '../../../shared/domain/errors.js';
import { intentIdFor, type Intent } from '../../../shared/domain/intent.js';
import { executeIntent, type ExecuteIntentDeps } from '../../../shared/use-cases/execute-intent.js';
import {
  FAKE_RULES,
  FakeExchange,
  InMemoryAccountStore,
  InMemoryAuditLog,
  InMemoryControlStore,
  InMemoryLockService,
  InMemoryOrderStore,
} from '../../support/fakes.js';

const NOW = new Date('2026-05-01T12:00:00.000Z');

function intent(overrides: Partial<Intent> = {}): Intent {
  return {
    id: intentIdFor({ strategy: 'price-drop', symbol: 'BTC/USDT', side: 'buy', slot: NOW.toISOString() }),
    strategy: 'price-drop',
    symbol: 'BTC/USDT',
    side: 'buy',
    type: 'market',
    quoteAmount: '100',
    createdAt: NOW.toISOString(),
    expiresAt: new Date(NOW.getTime() + 120_000).toISOString(),
    ...overrides,
  };
}

describe('Use case: executeIntent', () => {
  let deps: ExecuteIntentDeps;
  let exchange: FakeExchange;
  let orders: InMemoryOrderStore;
  let accounts: InMemoryAccountStore;
  let audit: InMemoryAuditLog;
  let control: InMemoryControlStore;

  beforeEach(async () => {
    exchange = new FakeExchange();
    orders = new InMemoryOrderStore();
    accounts = new InMemoryAccountStore();
    audit = new InMemoryAuditLog();
    control = new InMemoryControlStore();
    await accounts.open('USDT', '1000', NOW);
    deps = {
      orders,
      accounts,
      locks: new InMemoryLockService(),
      exchange,
      audit,
      control,
      clock: { now: () => NOW },
      marketRules: async () => FAKE_RULES,
      entryLimits: async () => ({ maxOpenPositions: 5, maxExposurePerSymbol: '500', maxTotalExposure: '0' }),
      settings: { quoteCurrency: 'USDT', lockLeaseMs: 30_000, reservationBufferPercent: '1', owner: 'test', intentTtlMs: 86_400_000 },
    };
  });

  it('places one order with the client order id derived from the intent id and books the fill', async () => {
    const i = intent();
    const result = await executeIntent(deps, i);
    expect(result).toMatchObject({ outcome: 'executed', state: 'FILLED', orderId: `tw-${i.id}`, filled: '0.002' });
    expect(exchange.createCalls).toBe(1);
    expect(exchange.orders.has(`tw-${i.id}`)).toBe(true);
    const book = await accounts.get('USDT');
    expect(book && checkBook(book)).toEqual([]);
    expect(book?.positions['BTC/USDT']?.qty).toBe('0.002');
    // 0.002 x 50000 = 100 plus a 0.1 fee leaves 899.9 available.
    expect(book?.available).toBe('899.9');
    // The claim carries SUBMITTING: its announcement is written with the claim's write-ahead
    // record, and the reservation's record (which follows its write) with the send's and the
    // fill's: two audit writes for five records (PERF-2).
    expect(audit.types()).toEqual(['intent.accepted', 'order.submitting', 'budget.reserved', 'order.sent', 'order.filled']);
    expect(audit.writes.map((write) => write.map((r) => r.type))).toEqual([['intent.accepted', 'order.submitting'], ['budget.reserved', 'order.sent', 'order.filled']]);
  });

  it('places no second order when the intent is delivered again', async () => {
    const i = intent();
    await executeIntent(deps, i);
    const again = await executeIntent(deps, i);
    expect(again.outcome).toBe('already-processed');
    expect(exchange.createCalls).toBe(1);
  });

  it('records an expired intent as EXPIRED with its reason and never calls the exchange', async () => {
    const i = intent({ createdAt: new Date(NOW.getTime() - 300_000).toISOString(), expiresAt: new Date(NOW.getTime() - 1).toISOString() });
    const result = await executeIntent(deps, i);
    expect(result.outcome).toBe('expired');
    expect(result.reason).toMatch(/expired/);
    expect(exchange.createCalls).toBe(0);
    expect(audit.types()).toEqual(['intent.rejected']);
  });

  it('rejects, without calling the exchange, an order below the minimum notional', async () => {
    const result = await executeIntent(deps, intent({ quoteAmount: '9' }));
    expect(result).toMatchObject({ outcome: 'rejected', state: 'REJECTED' });
    expect(result.reason).toMatch(/notional/);
    expect(exchange.createCalls).toBe(0);
  });

  it('rejects an intent the budget cannot cover and leaves the ledger untouched', async () => {
    const result = await executeIntent(deps, intent({ quoteAmount: '5000' }));
    expect(result).toMatchObject({ outcome: 'rejected', state: 'REJECTED' });
    const book = await accounts.get('USDT');
    expect(book?.available).toBe('1000');
    expect(book?.reserved).toBe('0');
    expect(exchange.createCalls).toBe(0);
  });

  it('rejects new intents while trading is paused, and fails closed when the pause cannot be read', async () => {
    control.pause = { paused: true, reason: 'maintenance window', since: NOW.toISOString() };
    const paused = await executeIntent(deps, intent());
    expect(paused.outcome).toBe('rejected');
    expect(paused.reason).toMatch(/paused/);

    control.failPauseRead = true;
    await expect(executeIntent(deps, intent({ id: 'a'.repeat(32) }))).rejects.toThrow(/unreadable/);
    expect(exchange.createCalls).toBe(0);
  });

  it('leaves the order UNKNOWN on a timeout after sending, then finds it by client order id instead of re-sending', async () => {
    const i = intent();
    // The exchange accepted the order but the answer was lost.
    const inner = exchange.createOrder.bind(exchange);
    exchange.createOrder = async (request) => {
      await inner(request);
      throw new ExchangeUnknownOutcomeError('timeout after send');
    };
    await expect(executeIntent(deps, i)).rejects.toBeInstanceOf(ExchangeUnknownOutcomeError);
    expect((await orders.get(`tw-${i.id}`))?.state).toBe('UNKNOWN');

    const calls = exchange.createCalls;
    const resumed = await executeIntent(deps, i);
    expect(resumed).toMatchObject({ outcome: 'executed', state: 'FILLED' });
    expect(exchange.createCalls).toBe(calls);
    const book = await accounts.get('USDT');
    expect(book && checkBook(book)).toEqual([]);
    expect(Object.keys(book?.orders ?? {})).toEqual([]);
  });

  it('rethrows a transient error with the order still SUBMITTING, and the redelivery sends it once', async () => {
    const i = intent();
    exchange.nextCreateError = new ExchangeTransientError('connection refused');
    await expect(executeIntent(deps, i)).rejects.toBeInstanceOf(ExchangeTransientError);
    expect((await orders.get(`tw-${i.id}`))?.state).toBe('SUBMITTING');
    const result = await executeIntent(deps, i);
    expect(result.state).toBe('FILLED');
    expect(exchange.orders.size).toBe(1);
  });

  it('refuses a delivery with other content whose claim lost to the stored order, writing nothing more and sending nothing (INTENT_FINGERPRINT)', async () => {
    // Prepare: the intent executed; the changed delivery reads the order before it existed.
    const first = intent();
    expect(await executeIntent(deps, first)).toMatchObject({ outcome: 'executed' });
    const stored = [...orders.items.values()][0];
    const book = await accounts.get('USDT');
    const get = orders.get.bind(orders);
    let calls = 0;
    orders.get = async (id) => (calls++ === 0 ? null : get(id));

    // Act
    const changed = { ...first, quoteAmount: '50' };
    await expect(executeIntent(deps, changed)).rejects.toMatchObject({ code: 'VALIDATION_FAILED', retryable: false });

    // Assess: the order as it was; the book's money too (the reservation written beside the lost
    // claim is given back at once); one order on the exchange; the lease free.
    orders.get = get;
    expect([...orders.items.values()]).toEqual([stored]);
    const { version: _before, ...money } = book ?? {};
    const { version: _after, ...moneyAfter } = (await accounts.get('USDT')) ?? {};
    expect(moneyAfter).toEqual(money);
    expect(audit.records.map((r) => r.type).slice(-1)).toEqual(['budget.released']);
    expect(exchange.createCalls).toBe(1);
    await expect(deps.locks.acquire('symbol:BTC/USDT', 'other', 30_000, NOW)).resolves.toMatchObject({ owner: 'other' });
  });
});
