/**
 * Helpers of the reconciliation and health suites: intents to replay through the executor, an
 * exchange wrapper whose answers a test can script, and readers of audit records.
 */
import { expandAuditItems } from '../../shared/adapters/aws/dynamodb-audit-item.js';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { SyntheticMarket } from '../../shared/adapters/paper/synthetic-market.js';
import type { AccountBook } from '../../shared/domain/account.js';
import type { Intent } from '../../shared/domain/intent.js';
import type { Candle, DataSource, MarketRules, Ticker } from '../../shared/domain/market.js';
import { dec } from '../../shared/domain/money.js';
import type { Balance, Exchange, ExchangeOrder, PlaceOrderRequest } from '../../shared/ports/exchange.js';
import type { Container, ContainerOptions } from '../../shared/runtime/container.js';
import type { ExecuteIntentDeps, ExecutionResult } from '../../shared/use-cases/execute-intent.js';
import type { LocalRuntime } from '../../local-runtime/runtime.js';
import { startTestStack, type TestStack } from '../support/local-runtime.js';

export const MINUTE = 60_000;

/** Rounds `value` down to a multiple of `step` (both decimal strings). */
export function floorTo(value: string, step: string): string {
  return dec(value).div(step).floor().times(step).toFixed();
}

export function newIntentId(): string {
  return randomBytes(16).toString('hex');
}

export function intent(fields: Pick<Intent, 'symbol' | 'side' | 'type'> & Partial<Intent> & { at: Date }): Intent {
  const { at, ...rest } = fields;
  return {
    id: newIntentId(),
    strategy: 'test',
    createdAt: at.toISOString(),
    expiresAt: new Date(at.getTime() + 2 * MINUTE).toISOString(),
    ...rest,
  } as Intent;
}

/** Replays one intent through the executor handler, as `npm run invoke -- executor` would. */
export async function execute(runtime: LocalRuntime, i: Intent): Promise<ExecutionResult> {
  return (await runtime.invoke('executor', { intent: i })) as ExecutionResult;
}

/**
 * A limit buy of about `quote` quote at `fraction` of the current ask, rounded to the market:
 * with a fraction well below 1 it rests on the paper exchange.
 */
export async function restingBuy(c: Container, symbol: string, at: Date, options: { quote?: string; fraction?: string; limitPrice?: string } = {}): Promise<Intent> {
  const rules = (await c.exchange.loadMarkets())[symbol] as MarketRules;
  const [ticker] = await c.exchange.fetchTickers([symbol]);
  const limitPrice = options.limitPrice ?? floorTo(dec(ticker?.ask ?? '0').times(options.fraction ?? '0.9').toFixed(), rules.priceTick);
  const amount = floorTo(dec(options.quote ?? '50').div(limitPrice).toFixed(), rules.amountStep);
  return intent({ symbol, side: 'buy', type: 'limit', amount, limitPrice, at });
}

/** The quote book (USDT) as a container reads it. @throws Error when there is none yet. */
export async function quoteBook(c: Container): Promise<AccountBook> {
  const book = await c.accounts.get('USDT');
  if (!book) throw new Error('no book');
  return book;
}

/** A resting limit buy placed through the executor handler, and what a test scripts around it. */
export interface PlacedRestingBuy {
  readonly orderId: string;
  /** The exchange's own view of the order, as placed. */
  readonly remote: ExchangeOrder;
  readonly amount: string;
  readonly limitPrice: string;
  /** `of`/`parts` of the order's amount, rounded down to the market's amount step. */
  share(of: number, parts: number): string;
}

/**
 * Places a resting buy of `symbol` (restingBuy) through the executor handler, as
 * `npm run invoke -- executor` would. @throws Error when it does not rest open on the exchange.
 */
