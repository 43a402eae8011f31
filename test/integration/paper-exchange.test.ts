import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { PaperExchange, type PaperExchangeOptions } from '../../shared/adapters/paper/paper-exchange.js';
import { SyntheticMarket } from '../../shared/adapters/paper/synthetic-market.js';
import { ExchangeRejectedError } from '../../shared/domain/errors.js';
import { add, cmp, dec, mul, str, sub, type DecimalString } from '../../shared/domain/money.js';
import type { Clock } from '../../shared/ports/clock.js';
import type { PlaceOrderRequest } from '../../shared/ports/exchange.js';
import { createTables } from '../../local-runtime/provision.js';
import { startTestDynamo, type TestDynamo } from '../support/emulators.js';

const T0 = new Date('2026-03-14T15:09:26Z');
const MINUTE = 60_000;
const FEE_RATE = '0.001';
const SYMBOL = 'BTC/USDT';

class FakeClock implements Clock {
  constructor(private current: Date) {}
  now(): Date {
    return this.current;
  }
  set(at: Date): void {
    this.current = at;
  }
}

let dynamo: TestDynamo;
let tableCounter = 0;
const market = new SyntheticMarket({ seed: 'paper-exchange-test' });

beforeAll(async () => {
  dynamo = await startTestDynamo();
}, 30_000);

afterAll(async () => {
  await dynamo?.stop();
});

/** A fresh, empty paper table for each test: the books are one item per table. */
async function freshTable(): Promise<string> {
  tableCounter += 1;
  const names = await createTables(dynamo.client, `paper${tableCounter}`);
  return names.PaperExchangeTable ?? '';
}

function exchangeOn(table: string, clock: Clock, overrides: Partial<PaperExchangeOptions> = {}): PaperExchange {
  return new PaperExchange({
    doc: dynamo.doc,
    table,
    market,
    clock,
    feeRate: FEE_RATE,
    initialBalances: { USDT: '10000' },
    symbols: [SYMBOL, 'ETH/USDT'],
    ...overrides,
  });
}

async function setup(): Promise<{ table: string; clock: FakeClock; exchange: PaperExchange }> {
  const table = await freshTable();
  const clock = new FakeClock(T0);
  return { table, clock, exchange: exchangeOn(table, clock) };
}

/** The largest amount on the market's step worth at most `quote` at `price`. */
function amountFor(quote: DecimalString, price: DecimalString, symbol = SYMBOL): DecimalString {
  const step = market.rules(symbol).amountStep;
  return str(dec(quote).div(price).div(step).floor().times(step));
}

function marketBuy(clientOrderId: string, amount: DecimalString): PlaceOrderRequest {
  return { clientOrderId, symbol: SYMBOL, side: 'buy', type: 'market', amount };
}

async function rejection(promise: Promise<unknown>): Promise<ExchangeRejectedError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ExchangeRejectedError);
  return error as ExchangeRejectedError;
}

async function rawItem(table: string, pk: string, sk: string): Promise<Record<string, unknown> | undefined> {
  return (await dynamo.doc.send(new GetCommand({ TableName: table, Key: { pk, sk }, ConsistentRead: true }))).Item;
}

/** First minute after `from` where `test` holds, scanning up to a week. */
function findMinute(from: Date, test: (at: Date) => boolean): Date {
  for (let i = 1; i <= 7 * 24 * 60; i += 1) {
    const at = new Date(from.getTime() + i * MINUTE);
    if (test(at)) return at;
  }
  throw new Error('no such minute within a week');
}

/**
 * A document client that throws (as a process dying would) on the first command matching
 * `dies`, after which it behaves normally.
 */
function dyingDoc(real: DynamoDBDocumentClient, dies: (input: Record<string, unknown>) => boolean): DynamoDBDocumentClient {
  let died = false;
  return {
    send: (command: { input: Record<string, unknown> }) => {
      if (!died && dies(command.input)) {
        died = true;
        return Promise.reject(new Error('process died'));
      }
      return real.send(command as never);
    },
  } as unknown as DynamoDBDocumentClient;
}

/**
 * A document client that holds the first command matching `held` until `release()`; `reached`
 * resolves when that command arrives. It plays a process paused mid-settlement.
 */
