/**
 * The whole pipeline on embedded DynamoDB and SQS: scheduler ticks on a seeded synthetic market
 * drive scanner -> FIFO queue -> executor -> paper exchange -> reconciler -> health.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { expandAuditItems } from '../../shared/adapters/aws/dynamodb-audit-item.js';
import { checkBook } from '../../shared/domain/account.js';
import { dec } from '../../shared/domain/money.js';
import type { Intent } from '../../shared/domain/intent.js';
import type { LocalRuntime } from '../../local-runtime/runtime.js';
import { ManualClock, startTestStack, type TestStack } from '../support/local-runtime.js';

const TICKS = 30;
const MINUTE = 60_000;

describe('Pipeline: scanner to health on the embedded stack', () => {
  let t: TestStack;
  let runtime: LocalRuntime;
  const clock = new ManualClock(new Date('2026-03-02T10:00:00.000Z'));
  const intents: Intent[] = [];
  const healthStatuses: string[] = [];

  beforeAll(async () => {
    t = await startTestStack({
      TW_PAPER_SEED: 'e2e-seed',
      TW_WATCHLIST: 'BTC/USDT,ETH/USDT,SOL/USDT,XRP/USDT',
      TW_STRATEGY_DROP_PERCENT: '0.1',
      TW_STRATEGY_TAKE_PROFIT_PERCENT: '0.1',
      TW_STRATEGY_LOOKBACK_CANDLES: '10',
      TW_SCANNER_EVERY_SECONDS: '60',
      TW_RECONCILER_EVERY_SECONDS: '60',
      TW_HEALTH_EVERY_SECONDS: '60',
    });
    runtime = t.runtime({ clock });
    for (let tick = 0; tick < TICKS; tick += 1) {
      const at = clock.advance(MINUTE);
      const scan = await runtime.scan(at);
      intents.push(...scan.intents);
      await runtime.drain();
      await runtime.reconcile();
      healthStatuses.push((await runtime.health()).status);
    }
  }, 240_000);

  afterAll(async () => {
    await t?.stop();
  });

  it("produces intents from the seeded market", () => {
    expect(intents.length).toBeGreaterThan(0);
    expect(new Set(intents.map((i) => i.side))).toContain('buy');
  });

  it('places exactly one paper order per intent', async () => {
    const exchange = runtime.containers.executor.exchange;
    for (const intent of intents) {
      const order = await runtime.containers.executor.orders.get(`tw-${intent.id}`);
      expect(order, `order for intent ${intent.id}`).not.toBeNull();
      const remote = await exchange.fetchOrderByClientId(intent.symbol, `tw-${intent.id}`);
      if (order?.state === 'REJECTED' && !order.exchangeOrderId) expect(remote).toBeNull();
      else expect(remote?.clientOrderId).toBe(`tw-${intent.id}`);
    }
    const recent = await runtime.containers.executor.orders.listRecent(1000);
    expect(recent.length).toBe(intents.length);
  });

  it('adds no order when every intent message is delivered twice more', async () => {
    const before = await runtime.containers.executor.orders.listRecent(1000);
    const paperBefore = await runtime.containers.executor.exchange.fetchBalances();
    // Same intents, new deduplication ids: SQS cannot drop them, so the executor must.
    for (let i = 0; i < intents.length; i += 10) {
      const chunk = intents.slice(i, i + 10);
      for (const copy of [1, 2]) {
        await t.sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: t.config.executionQueueUrl,
            Entries: chunk.map((intent, n) => ({ Id: String(n), MessageBody: JSON.stringify(intent), MessageGroupId: intent.symbol, MessageDeduplicationId: `${intent.id}-copy${copy}` })),
          }),
        );
      }
    }
    const delivered = await runtime.drain();
    expect(delivered.received).toBe(intents.length * 2);
    expect(delivered.failed).toBe(0);
    const after = await runtime.containers.executor.orders.listRecent(1000);
    expect(after.map((o) => `${o.id}:${o.version}`).sort()).toEqual(before.map((o) => `${o.id}:${o.version}`).sort());
    expect(await runtime.containers.executor.exchange.fetchBalances()).toEqual(paperBefore);
  });

  it('keeps the ledger balanced and in line with the paper exchange balances', async () => {
    const c = runtime.containers.executor;
    const book = await c.accounts.get(c.config.quoteCurrency);
    expect(book).not.toBeNull();
    if (!book) return;
    expect(checkBook(book)).toEqual([]);
    expect(Object.keys(book.orders)).toEqual([]);
    const balances = await c.exchange.fetchBalances();
    // Every fill booked locally is on the exchange: cash and each position agree exactly.
    expect(dec(book.available).plus(book.reserved).toFixed()).toBe(dec(balances.USDT?.total ?? '0').toFixed());
    for (const position of Object.values(book.positions)) {
      const base = position.symbol.split('/')[0] ?? '';
      expect(dec(position.qty).toFixed(), position.symbol).toBe(dec(balances[base]?.total ?? '0').toFixed());
    }
    const fills = (await c.orders.listRecent(1000)).filter((o) => o.state === 'FILLED');
    expect(fills.length).toBeGreaterThan(0);
  });

  it('keeps every job heartbeat fresh and reports the system healthy at the end', async () => {
    const beats = await runtime.containers.health.heartbeats.list();
    const now = clock.now().getTime();
    for (const job of ['scanner', 'executor', 'reconciler', 'health'] as const) {
      const beat = beats.find((b) => b.job === job);
      expect(beat?.lastOutcome, job).toBe('success');
      expect(now - Date.parse(beat?.lastSuccess ?? '1970-01-01T00:00:00Z'), job).toBeLessThanOrEqual(2 * MINUTE);
    }
    expect(healthStatuses.at(-1)).toBe('OK');
  });

  it('keeps a valid audit chain in which every record of an order carries its intent\'s correlation id', async () => {
    const c = runtime.containers.executor;
    expect((await c.audit.verify()).valid).toBe(true);
    const out = await c.doc.send(new ScanCommand({ TableName: t.config.auditTable, ConsistentRead: true }));
    // A batch item holds several records (dynamodb-audit-item.ts): each record checked.
    const records = expandAuditItems(out.Items ?? []) as { correlationId?: string; data: { orderId?: string } }[];
    const byCorrelation = new Map(intents.map((i) => [`tw-${i.id}`, i.correlationId]));
    let checked = 0;
    for (const r of records) {
      const expected = r.data.orderId ? byCorrelation.get(r.data.orderId) : undefined;
      if (!expected) continue;
      expect(r.correlationId, `audit record of ${r.data.orderId}`).toBe(expected);
      checked += 1;
    }
    // Accepted, reserved, submitting, sent and filled: several records per intent.
    expect(checked).toBeGreaterThanOrEqual(intents.length * 3);
  });
});