export async function placeRestingBuy(runtime: LocalRuntime, x: ScriptedExchange, symbol: string, at: Date): Promise<PlacedRestingBuy> {
  const c = runtime.containers.reconciler;
  const buy = await restingBuy(c, symbol, at);
  const result = await execute(runtime, buy);
  const orderId = `tw-${buy.id}`;
  const remote = await x.inner.fetchOrderByClientId(symbol, orderId);
  const { amount, limitPrice } = buy;
  if (result.state !== 'OPEN' || !remote || !amount || !limitPrice) throw new Error(`order ${orderId} is not resting (state ${result.state})`);
  const step = (await c.exchange.loadMarkets())[symbol]?.amountStep ?? '1';
  return { orderId, remote, amount, limitPrice, share: (of, parts) => floorTo(dec(amount).times(of).div(parts).toFixed(), step) };
}

/**
 * A limit buy price that rests when placed at `from` and that the synthetic market crosses at
 * the returned time (its lowest ask of the following minutes), so a test fills it by moving the clock.
 */
export function crossingBuy(seed: string, symbol: string, from: Date, minutes = 180): { limitPrice: string; at: Date } {
  const market = new SyntheticMarket({ seed });
  const { priceTick } = market.rules(symbol);
  const start = market.ticker(symbol, from).ask;
  let best: { ask: string; at: Date } | undefined;
  for (let m = 2; m <= minutes; m += 1) {
    const at = new Date(from.getTime() + m * MINUTE);
    const { ask } = market.ticker(symbol, at);
    if (!best || dec(ask).lt(best.ask)) best = { ask, at };
  }
  const limitPrice = best ? dec(best.ask).div(priceTick).ceil().times(priceTick).toFixed() : start;
  if (!best || !dec(limitPrice).lt(start)) throw new Error(`${symbol} never trades below ${start} within ${minutes} minutes`);
  return { limitPrice, at: best.at };
}

/** Audit records of one stream, oldest first. */
export async function auditRecords(c: Container, stream: string): Promise<Array<{ type: string; data: Record<string, unknown> }>> {
  const out = await c.doc.send(
    new QueryCommand({
      TableName: c.config.auditTable,
      KeyConditionExpression: '#s = :s',
      ExpressionAttributeNames: { '#s': 'stream' },
      ExpressionAttributeValues: { ':s': stream },
      ConsistentRead: true,
    }),
  );
  // A batch item holds several records (dynamodb-audit-item.ts): every record, in chain order.
  return expandAuditItems(out.Items ?? []).map((r) => ({ type: r.type, data: { ...r.data } }));
}

type Method = 'createOrder' | 'fetchOrderByClientId' | 'fetchOpenOrders' | 'cancelOrder' | 'fetchBalances' | 'fetchTickers';

/**
 * The paper exchange behind hooks: a test sets `script.<method>` to answer instead of it (or to
 * throw), and reads `calls` to see what was asked. One instance serves every container of a
 * runtime, so all functions see the same exchange.
 */
export class ScriptedExchange implements Exchange {
  readonly calls: Array<{ method: Method; args: unknown[] }> = [];
  script: {
    createOrder?: (request: PlaceOrderRequest, inner: Exchange) => Promise<ExchangeOrder>;
    fetchOrderByClientId?: (symbol: string, clientOrderId: string, inner: Exchange) => Promise<ExchangeOrder | null>;
    fetchOpenOrders?: (symbol: string | undefined, inner: Exchange) => Promise<ExchangeOrder[]>;
    cancelOrder?: (symbol: string, clientOrderId: string, inner: Exchange) => Promise<ExchangeOrder | null>;
    fetchBalances?: (inner: Exchange) => Promise<Readonly<Record<string, Balance>>>;
    fetchTickers?: (symbols: readonly string[], inner: Exchange) => Promise<Ticker[]>;
  } = {};

  constructor(readonly inner: Exchange) {}

  get id(): string {
    return this.inner.id;
  }

  get source(): DataSource {
    return this.inner.source;
  }

  loadMarkets(): Promise<Readonly<Record<string, MarketRules>>> {
    return this.inner.loadMarkets();
  }

  fetchTickers(symbols: readonly string[]): Promise<Ticker[]> {
    this.calls.push({ method: 'fetchTickers', args: [symbols] });
    return this.script.fetchTickers ? this.script.fetchTickers(symbols, this.inner) : this.inner.fetchTickers(symbols);
  }

