/**
 * The request-weight budget shared by every instance (RISK-6), against the DynamoDB emulator.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbRateBudget, rateKey } from '../../shared/adapters/aws/dynamodb-rate-budget.js';
import { RateBudgetExhaustedError } from '../../shared/ports/rate-budget.js';
import { createTables } from '../../local-runtime/provision.js';
import { ManualClock } from '../support/local-runtime.js';
import { startTestDynamo, type TestDynamo } from '../support/emulators.js';

let dynamo: TestDynamo;
let tableSet = 0;

beforeAll(async () => {
  dynamo = await startTestDynamo();
});

afterAll(async () => {
  await dynamo.stop();
});

describe('Class: DynamoDbRateBudget', () => {
  let table: string;
  let clock: ManualClock;
  const budget = (limit = 1000) => new DynamoDbRateBudget({ doc: dynamo.doc, table, exchangeId: 'binance', clock, limit });

  beforeEach(async () => {
    tableSet += 1;
    table = (await createTables(dynamo.client, `rate${tableSet}`))['StateTable'] ?? '';
    clock = new ManualClock(new Date('2026-05-01T12:00:10Z'));
  });

  it('hands out 80% of the limit per minute across instances, then backs off until the next window', async () => {
    // Prepare: two instances, limit 1000 => budget 800.
    const a = budget();
    const b = budget();
    expect(a.budget).toBe(800);

    // Act
    for (let i = 0; i < 4; i += 1) await a.consume(100);
    for (let i = 0; i < 4; i += 1) await b.consume(100);
    const refused = b.consume(1);

    // Assess
    await expect(refused).rejects.toBeInstanceOf(RateBudgetExhaustedError);
    await expect(refused).rejects.toMatchObject({ retryable: true, details: { reason: 'rate-budget', used: 800, budget: 800, retryAt: '2026-05-01T12:01:00.000Z' } });
    const { Item } = await dynamo.doc.send(new GetCommand({ TableName: table, Key: rateKey('binance', Date.parse('2026-05-01T12:00:00Z')) }));
    expect(Item).toMatchObject({ pk: 'RATE#binance#1777636800000', sk: 'RATE', weight: 800, windowStart: '2026-05-01T12:00:00.000Z' });

    clock.advance(50_000);
    await expect(a.consume(100)).resolves.toBeUndefined();
    expect(await a.used()).toBe(100);
  });

  it('never hands out more than the budget to concurrent instances', async () => {
    const instances = Array.from({ length: 5 }, () => budget());
    const results = await Promise.allSettled(Array.from({ length: 60 }, (_, i) => instances[i % 5]?.consume(20)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(40);
    expect(results.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason instanceof RateBudgetExhaustedError)).toBe(true);
    expect(await instances[0]?.used()).toBe(800);
  });

  it("raises the shared counter to the exchange's reported weight, never lowers it", async () => {
    const a = budget();
    await a.consume(10);
    await a.observe(750);
    expect(await a.used()).toBe(750);
    await a.observe(20);
    expect(await a.used()).toBe(750);
    await expect(a.consume(51)).rejects.toBeInstanceOf(RateBudgetExhaustedError);
    await expect(a.consume(50)).resolves.toBeUndefined();
  });

  it('spends the rest of the window after a 429, and refuses a single request above the budget', async () => {
    const a = budget();
    await a.exhaust();
    await expect(a.consume(1)).rejects.toBeInstanceOf(RateBudgetExhaustedError);
    clock.advance(60_000);
    await expect(budget().consume(801)).rejects.toBeInstanceOf(RateBudgetExhaustedError);
    await expect(budget().consume(800)).resolves.toBeUndefined();
  });
});

describe('Class: DynamoDbRateBudget, order counts (Binance ORDERS limits, RISK-6)', () => {
  let table: string;
  let clock: ManualClock;
  const budget = (ordersPer10s = 10, ordersPerDay = 1000) =>
    new DynamoDbRateBudget({ doc: dynamo.doc, table, exchangeId: 'binance', clock, limit: 6000, ordersPer10s, ordersPerDay });

  beforeEach(async () => {
    tableSet += 1;
    table = (await createTables(dynamo.client, `orders${tableSet}`))['StateTable'] ?? '';
    clock = new ManualClock(new Date('2026-05-01T12:00:01Z'));
  });

  it('backs off at 80% of the orders per 10 s across instances, then allows orders again in the next 10 s', async () => {
    // Prepare: limit 10 per 10 s => 8 handed out.
    const a = budget();
    const b = budget();
    expect(a.orderBudgets).toEqual({ tenSeconds: 8, day: 800 });

    // Act
    for (let i = 0; i < 4; i += 1) await a.consume(1, 1);
    for (let i = 0; i < 4; i += 1) await b.consume(1, 1);
    const refused = a.consume(1, 1);

    // Assess
    await expect(refused).rejects.toBeInstanceOf(RateBudgetExhaustedError);
    await expect(refused).rejects.toMatchObject({ details: { limit: 'orders-10s', used: 8, budget: 8, retryAt: '2026-05-01T12:00:10.000Z' } });
    // Reads place no order: still allowed.
    await expect(a.consume(4)).resolves.toBeUndefined();
    clock.advance(10_000);
    await expect(b.consume(1, 1)).resolves.toBeUndefined();
    expect(await b.ordersUsed()).toEqual({ tenSeconds: 1, day: 9 });
  });

  it('backs off at 80% of the orders per day even when every 10 s window has room', async () => {
    const a = budget(100, 20);
    for (let i = 0; i < 16; i += 1) {
      await a.consume(1, 1);
      clock.advance(10_000);
    }
    await expect(a.consume(1, 1)).rejects.toMatchObject({ details: { limit: 'orders-1d', used: 16, budget: 16, retryAt: '2026-05-02T00:00:00.000Z' } });
    clock.set(new Date('2026-05-02T00:00:01Z'));
    await expect(a.consume(1, 1)).resolves.toBeUndefined();
  });

  it('raises the order counters to what the exchange reports, never lowers them', async () => {
    const a = budget();
    await a.observe(10, { tenSeconds: 7, day: 500 });
    await a.observe(10, { tenSeconds: 3, day: 400 });
    expect(await a.ordersUsed()).toEqual({ tenSeconds: 7, day: 500 });
    await a.consume(1, 1);
    await expect(a.consume(1, 1)).rejects.toMatchObject({ details: { limit: 'orders-10s' } });
  });
});
