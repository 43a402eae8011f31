/**
 * Cancels on the embedded stack through `npm run ops` (EXE-15, RISK-2): one order, the emergency
 * stop going on past a failed cancel (exit 1, every failure listed), cancels while the circuit
 * breaker is open, and `--all` refused without a typed confirmation. Orders are placed by the
 * executor handler on the paper exchange; effects are read back from the stores, the exchange
 * and the audit log on the emulators.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../local-runtime/runtime.js';
import { runOps, type Confirm } from '../../scripts/ops.js';
import { DynamoDbCircuitStore } from '../../shared/adapters/aws/dynamodb-circuit-store.js';
import { CircuitOpenError } from '../../shared/domain/circuit.js';
import { checkBook } from '../../shared/domain/account.js';
import { ExchangeTransientError } from '../../shared/domain/errors.js';
import type { Intent } from '../../shared/domain/intent.js';
import { ManualClock, startTestStack, type TestStack } from '../support/local-runtime.js';
import { snapshotState } from '../support/snapshot.js';
import { auditRecords, execute, restingBuy, scripted, type ScriptedExchange } from './reconcile-support.js';

const MINUTE = 60_000;
const SYMBOLS = ['BTC/USDT', 'ETH/USDT', 'XRP/USDT'];

describe('Cancels through ops (EXE-15, RISK-2)', () => {
  let t: TestStack;
  let runtime: LocalRuntime;
  let x: ScriptedExchange;
  const clock = new ManualClock(new Date('2026-04-02T10:00:00Z'));
  let out: string[];
  const ops = (argv: string[], confirm?: Confirm) => runOps(argv, runtime, (line) => out.push(line), confirm);
  const c = () => runtime.containers.executor;
  const snapshot = () => snapshotState(c().doc, t.config, c().queues);

  beforeAll(async () => {
    t = await startTestStack({ TW_PAPER_SEED: 'cancel-orders', TW_WATCHLIST: SYMBOLS.join(',') });
    const wrap = scripted();
    runtime = t.runtime({ clock, exchange: wrap.option });
    await c().ensureAccount();
    x = wrap.exchange as ScriptedExchange;
  });

  afterAll(async () => {
    await t?.stop();
  });

  beforeEach(async () => {
    out = [];
    x.script = {};
    clock.advance(MINUTE);
    await c().control.setPause({ paused: false });
  });

  /** A limit buy far below the market, placed by the executor: OPEN locally and on the exchange. */
  async function resting(symbol: string): Promise<string> {
    const buy: Intent = await restingBuy(c(), symbol, clock.now(), { fraction: '0.5', quote: '30' });
    expect(await execute(runtime, buy)).toMatchObject({ state: 'OPEN' });
    return `tw-${buy.id}`;
  }
  const stateOf = async (id: string) => (await c().orders.get(id))?.state;
  const remoteStatus = async (symbol: string, id: string) => (await x.inner.fetchOrderByClientId(symbol, id))?.status;
  const book = async () => {
    const b = await c().accounts.get('USDT');
    if (!b) throw new Error('no book');
    return b;
  };

  it('cancels one order: CANCEL_REQUESTED then CANCELED, budget released, each step audited', async () => {
    const id = await resting('BTC/USDT');
    expect((await book()).orders[id]).toBeDefined();

    expect(await ops(['cancel', id, '--reason', 'wrong price', '--author', 'alice'])).toBe(0);

    expect(out.join('\n')).toMatch(new RegExp(`canceled\\s+${id} BTC/USDT CANCELED`));
    const order = await c().orders.get(id);
    expect(order?.events.slice(-2).map((e) => `${e.from}->${e.to}`)).toEqual(['OPEN->CANCEL_REQUESTED', 'CANCEL_REQUESTED->CANCELED']);
    expect(await remoteStatus('BTC/USDT', id)).toBe('canceled');
    expect((await book()).orders[id]).toBeUndefined();
    expect(checkBook(await book())).toEqual([]);
    const records = (await auditRecords(c(), 'symbol:BTC/USDT')).filter((r) => r.data['orderId'] === id).map((r) => r.type);
    expect(records.slice(-4)).toEqual(['order.cancel-requested', 'order.canceled', 'budget.released', 'order.cancel-outcome']);
    expect((await auditRecords(c(), 'symbol:BTC/USDT')).at(-1)?.data).toMatchObject({ orderId: id, outcome: 'canceled', author: 'alice', reason: 'wrong price' });
    expect((await c().audit.verify()).valid).toBe(true);
  });

  it('refuses an unknown or malformed order id with a coded error and changes nothing', async () => {
    const before = await snapshot();
    await expect(ops(['cancel', 'tw-does-not-exist'])).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(ops(['cancel', 'tw-a;b'])).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(ops(['cancel'])).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(await snapshot()).toBe(before);
    expect(out).toEqual([]);
  });

  it('emergency stop goes on past a failed cancel, exits 1 and lists every failure', async () => {
    const ids = { btc: await resting('BTC/USDT'), eth: await resting('ETH/USDT'), xrp: await resting('XRP/USDT') };
    x.script.cancelOrder = async (symbol, id, inner) => {
      if (id === ids.btc) throw new ExchangeTransientError('503 Service Unavailable');
      return inner.cancelOrder(symbol, id);
    };

    expect(await ops(['emergency-stop', '--reason', 'drill', '--author', 'bob'])).toBe(1);

    expect(out[0]).toBe('emergency stop: paused; canceled 2, filled before the cancel 0, failed 1');
    expect(out.filter((l) => l.includes('FAILED'))).toEqual([expect.stringMatching(new RegExp(`FAILED refused ${ids.btc} BTC/USDT OPEN: EXCHANGE_TRANSIENT 503`))]);
    expect(await stateOf(ids.btc)).toBe('OPEN');
    expect(await remoteStatus('BTC/USDT', ids.btc)).toBe('open');
    expect(await stateOf(ids.eth)).toBe('CANCELED');
    expect(await stateOf(ids.xrp)).toBe('CANCELED');
    expect(await c().control.getPause()).toMatchObject({ paused: true, reason: 'drill', author: 'bob' });
    const stop = (await auditRecords(c(), 'control')).filter((r) => r.type === 'control.emergency-stop').at(-1);
    expect(stop?.data).toMatchObject({ canceled: 2, failed: 1, failures: [{ orderId: ids.btc, outcome: 'refused', code: 'EXCHANGE_TRANSIENT' }] });

    // Run again once the exchange answers: the one left is canceled, and the stop succeeds.
    x.script = {};
    out = [];
    expect(await ops(['emergency-stop', '--reason', 'drill again', '--json'])).toBe(0);
    expect(JSON.parse(out.join('\n'))).toMatchObject({ paused: true, canceled: 1, failed: 0, failures: [] });
    expect(await stateOf(ids.btc)).toBe('CANCELED');
    expect(checkBook(await book())).toEqual([]);
  });

  it('cancels while the circuit breaker is open: entries stay blocked, the emergency stop is not', async () => {
    const id = await resting('ETH/USDT');
    const store = new DynamoDbCircuitStore({ doc: c().doc, table: t.config.stateTable, clock });
    const { version } = await store.read(c().exchange.id);
    const now = clock.now().getTime();
    expect(await store.write(c().exchange.id, { status: 'open', consecutiveFailures: 5, openedAt: now, retryAt: now + 60 * MINUTE, lastFailure: 'test: exchange down' }, version)).toBe(true);
    await expect(c().exchange.fetchTickers(['ETH/USDT'])).rejects.toBeInstanceOf(CircuitOpenError);

    expect(await ops(['emergency-stop', '--reason', 'breaker open'])).toBe(0);

    expect(await stateOf(id)).toBe('CANCELED');
    expect(await remoteStatus('ETH/USDT', id)).toBe('canceled');
    expect((await store.read(c().exchange.id)).state.status).toBe('open');
    await expect(c().exchange.createOrder({ clientOrderId: 'tw-blocked', symbol: 'ETH/USDT', side: 'buy', type: 'market', amount: '0.01' })).rejects.toBeInstanceOf(CircuitOpenError);
    const fresh = await store.read(c().exchange.id);
    expect(await store.write(c().exchange.id, { status: 'closed', consecutiveFailures: 0 }, fresh.version)).toBe(true);
  });

  it('emergency-stop --all: refused without a typed confirmation (nothing changes), then cancels orders Tradewarden did not place', async () => {
    const ours = await resting('XRP/USDT');
    const [ticker] = await x.inner.fetchTickers(['BTC/USDT']);
    const rules = (await x.inner.loadMarkets())['BTC/USDT'];
    const price = (Math.floor(Number(ticker?.bid ?? '0') / 2 / Number(rules?.priceTick ?? '1')) * Number(rules?.priceTick ?? '1')).toString();
    await x.inner.createOrder({ clientOrderId: 'manual-1', symbol: 'BTC/USDT', side: 'buy', type: 'limit', amount: '0.001', limitPrice: price });
    const before = await snapshot();

    // Not a terminal (as under the test runner) and no --yes: refused before anything opens.
    expect(process.stdin.isTTY).toBeFalsy();
    await expect(ops(['emergency-stop', '--all'])).rejects.toMatchObject({ code: 'NOT_CONFIRMED' });
    // A terminal where the operator typed something else.
    const asked: string[] = [];
    await expect(ops(['emergency-stop', '--all'], async (question, phrase) => (asked.push(question, phrase), false))).rejects.toMatchObject({ code: 'NOT_CONFIRMED' });
    expect(asked[1]).toBe('cancel all');
    expect(await snapshot()).toBe(before);

    // Without --all the foreign order stays.
    expect(await ops(['emergency-stop'])).toBe(0);
    expect(await stateOf(ours)).toBe('CANCELED');
    expect(await remoteStatus('BTC/USDT', 'manual-1')).toBe('open');

    // Typed confirmation given.
    out = [];
    expect(await ops(['emergency-stop', '--all', '--json'], async () => true)).toBe(0);
    expect(JSON.parse(out.join('\n'))).toMatchObject({ canceled: 1, results: [{ orderId: 'manual-1', exchangeOnly: true, outcome: 'canceled' }] });
    expect(await remoteStatus('BTC/USDT', 'manual-1')).toBe('canceled');
    const outcome = (await auditRecords(c(), 'symbol:BTC/USDT')).filter((r) => r.type === 'order.cancel-outcome').at(-1);
    expect(outcome?.data).toMatchObject({ orderId: 'manual-1', exchangeOnly: true, outcome: 'canceled' });

    // --yes confirms without a prompt; --yes alone is refused.
    expect(await ops(['emergency-stop', '--all', '--yes'])).toBe(0);
    await expect(ops(['emergency-stop', '--yes'])).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});
