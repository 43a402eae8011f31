/**
 * Helpers of the exactly-once suites (crash recovery, concurrency, exchange faults, replay):
 * intents, a runtime whose exchange is wrapped in the fault injector, and the assertions every
 * suite ends with (one exchange order per intent, a balanced ledger that matches the exchange).
 */
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, expect } from 'vitest';
import type { LocalRuntime } from '../../local-runtime/runtime.js';
import { localContext } from '../../local-runtime/stack.js';
import { FaultInjectingExchange, type FaultInjectingExchangeOptions } from '../../testkit/fault-injecting-exchange.js';
import { checkBook, type AccountBook } from '../../shared/domain/account.js';
import { intentIdFor, type Intent } from '../../shared/domain/intent.js';
import { dec } from '../../shared/domain/money.js';
import { clientOrderIdFor } from '../../shared/domain/order.js';
import type { Container } from '../../shared/runtime/container.js';
import type { ExecuteIntentDeps } from '../../shared/use-cases/execute-intent.js';
import { createExecutorHandler, type ExecutorHandlerOptions } from '../../functions/executor/app.js';
import { startTestStack, type ManualClock, type TestStack } from '../support/local-runtime.js';

export const T0 = new Date('2026-06-01T10:00:00.000Z');
export const DAY_MS = 86_400_000;
/** Past every lease (60 s), the re-send grace (30 s) and the reconciler's settle time (15 s). */
export const PAST_LEASES_MS = 61_000;
/** Past the reconciler's stale-reservation bound (900 s by default). */
export const PAST_RESERVATION_AGE_MS = 901_000;

/**
 * The environment of every exactly-once suite: small, deterministic, no scheduler. These suites
 * buy the same symbol many times in one account, so the entry limits (EXE-13, proven in
 * risk-limits-executor.test.ts) are set out of their way.
 */
export const EXEC_ENV: Readonly<Record<string, string>> = {
  TW_PAPER_SEED: 'exactly-once',
  TW_WATCHLIST: 'BTC/USDT,ETH/USDT,SOL/USDT,XRP/USDT',
  // The longest TTL: these suites redeliver over many minutes of driven clock, and prove
  // exactly-once, not expiry (test/integration/exec-expiry-pause.test.ts does that, EXE-14).
  TW_INTENT_TTL_SECONDS: '3600',
  TW_MAX_EXPOSURE_PER_SYMBOL: '1000000',
  TW_MAX_OPEN_POSITIONS: '1000',
};

/**
 * The executor suites' embedded stack, as hooks of the calling `describe`: started with EXEC_ENV
 * before all (then handed to `ready`), stopped after all.
 */
export function useExecStack(ready: (t: TestStack) => void): void {
  let started: TestStack | undefined;
  beforeAll(async () => {
    started = await startTestStack(EXEC_ENV);
    ready(started);
  });
  afterAll(async () => {
    await started?.stop();
  });
}

/** A market buy for `quoteAmount` USDT, valid for a day from `at`; `slot` makes its id. */
export function buyIntent(slot: string, at: Date, overrides: Partial<Intent> = {}): Intent {
  const symbol = overrides.symbol ?? 'BTC/USDT';
  return {
    id: intentIdFor({ strategy: 'exactly-once', symbol, side: overrides.side ?? 'buy', slot }),
    strategy: 'exactly-once',
    symbol,
    side: 'buy',
    type: 'market',
    quoteAmount: '100',
    createdAt: at.toISOString(),
    expiresAt: new Date(at.getTime() + DAY_MS).toISOString(),
    ...overrides,
  };
}

/** Sends each intent `copies` times (distinct deduplication ids, so SQS keeps every copy). */
export async function sendIntents(t: TestStack, intents: readonly Intent[], copies = 1): Promise<void> {
  for (let copy = 0; copy < copies; copy += 1) {
    for (let i = 0; i < intents.length; i += 10) {
      const chunk = intents.slice(i, i + 10);
      await t.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: t.config.executionQueueUrl,
          Entries: chunk.map((intent, n) => ({
            Id: String(n),
            MessageBody: JSON.stringify(intent),
            MessageGroupId: intent.symbol,
            MessageDeduplicationId: `${intent.id}-${copy}-${Date.now()}`,
          })),
        }),
      );
    }
  }
}

export interface FaultyRuntime {
  readonly runtime: LocalRuntime;
  /** The one fault injector every job of this runtime talks to the paper exchange through. */
  readonly faults: FaultInjectingExchange;
}

/**
 * A runtime (one "Lambda container" per job) whose jobs share one fault injector around the
 * paper exchange, so its counters see every call of every job.
 */
export function faultyRuntime(
  t: TestStack,
  clock: ManualClock,
  options: FaultInjectingExchangeOptions & { afterStep?: ExecuteIntentDeps['afterStep']; circuitBreaker?: boolean } = {},
): FaultyRuntime {
  let faults: FaultInjectingExchange | undefined;
  const { afterStep, circuitBreaker, ...faultOptions } = options;
  const runtime = t.runtime({
    clock,
    ...(afterStep ? { afterStep } : {}),
    ...(circuitBreaker === false ? { circuitBreaker: false } : {}),
    exchange: ({ paper }) => {
      if (!paper) throw new Error('the exactly-once suites run in paper mode');
      faults ??= new FaultInjectingExchange(paper, { sleep: async () => undefined, ...faultOptions });
      return faults;
    },
  });
  if (!faults) throw new Error('no exchange was built');
  return { runtime, faults };
}