  fetchCandles(symbol: string, limit: number): Promise<Candle[]> {
    return this.inner.fetchCandles(symbol, limit);
  }

  createOrder(request: PlaceOrderRequest): Promise<ExchangeOrder> {
    this.calls.push({ method: 'createOrder', args: [request] });
    return this.script.createOrder ? this.script.createOrder(request, this.inner) : this.inner.createOrder(request);
  }

  fetchOrderByClientId(symbol: string, clientOrderId: string): Promise<ExchangeOrder | null> {
    this.calls.push({ method: 'fetchOrderByClientId', args: [symbol, clientOrderId] });
    return this.script.fetchOrderByClientId ? this.script.fetchOrderByClientId(symbol, clientOrderId, this.inner) : this.inner.fetchOrderByClientId(symbol, clientOrderId);
  }

  fetchOpenOrders(symbol?: string): Promise<ExchangeOrder[]> {
    this.calls.push({ method: 'fetchOpenOrders', args: [symbol] });
    return this.script.fetchOpenOrders ? this.script.fetchOpenOrders(symbol, this.inner) : this.inner.fetchOpenOrders(symbol);
  }

  cancelOrder(symbol: string, clientOrderId: string): Promise<ExchangeOrder | null> {
    this.calls.push({ method: 'cancelOrder', args: [symbol, clientOrderId] });
    return this.script.cancelOrder ? this.script.cancelOrder(symbol, clientOrderId, this.inner) : this.inner.cancelOrder(symbol, clientOrderId);
  }

  fetchBalances(): Promise<Readonly<Record<string, Balance>>> {
    this.calls.push({ method: 'fetchBalances', args: [] });
    return this.script.fetchBalances ? this.script.fetchBalances(this.inner) : this.inner.fetchBalances();
  }

  /** Client order ids looked up one by one since `from` (an index into `calls`). */
  lookedUp(from = 0): string[] {
    return this.calls.slice(from).filter((c) => c.method === 'fetchOrderByClientId').map((c) => String(c.args[1]));
  }
}

/** The runtime option that wraps the paper exchange once and hands the same wrapper to every container. */
export function scripted(): { exchange: ScriptedExchange | undefined; option: (defaults: { paper: Exchange | undefined }) => Exchange } {
  const holder: { exchange: ScriptedExchange | undefined; option: (defaults: { paper: Exchange | undefined }) => Exchange } = {
    exchange: undefined,
    option: ({ paper }) => {
      if (!paper) throw new Error('the scripted exchange wraps the paper exchange');
      holder.exchange ??= new ScriptedExchange(paper);
      return holder.exchange;
    },
  };
  return holder;
}

export interface ScriptedStack {
  readonly t: TestStack;
  readonly runtime: LocalRuntime;
  readonly x: ScriptedExchange;
}

/**
 * The suites' common set-up, as hooks of the calling `describe`: before all, an embedded stack
 * with `env` and one runtime whose containers share a scripted wrapper of the paper exchange
 * (`options` go to the runtime), the account book opened, then `ready` gets them; before each
 * test, the script is cleared; after all, the stack stops. Hooks the suite registers after this
 * call run after the stack is up.
 */
export function useScriptedStack(
  env: Readonly<Record<string, string>>,
  options: ContainerOptions & { afterStep?: ExecuteIntentDeps['afterStep'] },
  ready: (stack: ScriptedStack) => void,
): void {
  let started: ScriptedStack | undefined;
  beforeAll(async () => {
    const t = await startTestStack(env);
    const wrap = scripted();
    const runtime = t.runtime({ ...options, exchange: wrap.option });
    await runtime.containers.executor.ensureAccount();
    started = { t, runtime, x: wrap.exchange as ScriptedExchange };
    ready(started);
  });
  afterAll(async () => {
    await started?.t.stop();
  });
  beforeEach(() => {
    if (started) started.x.script = {};
  });
}