function pausingDoc(
  real: DynamoDBDocumentClient,
  held: (input: Record<string, unknown>) => boolean,
): { doc: DynamoDBDocumentClient; reached: Promise<void>; release: () => void } {
  let arrive = (): void => undefined;
  let release = (): void => undefined;
  const reached = new Promise<void>((resolve) => (arrive = resolve));
  const gate = new Promise<void>((resolve) => (release = resolve));
  let used = false;
  const doc = {
    send: async (command: { input: Record<string, unknown> }) => {
      if (!used && held(command.input)) {
        used = true;
        arrive();
        await gate;
      }
      return real.send(command as never);
    },
  } as unknown as DynamoDBDocumentClient;
  return { doc, reached, release };
}

const isBalancesWrite = (input: Record<string, unknown>): boolean =>
  (input.Item as { pk?: string } | undefined)?.pk === 'BALANCES' && input.ConditionExpression === '#version = :expected';

describe('Class: PaperExchange', () => {
  describe('Method: createOrder (market)', () => {
    it('fills a market buy at the ask and debits exactly cost plus fee from the quote', async () => {
      const { exchange } = await setup();
      const ask = market.ticker(SYMBOL, T0).ask;
      const amount = amountFor('1000', ask);

      const order = await exchange.createOrder(marketBuy('tw-buy-1', amount));

      const cost = mul(amount, ask);
      const fee = mul(cost, FEE_RATE);
      expect(order).toMatchObject({ clientOrderId: 'tw-buy-1', status: 'closed', filled: amount, price: ask, cost, fees: [{ currency: 'USDT', amount: fee }], timestamp: T0.getTime() });
      const balances = await exchange.fetchBalances();
      expect(balances.USDT).toEqual({ free: sub('10000', add(cost, fee)), used: '0', total: sub('10000', add(cost, fee)) });
      expect(balances.BTC).toEqual({ free: amount, used: '0', total: amount });
    });

    it('fills a market sell at the bid and credits cost minus fee', async () => {
      const { exchange, clock } = await setup();
      const ask = market.ticker(SYMBOL, T0).ask;
      const amount = amountFor('1000', ask);
      await exchange.createOrder(marketBuy('tw-buy-1', amount));
      const later = new Date(T0.getTime() + 5 * MINUTE);
      clock.set(later);
      const bid = market.ticker(SYMBOL, later).bid;

      const sell = await exchange.createOrder({ clientOrderId: 'tw-sell-1', symbol: SYMBOL, side: 'sell', type: 'market', amount });

      const buyCost = mul(amount, ask);
      const sellCost = mul(amount, bid);
      expect(sell).toMatchObject({ status: 'closed', price: bid, filled: amount, cost: sellCost, fees: [{ currency: 'USDT', amount: mul(sellCost, FEE_RATE) }] });
      const balances = await exchange.fetchBalances();
      const expectedUsdt = add(sub('10000', add(buyCost, mul(buyCost, FEE_RATE))), sub(sellCost, mul(sellCost, FEE_RATE)));
      expect(balances.USDT?.free).toBe(expectedUsdt);
      expect(balances.BTC).toEqual({ free: '0', used: '0', total: '0' });
    });

    it('derives the same exchange order id from the same client order id', async () => {
      const a = await setup();
      const b = await setup();
      const amount = amountFor('100', market.ticker(SYMBOL, T0).ask);

      const first = await a.exchange.createOrder(marketBuy('tw-same', amount));
      const second = await b.exchange.createOrder(marketBuy('tw-same', amount));

      expect(first.id).toBe(second.id);
      expect(first.id).toMatch(/^P[0-9a-f]{16}$/);
    });
  });

  describe('Method: createOrder (rejections)', () => {
    it('rejects a reused client order id and changes nothing', async () => {
      const { exchange } = await setup();
      const amount = amountFor('1000', market.ticker(SYMBOL, T0).ask);
      const original = await exchange.createOrder(marketBuy('tw-dup', amount));
      const before = await exchange.fetchBalances();

      const error = await rejection(exchange.createOrder(marketBuy('tw-dup', amountFor('2000', market.ticker(SYMBOL, T0).ask))));

      expect(error.reason).toBe('duplicate-client-order-id');
      expect(await exchange.fetchBalances()).toEqual(before);
      expect(await exchange.fetchOrderByClientId(SYMBOL, 'tw-dup')).toEqual(original);
    });

    it('rejects a buy the free quote cannot cover and writes nothing', async () => {
      const { exchange, table } = await setup();
      const before = await exchange.fetchBalances();
      const amount = amountFor('9995', market.ticker(SYMBOL, T0).ask);

      const error = await rejection(exchange.createOrder(marketBuy('tw-poor', amount)));

      expect(error.reason).toBe('insufficient-funds');
      expect(await exchange.fetchBalances()).toEqual(before);
      expect(await exchange.fetchOrderByClientId(SYMBOL, 'tw-poor')).toBeNull();
      expect(await rawItem(table, 'ORDER#tw-poor', 'ORDER')).toBeUndefined();
    });

    it('rejects a sell of base the account does not hold', async () => {
      const { exchange } = await setup();

      const error = await rejection(
        exchange.createOrder({ clientOrderId: 'tw-short', symbol: SYMBOL, side: 'sell', type: 'market', amount: '0.01' }),
      );

      expect(error.reason).toBe('insufficient-funds');
      expect(await exchange.fetchOpenOrders()).toEqual([]);
    });

    it('rejects orders that break the market rules as invalid-order', async () => {
      const { exchange } = await setup();
      const ask = market.ticker(SYMBOL, T0).ask;
      const rules = market.rules(SYMBOL);
      const cases: PlaceOrderRequest[] = [
        marketBuy('tw-tiny', rules.amountStep), // notional far below 5 USDT
        marketBuy('tw-offstep', add(amountFor('100', ask), mul(rules.amountStep, '0.5'))),
        marketBuy('tw-zero', '0'),
        { clientOrderId: 'tw-nolimit', symbol: SYMBOL, side: 'buy', type: 'limit', amount: amountFor('100', ask) },
        { clientOrderId: 'tw-offtick', symbol: SYMBOL, side: 'buy', type: 'limit', amount: amountFor('100', ask), limitPrice: add(ask, mul(rules.priceTick, '0.5')) },
        marketBuy('bad id with spaces', amountFor('100', ask)),
      ];

      for (const request of cases) {
        expect((await rejection(exchange.createOrder(request))).reason).toBe('invalid-order');
      }
      expect((await exchange.fetchBalances()).USDT?.free).toBe('10000');
    });

    it('rejects a malformed symbol as bad-symbol', async () => {
      const { exchange } = await setup();

      const error = await rejection(exchange.createOrder({ ...marketBuy('tw-sym', '1'), symbol: 'BTCUSDT' }));

      expect(error.reason).toBe('bad-symbol');
    });

    it('never overspends: of two concurrent buys that each need 60% of the quote, exactly one fills', async () => {
      const { exchange } = await setup();
      const amount = amountFor('6000', market.ticker(SYMBOL, T0).ask);

      const results = await Promise.allSettled([
        exchange.createOrder(marketBuy('tw-race-a', amount)),
        exchange.createOrder(marketBuy('tw-race-b', amount)),
      ]);

      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const failure = results.find((r) => r.status === 'rejected');
      expect((failure?.reason as ExchangeRejectedError).reason).toBe('insufficient-funds');
      const balances = await exchange.fetchBalances();
      expect(balances.BTC?.free).toBe(amount);
      expect(cmp(balances.USDT?.free ?? '-1', '0')).toBeGreaterThanOrEqual(0);
    });
  });

  describe('Method: createOrder (limit) and lazy fills', () => {
    it('rests a buy below the ask with its cost and fee moved to used, then fills at the limit once the ask crosses it', async () => {
      const { exchange, clock } = await setup();
      const ask0 = market.ticker(SYMBOL, T0).ask;
      const crossing = findMinute(T0, (at) => cmp(market.ticker(SYMBOL, at).ask, mul(ask0, '0.995')) < 0);
      const limit = market.ticker(SYMBOL, crossing).ask;
      const amount = amountFor('2000', limit);
      const reserve = add(mul(amount, limit), mul(mul(amount, limit), FEE_RATE));

      const placed = await exchange.createOrder({ clientOrderId: 'tw-limit-buy', symbol: SYMBOL, side: 'buy', type: 'limit', amount, limitPrice: limit });

      expect(placed).toMatchObject({ status: 'open', price: limit, filled: '0', cost: '0', fees: [] });
      expect((await exchange.fetchBalances()).USDT).toEqual({ free: sub('10000', reserve), used: reserve, total: '10000' });
      expect((await exchange.fetchOpenOrders(SYMBOL)).map((o) => o.clientOrderId)).toEqual(['tw-limit-buy']);

      clock.set(crossing);
      const filled = await exchange.fetchOrderByClientId(SYMBOL, 'tw-limit-buy');

      const cost = mul(amount, limit);
      expect(filled).toMatchObject({ status: 'closed', filled: amount, cost, fees: [{ currency: 'USDT', amount: mul(cost, FEE_RATE) }], price: limit });
      const balances = await exchange.fetchBalances();
      expect(balances.USDT).toEqual({ free: sub('10000', reserve), used: '0', total: sub('10000', reserve) });
      expect(balances.BTC?.free).toBe(amount);
      expect(await exchange.fetchOpenOrders()).toEqual([]);
    });

    it('keeps a resting buy open while the ask stays above the limit', async () => {
      const { exchange, clock } = await setup();
      const limit = str(dec(market.ticker(SYMBOL, T0).ask).times('0.5').toNearest(market.rules(SYMBOL).priceTick));
      await exchange.createOrder({ clientOrderId: 'tw-deep', symbol: SYMBOL, side: 'buy', type: 'limit', amount: amountFor('1000', limit), limitPrice: limit });

      clock.set(new Date(T0.getTime() + 60 * MINUTE));

      expect((await exchange.fetchOrderByClientId(SYMBOL, 'tw-deep'))?.status).toBe('open');
      expect((await exchange.fetchOpenOrders()).map((o) => o.clientOrderId)).toEqual(['tw-deep']);
    });

    it('rests a sell above the bid with the base moved to used, and fills it when fetching balances after the bid rises', async () => {
      const { exchange, clock } = await setup();
      const amount = amountFor('1000', market.ticker(SYMBOL, T0).ask);
      await exchange.createOrder(marketBuy('tw-stock', amount));
      const bid0 = market.ticker(SYMBOL, T0).bid;
      const crossing = findMinute(T0, (at) => cmp(market.ticker(SYMBOL, at).bid, mul(bid0, '1.005')) > 0);
      const limit = market.ticker(SYMBOL, crossing).bid;
      const usdtBefore = (await exchange.fetchBalances()).USDT?.free ?? '';

      await exchange.createOrder({ clientOrderId: 'tw-limit-sell', symbol: SYMBOL, side: 'sell', type: 'limit', amount, limitPrice: limit });

      expect((await exchange.fetchBalances()).BTC).toEqual({ free: '0', used: amount, total: amount });
      clock.set(crossing);
      const balances = await exchange.fetchBalances();
      const cost = mul(amount, limit);
      expect(balances.BTC).toEqual({ free: '0', used: '0', total: '0' });
      expect(balances.USDT?.free).toBe(add(usdtBefore, sub(cost, mul(cost, FEE_RATE))));
      expect((await exchange.fetchOrderByClientId(SYMBOL, 'tw-limit-sell'))?.status).toBe('closed');
    });

    it('fills a limit order that is marketable when placed at its limit price', async () => {
      const { exchange } = await setup();
      const ask = market.ticker(SYMBOL, T0).ask;
      const limit = str(dec(ask).times('1.01').toNearest(market.rules(SYMBOL).priceTick));
      const amount = amountFor('1000', limit);

      const order = await exchange.createOrder({ clientOrderId: 'tw-cross', symbol: SYMBOL, side: 'buy', type: 'limit', amount, limitPrice: limit });

      expect(order).toMatchObject({ status: 'closed', filled: amount, price: limit, cost: mul(amount, limit) });
    });
  });

  describe('Fees in a third asset (BNB, EXE-12)', () => {
    const bnbPrice = () => market.ticker('BNB/USDT', T0).last;
    /** The BNB owed for a quote fee: its value at the BNB price, rounded up to 8 decimals. */
    const inBnb = (quoteFee: DecimalString) => str(dec(quoteFee).div(bnbPrice()).toDecimalPlaces(8, 0));

    it('charges the fee in BNB when the account holds enough, the quote paying only the cost', async () => {
      const table = await freshTable();
      const exchange = exchangeOn(table, new FakeClock(T0), { feeAsset: 'BNB', initialBalances: { USDT: '10000', BNB: '1' } });
      const ask = market.ticker(SYMBOL, T0).ask;
      const amount = amountFor('1000', ask);

      const order = await exchange.createOrder(marketBuy('tw-bnb-paid', amount));

      const cost = mul(amount, ask);
      const fee = inBnb(mul(cost, FEE_RATE));
      expect(order.fees).toEqual([{ currency: 'BNB', amount: fee }]);
      const balances = await exchange.fetchBalances();
      expect(balances.USDT?.free).toBe(sub('10000', cost));
      expect(balances.BNB?.free).toBe(sub('1', fee));
      expect(balances.BTC?.free).toBe(amount);
    });

    it('falls back to the quote currency when the account holds no BNB at all', async () => {
      const table = await freshTable();
      const exchange = exchangeOn(table, new FakeClock(T0), { feeAsset: 'BNB', initialBalances: { USDT: '10000' } });
      const ask = market.ticker(SYMBOL, T0).ask;
      const amount = amountFor('1000', ask);

      const order = await exchange.createOrder(marketBuy('tw-bnb-none', amount));

      const cost = mul(amount, ask);
      const fee = mul(cost, FEE_RATE);
      expect(order.fees).toEqual([{ currency: 'USDT', amount: fee }]);
      const balances = await exchange.fetchBalances();
      expect(balances.USDT).toEqual({ free: sub('10000', add(cost, fee)), used: '0', total: sub('10000', add(cost, fee)) });
      expect(balances.BNB).toBeUndefined();
      expect(balances.BTC?.free).toBe(amount);
    });

    it('falls back to the quote currency when the BNB held is less than the fee, and leaves the BNB untouched', async () => {
      const table = await freshTable();
      const exchange = exchangeOn(table, new FakeClock(T0), { feeAsset: 'BNB', initialBalances: { USDT: '10000', BNB: '0.00000001' } });
      const ask = market.ticker(SYMBOL, T0).ask;
      const amount = amountFor('1000', ask);
      expect(cmp(inBnb(mul(mul(amount, ask), FEE_RATE)), '0.00000001')).toBeGreaterThan(0);

      const order = await exchange.createOrder(marketBuy('tw-bnb-short', amount));

      expect(order.fees).toEqual([{ currency: 'USDT', amount: mul(mul(amount, ask), FEE_RATE) }]);
      expect((await exchange.fetchBalances()).BNB).toEqual({ free: '0.00000001', used: '0', total: '0.00000001' });
    });

    it('holds a resting buy\'s fee in the quote with its cost when the account holds no BNB, and charges it there on the fill', async () => {
      const table = await freshTable();
      const clock = new FakeClock(T0);
      const exchange = exchangeOn(table, clock, { feeAsset: 'BNB', initialBalances: { USDT: '10000' } });
      const ask0 = market.ticker(SYMBOL, T0).ask;
      const crossing = findMinute(T0, (at) => cmp(market.ticker(SYMBOL, at).ask, mul(ask0, '0.995')) < 0);
      const limit = market.ticker(SYMBOL, crossing).ask;
      const amount = amountFor('2000', limit);
      const cost = mul(amount, limit);
      const fee = mul(cost, FEE_RATE);

      await exchange.createOrder({ clientOrderId: 'tw-bnb-rest', symbol: SYMBOL, side: 'buy', type: 'limit', amount, limitPrice: limit });
      expect((await exchange.fetchBalances()).USDT).toEqual({ free: sub('10000', add(cost, fee)), used: add(cost, fee), total: '10000' });

      clock.set(crossing);
      expect(await exchange.fetchOrderByClientId(SYMBOL, 'tw-bnb-rest')).toMatchObject({ status: 'closed', fees: [{ currency: 'USDT', amount: fee }] });
      expect((await exchange.fetchBalances()).USDT).toEqual({ free: sub('10000', add(cost, fee)), used: '0', total: sub('10000', add(cost, fee)) });
    });
  });

  describe('Method: cancelOrder', () => {
    it('cancels a resting order and releases its funds exactly', async () => {
      const { exchange } = await setup();
      const limit = str(dec(market.ticker(SYMBOL, T0).ask).times('0.5').toNearest(market.rules(SYMBOL).priceTick));
      await exchange.createOrder({ clientOrderId: 'tw-cancel', symbol: SYMBOL, side: 'buy', type: 'limit', amount: amountFor('3000', limit), limitPrice: limit });

      const canceled = await exchange.cancelOrder(SYMBOL, 'tw-cancel');

      expect(canceled).toMatchObject({ clientOrderId: 'tw-cancel', status: 'canceled', filled: '0' });
      expect((await exchange.fetchBalances()).USDT).toEqual({ free: '10000', used: '0', total: '10000' });
      expect(await exchange.fetchOpenOrders()).toEqual([]);
      expect(await exchange.cancelOrder(SYMBOL, 'tw-cancel')).toEqual(canceled);
      expect((await exchange.fetchBalances()).USDT?.free).toBe('10000');
    });

    it('returns a filled order unchanged', async () => {
      const { exchange } = await setup();
      const filled = await exchange.createOrder(marketBuy('tw-done', amountFor('500', market.ticker(SYMBOL, T0).ask)));

      expect(await exchange.cancelOrder(SYMBOL, 'tw-done')).toEqual(filled);
    });

    it('answers null for an unknown order or another symbol', async () => {
      const { exchange } = await setup();
      await exchange.createOrder(marketBuy('tw-known', amountFor('500', market.ticker(SYMBOL, T0).ask)));

      expect(await exchange.cancelOrder(SYMBOL, 'tw-unknown')).toBeNull();
      expect(await exchange.cancelOrder('ETH/USDT', 'tw-known')).toBeNull();
      expect(await exchange.fetchOrderByClientId(SYMBOL, 'tw-unknown')).toBeNull();
      expect(await exchange.fetchOrderByClientId('ETH/USDT', 'tw-known')).toBeNull();
    });
  });

  describe('Durability and concurrency', () => {
    it('keeps orders and balances across a new PaperExchange instance on the same table', async () => {
      const { table, exchange } = await setup();
      const limit = str(dec(market.ticker(SYMBOL, T0).ask).times('0.5').toNearest(market.rules(SYMBOL).priceTick));
      const bought = await exchange.createOrder(marketBuy('tw-keep', amountFor('1000', market.ticker(SYMBOL, T0).ask)));
      const resting = await exchange.createOrder({ clientOrderId: 'tw-rest', symbol: SYMBOL, side: 'buy', type: 'limit', amount: amountFor('1000', limit), limitPrice: limit });
      const balances = await exchange.fetchBalances();

      const restarted = exchangeOn(table, new FakeClock(T0), { initialBalances: { USDT: '999999' } });

      expect(await restarted.fetchBalances()).toEqual(balances);
      expect(await restarted.fetchOrderByClientId(SYMBOL, 'tw-keep')).toEqual(bought);
      expect(await restarted.fetchOpenOrders()).toEqual([resting]);
      expect((await rejection(restarted.createOrder(marketBuy('tw-keep', '0.001')))).reason).toBe('duplicate-client-order-id');
    });

    it('creates exactly one order and one balance movement from 20 concurrent creates with one client order id', async () => {
      const { table, exchange } = await setup();
      const ask = market.ticker(SYMBOL, T0).ask;
      const amount = amountFor('1000', ask);

      const results = await Promise.allSettled(Array.from({ length: 20 }, () => exchange.createOrder(marketBuy('tw-storm', amount))));

      const fulfilled = results.filter((r) => r.status === 'fulfilled');
      const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(fulfilled).toHaveLength(1);
      expect(rejected.map((r) => (r.reason as ExchangeRejectedError).reason)).toEqual(Array(19).fill('duplicate-client-order-id'));
      const cost = mul(amount, ask);
      const balances = await exchange.fetchBalances();
      expect(balances.USDT?.free).toBe(sub('10000', add(cost, mul(cost, FEE_RATE))));
      expect(balances.BTC?.free).toBe(amount);
      expect((await rawItem(table, 'BALANCES', 'BALANCES'))?.outcomes).toEqual({});
    });
  });

  describe('Crash recovery (exactly-once settlement)', () => {
    it('completes an order whose process died before touching the balances, once, on a later fetch', async () => {
      const { table, clock, exchange } = await setup();
      const dying = exchangeOn(table, clock, { doc: dyingDoc(dynamo.doc, isBalancesWrite) });
      const ask = market.ticker(SYMBOL, T0).ask;
      const amount = amountFor('1000', ask);
      await exchange.fetchBalances(); // create the books so the first balances write is the settlement

      await expect(dying.createOrder(marketBuy('tw-crash-1', amount))).rejects.toThrow('process died');
      expect((await rawItem(table, 'BALANCES', 'BALANCES'))?.assets).toEqual({ USDT: { free: '10000', used: '0' } });

      const order = await exchange.fetchOrderByClientId(SYMBOL, 'tw-crash-1');
      await exchange.fetchOrderByClientId(SYMBOL, 'tw-crash-1');

      const cost = mul(amount, ask);
      expect(order).toMatchObject({ status: 'closed', filled: amount, cost });
      const balances = await exchange.fetchBalances();
      expect(balances.USDT?.free).toBe(sub('10000', add(cost, mul(cost, FEE_RATE))));
      expect(balances.BTC?.free).toBe(amount);
    });

    it('lets a retried createOrder finish the settlement of the order it placed before dying, then report the duplicate', async () => {
      const { table, clock, exchange } = await setup();
      const dying = exchangeOn(table, clock, { doc: dyingDoc(dynamo.doc, isBalancesWrite) });
      const amount = amountFor('1000', market.ticker(SYMBOL, T0).ask);
      await exchange.fetchBalances();
      await expect(dying.createOrder(marketBuy('tw-crash-2', amount))).rejects.toThrow('process died');

      const error = await rejection(dying.createOrder(marketBuy('tw-crash-2', amount)));

      expect(error.reason).toBe('duplicate-client-order-id');
      expect((await rawItem(table, 'BALANCES', 'BALANCES'))?.assets).toMatchObject({ BTC: { free: amount, used: '0' } });
      expect((await exchange.fetchBalances()).BTC?.free).toBe(amount);
    });

    it('does not apply twice when the process died after the balances write but before completing the order', async () => {
      const { table, clock, exchange } = await setup();
      const isOrderCompletion = (input: Record<string, unknown>): boolean =>
        (input.Item as { pk?: string } | undefined)?.pk === 'ORDER#tw-crash-3' && input.ConditionExpression === '#version = :expected';
      const dying = exchangeOn(table, clock, { doc: dyingDoc(dynamo.doc, isOrderCompletion) });
      const amount = amountFor('1000', market.ticker(SYMBOL, T0).ask);

      await expect(dying.createOrder(marketBuy('tw-crash-3', amount))).rejects.toThrow('process died');
      expect((await rawItem(table, 'ORDER#tw-crash-3', 'ORDER'))?.pending).toBeDefined();

      const balances = await exchange.fetchBalances();

      expect(balances.BTC?.free).toBe(amount);
      expect(await exchange.fetchOpenOrders()).toEqual([]);
      expect((await exchange.fetchOrderByClientId(SYMBOL, 'tw-crash-3'))?.status).toBe('closed');
      expect((await exchange.fetchBalances()).BTC?.free).toBe(amount);
      const stored = await rawItem(table, 'ORDER#tw-crash-3', 'ORDER');
      expect(stored?.pending).toBeUndefined();
      expect(stored?.openpk).toBeUndefined();
      expect((await rawItem(table, 'BALANCES', 'BALANCES'))?.outcomes).toEqual({});
    });

    it('does not apply again when a paused settler resumes after another process settled and forgot the effect', async () => {
      const { table, clock, exchange } = await setup();
      const amount = amountFor('1000', market.ticker(SYMBOL, T0).ask);
      await exchange.fetchBalances();
      const dying = exchangeOn(table, clock, { doc: dyingDoc(dynamo.doc, isBalancesWrite) });
      await expect(dying.createOrder(marketBuy('tw-stale', amount))).rejects.toThrow('process died');
      const paused = pausingDoc(dynamo.doc, isBalancesWrite);
      const slow = exchangeOn(table, clock, { doc: paused.doc });

      // The slow process has read the books and the order (effect pending) and is about to write.
      const slowFetch = slow.fetchOrderByClientId(SYMBOL, 'tw-stale');
      await paused.reached;
      await exchange.fetchOrderByClientId(SYMBOL, 'tw-stale');
      expect((await rawItem(table, 'BALANCES', 'BALANCES'))?.outcomes).toEqual({});
      paused.release();

      expect((await slowFetch)?.status).toBe('closed');
      expect((await exchange.fetchBalances()).BTC?.free).toBe(amount);
    });

    it('clears an outcome left behind by a process that died after completing the order', async () => {
      const { table, clock, exchange } = await setup();
      let balanceWrites = 0;
      // The second balances write of the settlement is the clean-up of its outcome.
      const dying = exchangeOn(table, clock, { doc: dyingDoc(dynamo.doc, (input) => isBalancesWrite(input) && ++balanceWrites === 2) });
      const amount = amountFor('1000', market.ticker(SYMBOL, T0).ask);
      await exchange.fetchBalances();

      await expect(dying.createOrder(marketBuy('tw-crash-4', amount))).rejects.toThrow('process died');
      expect(Object.keys(((await rawItem(table, 'BALANCES', 'BALANCES'))?.outcomes as object) ?? {})).toEqual(['tw-crash-4#1']);

      const balances = await exchange.fetchBalances();

      expect(balances.BTC?.free).toBe(amount);
      expect((await rawItem(table, 'BALANCES', 'BALANCES'))?.outcomes).toEqual({});
    });

    it('marks a placement rejected, and moves nothing, when the funds were gone by the time it settled', async () => {
      const { table, exchange } = await setup();
      const amount = amountFor('1000', market.ticker(SYMBOL, T0).ask);
      // An order written with its placement pending whose funds another order has since taken.
      await exchange.createOrder(marketBuy('tw-template', amount));
      const template = await rawItem(table, 'ORDER#tw-template', 'ORDER');
      const pending = {
        id: 'tw-late#1',
        kind: 'place',
        rejectable: true,
        deltas: { USDT: { free: '-20000', used: '0' }, BTC: { free: amount, used: '0' } },
      };
      await dynamo.doc.send(
        new PutCommand({
          TableName: table,
          Item: { ...template, pk: 'ORDER#tw-late', clientOrderId: 'tw-late', pending, openpk: 'UNSETTLED', opensk: `${SYMBOL}#tw-late`, version: 1 },
        }),
      );
      const before = (await rawItem(table, 'BALANCES', 'BALANCES'))?.assets;

      const order = await exchange.fetchOrderByClientId(SYMBOL, 'tw-late');

      expect(order).toMatchObject({ status: 'rejected', filled: '0', cost: '0', fees: [] });
      expect((await rawItem(table, 'BALANCES', 'BALANCES'))?.assets).toEqual(before);
    });
  });

  describe('Market data', () => {
    it('returns tickers for every symbol at the clock time in one call, tagged synthetic', async () => {
      const { exchange } = await setup();

      const tickers = await exchange.fetchTickers([SYMBOL, 'ETH/USDT']);

      expect(exchange.source).toBe('synthetic');
      expect(tickers).toEqual([market.ticker(SYMBOL, T0), market.ticker('ETH/USDT', T0)]);
    });

    it('returns closed candles up to the clock time', async () => {
      const { exchange } = await setup();

      const candles = await exchange.fetchCandles(SYMBOL, 10);

      expect(candles).toEqual(market.candles(SYMBOL, T0, 10));
      expect((candles.at(-1)?.openTime ?? Infinity) + MINUTE).toBeLessThanOrEqual(T0.getTime());
    });

    it('describes the markets of the watchlist', async () => {
      const { exchange } = await setup();

      const markets = await exchange.loadMarkets();

      expect(Object.keys(markets)).toEqual([SYMBOL, 'ETH/USDT']);
      expect(markets[SYMBOL]).toEqual(market.rules(SYMBOL));
    });
  });
});