/** An executor handler on a runtime's executor container with other options (a retry scheduler, a dead-letter queue, ...). */
export function executorHandler(runtime: LocalRuntime, options: ExecutorHandlerOptions) {
  const handler = createExecutorHandler(runtime.containers.executor, options);
  return (event: unknown) => (handler as unknown as (e: unknown, c: unknown) => Promise<unknown>)(event, localContext('tradewarden-executor', 30_000));
}

/** Every order item of the paper exchange: one per client order id by construction. */
export async function paperOrders(c: Container): Promise<{ clientOrderId: string; status: string; symbol: string; filled: string }[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await c.doc.send(
      new ScanCommand({ TableName: c.config.paperTable, ConsistentRead: true, FilterExpression: 'sk = :o', ExpressionAttributeValues: { ':o': 'ORDER' }, ExclusiveStartKey: start }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items.map((i) => ({ clientOrderId: String(i.clientOrderId), status: String(i.status), symbol: String(i.symbol), filled: String(i.filled) }));
}

/**
 * EXE-1: the exchange has at most one order per intent, under the intent's client order id,
 * and it was sent at most once (counted where the call reaches the paper exchange).
 */
export async function expectAtMostOneOrderPerIntent(
  c: Container,
  intents: readonly Intent[],
  faults: FaultInjectingExchange | FaultInjectingExchange[],
  options: { onlyThese?: boolean } = {},
): Promise<void> {
  const injectors = Array.isArray(faults) ? faults : [faults];
  const orders = await paperOrders(c);
  const ids = new Set(intents.map((i) => clientOrderIdFor(i.id)));
  // With onlyThese, the exchange holds no order but these intents' (nothing invented, no strays).
  if (options.onlyThese) for (const o of orders) expect(ids.has(o.clientOrderId), `unexpected paper order ${o.clientOrderId}`).toBe(true);
  for (const intent of intents) {
    const id = clientOrderIdFor(intent.id);
    expect(orders.filter((o) => o.clientOrderId === id).length, `paper orders for ${id}`).toBeLessThanOrEqual(1);
    const sent = injectors.reduce((n, f) => n + (f.createsByClientOrderId.get(id) ?? 0), 0);
    expect(sent, `createOrder calls that reached the exchange for ${id}`).toBeLessThanOrEqual(1);
  }
}

/** The account book, which must exist. */
export async function book(c: Container): Promise<AccountBook> {
  const b = await c.accounts.get(c.config.quoteCurrency);
  if (!b) throw new Error('no account book');
  return b;
}

/**
 * EXE-7 / EXE-8: the ledger is balanced, holds no reservation, and agrees with the exchange:
 * cash equals the quote balance and every position equals the base balance.
 */
export async function expectLedgerMatchesExchange(c: Container): Promise<void> {
  const b = await book(c);
  expect(checkBook(b), 'checkBook').toEqual([]);
  expect(Object.keys(b.orders), 'reservations left in the book').toEqual([]);
  expect(b.reserved).toBe('0');
  const balances = await c.exchange.fetchBalances();
  expect(dec(b.available).toFixed(), 'cash vs exchange quote balance').toBe(dec(balances[c.config.quoteCurrency]?.total ?? '0').toFixed());
  const bases = new Set([...Object.keys(balances).filter((a) => a !== c.config.quoteCurrency), ...Object.values(b.positions).map((p) => p.symbol.split('/')[0] ?? '')]);
  for (const base of bases) {
    const position = Object.values(b.positions).find((p) => p.symbol.split('/')[0] === base);
    expect(dec(position?.qty ?? '0').toFixed(), `position ${base} vs exchange balance`).toBe(dec(balances[base]?.total ?? '0').toFixed());
  }
}

/** The audit chain verifies and holds records of these types for the order. */
export async function expectAudited(c: Container, orderId: string, types: readonly string[]): Promise<void> {
  const verification = await c.audit.verify();
  expect(verification.valid, JSON.stringify(verification.problems)).toBe(true);
  const records = await auditRecords(c);
  const mine = records.filter((r) => JSON.stringify(r.data).includes(orderId)).map((r) => r.type);
  for (const type of types) expect(mine, `audit of ${orderId}`).toContain(type);
}

/** Every audit record (a scan of the audit table; fine for test-sized tables). */
export async function auditRecords(c: Container): Promise<{ stream: string; seq: number; type: string; data: Record<string, unknown> }[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await c.doc.send(new ScanCommand({ TableName: c.config.auditTable, ConsistentRead: true, ExclusiveStartKey: start }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items.map((i) => ({ stream: String(i.stream), seq: Number(i.seq), type: String(i.type), data: (i.data ?? {}) as Record<string, unknown> }));
}

/** The error a simulated death throws: not a TradewardenError, so it is retried like a crash. */
export class SimulatedCrash extends Error {
  constructor(where: string) {
    super(`simulated crash at ${where}`);
    this.name = 'SimulatedCrash';
  }
}

/**
 * Makes the executor container die like a real process: while `dead()` is true its lock
 * releases are lost (a killed process runs no `finally`), so the symbol lease stays held until
 * it expires.
 */
export function loseLockReleasesWhile(c: Container, dead: () => boolean): void {
  const release = c.locks.release.bind(c.locks);
  c.locks.release = async (lease, head) => (dead() ? false : release(lease, head));
}
