/**
 * OPS-7: every ops command on the deployed transport. The stack is an embedded one, reached the
 * way an operator reaches AWS: `--outputs <file>` in the `cdk deploy --outputs-file` format and
 * the standard SDK environment (AWS_REGION, credentials, AWS_ENDPOINT_URL_DYNAMODB /
 * AWS_ENDPOINT_URL_SQS pointing at the emulators). The transport cannot tell, so nothing on
 * this path is a local-only shortcut. Effects are checked through the local runtime on the
 * same emulators (the scanner's next cycle, the exchange, the stores).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../local-runtime/runtime.js';
import { runOps, runOpsCommandLine } from '../../scripts/ops.js';
import { dec } from '../../shared/domain/money.js';
import { roundAmount, roundPrice } from '../../shared/domain/precision.js';
import { STACK_OUTPUT } from '../../shared/definitions/stack-outputs.js';
import { sdkEnvFor, withSdkEnv, writeLocalOutputs } from '../support/deployed-env.js';
import { ManualClock, startTestStack, type TestStack } from '../support/local-runtime.js';
import { snapshotState } from '../support/snapshot.js';
import { auditRecords, execute, restingBuy } from './reconcile-support.js';

const MINUTE = 60_000;

describe('Ops commands on a deployed stack (--outputs, SDK endpoint variables)', () => {
  let t: TestStack;
  let runtime: LocalRuntime;
  let outputs: ReturnType<typeof writeLocalOutputs>;
  let sdkEnv: Record<string, string>;
  const clock = new ManualClock(new Date(Date.now() - 60 * MINUTE));
  let out: string[];
  /** `npm run ops -- --outputs <file> <argv>` in this process, with the operator's SDK environment. */
  const deployed = (...argv: string[]) => withSdkEnv(sdkEnv, () => runOpsCommandLine(['--outputs', outputs.file, ...argv], (line) => out.push(line)));
  const printed = () => JSON.parse(out.join('\n')) as Record<string, unknown>;
  const depth = async (url: string) => {
    const a = await t.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
    return Number(a.Attributes?.ApproximateNumberOfMessages ?? 0) + Number(a.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
  };

  beforeAll(async () => {
    t = await startTestStack();
    runtime = t.runtime({ clock });
    outputs = writeLocalOutputs(t.stack);
    sdkEnv = sdkEnvFor(t.stack);
  });

  afterAll(async () => {
    outputs?.remove();
    await t?.stop();
  });

  beforeEach(() => {
    out = [];
    clock.advance(MINUTE);
  });

  it('set and get change and read the tunables the scanner uses', async () => {
    expect(await deployed('set', 'strategies.price-drop.params.dropPercent', '0.01', '--author', 'ops-deployed')).toBe(0);
    expect(printed()).toMatchObject({ key: 'strategies.price-drop.params.dropPercent', value: '0.01', version: 1 });

    // The local view of the same table shows the change.
    const local: string[] = [];
    await runOps(['get', 'strategies.price-drop.params.dropPercent'], runtime, (line) => local.push(line));
    expect(JSON.parse(local.join('\n'))).toEqual({ key: 'strategies.price-drop.params.dropPercent', stored: '0.01', effective: '0.01' });

    out = [];
    expect(await deployed('get')).toBe(0);
    expect(printed()).toMatchObject({ version: 1, updatedBy: 'ops-deployed', stored: { strategies: { 'price-drop': { params: { dropPercent: '0.01' } } } } });
    expect((await runtime.scan(clock.now(), true)).signals.length).toBeGreaterThan(0);
  });

  it('pause stops the scanner\'s next cycle from producing intents; resume restarts it', async () => {
    // Act: pause on the deployed transport, then the scanner's next cycle.
    expect(await deployed('pause', '--reason', 'deployed drill', '--author', 'alice')).toBe(0);
    expect(printed()).toMatchObject({ paused: true, reason: 'deployed drill', author: 'alice' });
    const paused = await runtime.scan(clock.now());

    // Assess
    expect(paused).toMatchObject({ status: 'paused', pauseReason: 'deployed drill', intents: [] });
    expect(await depth(t.config.executionQueueUrl)).toBe(0);

    // Act: resume, next cycle.
    out = [];
    expect(await deployed('resume', '--author', 'alice')).toBe(0);
    expect(printed()).toEqual({ paused: false });
    clock.advance(MINUTE);
    const resumed = await runtime.scan(clock.now());

    // Assess: intents again, and both changes audited on the control stream.
    expect(resumed.status).toBe('scanned');
    expect(resumed.intents.length).toBeGreaterThan(0);
    expect(await depth(t.config.executionQueueUrl)).toBe(resumed.intents.length);
    const control = await runtime.containers.health.doc.send(new QueryCommand({ TableName: t.config.auditTable, KeyConditionExpression: '#s = :s', ExpressionAttributeNames: { '#s': 'stream' }, ExpressionAttributeValues: { ':s': 'control' } }));
    expect((control.Items ?? []).map((i) => i['type'])).toEqual(expect.arrayContaining(['control.paused', 'control.resumed', 'control.tunables-set']));
    await runtime.drain({ visibilityTimeoutSeconds: 0 });
  });

  it('status shows what the local command shows', async () => {
    expect(await deployed('status', '--json')).toBe(0);
    const remote = printed();
    const local: string[] = [];
    await runOps(['status', '--json'], runtime, (line) => local.push(line));
    const here = JSON.parse(local.join('\n')) as Record<string, unknown>;

    for (const key of ['mode', 'exchange', 'dataSource', 'pause', 'ledger', 'positions', 'orders', 'jobs']) expect(remote[key], key).toEqual(here[key]);
    expect((remote['orders'] as unknown[]).length).toBeGreaterThan(0);
  });

  it('health runs the check now: a fresh report and heartbeat are stored', async () => {
    const before = (await runtime.containers.health.heartbeats.list()).find((h) => h.job === 'health');
    const code = await deployed('health', '--json');
    const report = printed() as { status: string; checkedAt?: string };
    expect(code).toBe(report.status === 'FAILING' ? 1 : 0);
    expect(['OK', 'DEGRADED', 'FAILING']).toContain(report.status);
    expect(await runtime.containers.health.control.getReport('health')).toMatchObject({ status: report.status });
    const after = (await runtime.containers.health.heartbeats.list()).find((h) => h.job === 'health');
    expect(after?.lastSuccess).toBeDefined();
    expect(after?.lastSuccess).not.toBe(before?.lastSuccess);
  });

  it('emergency-stop pauses and cancels the open orders on the exchange', async () => {
    // Prepare: a resting limit buy far below the market.
    const c = runtime.containers.executor;
    await c.ensureAccount();
    const rules = await c.marketRules('BTC/USDT');
    const [ticker] = await c.exchange.fetchTickers(['BTC/USDT']);
    const limitPrice = roundPrice(dec(ticker?.bid ?? '0').times('0.5').toFixed(), rules.priceTick);
    const amount = roundAmount(dec('20').div(limitPrice).toFixed(), rules.amountStep);
    await c.exchange.createOrder({ clientOrderId: 'tw-deployed-resting', symbol: 'BTC/USDT', side: 'buy', type: 'limit', amount, limitPrice });

    // Act
    expect(await deployed('emergency-stop', '--reason', 'deployed stop', '--author', 'bob', '--json')).toBe(0);

    // Assess
    expect(printed()).toMatchObject({ paused: true, canceled: 1, failed: 0, results: [{ orderId: 'tw-deployed-resting', outcome: 'canceled', exchangeOnly: true }] });
    expect(await c.exchange.fetchOrderByClientId('BTC/USDT', 'tw-deployed-resting')).toMatchObject({ status: 'canceled' });
    expect(await c.control.getPause()).toMatchObject({ paused: true, reason: 'deployed stop', author: 'bob' });
    expect((await runtime.scan(clock.now())).intents).toEqual([]);
    out = [];
    await deployed('resume');
  });

  it('cancel moves one order through CANCEL_REQUESTED to CANCELED, audited', async () => {
    // Prepare: a resting limit buy placed by the executor, so Tradewarden follows it.
    const c = runtime.containers.executor;
    await c.ensureAccount();
    const buy = await restingBuy(c, 'BTC/USDT', clock.now(), { fraction: '0.5', quote: '20' });
    expect(await execute(runtime, buy)).toMatchObject({ state: 'OPEN' });
    const id = `tw-${buy.id}`;

    // Act
    expect(await deployed('cancel', id, '--reason', 'deployed cancel', '--author', 'carol', '--json')).toBe(0);

    // Assess
    expect(printed()).toEqual({ orderId: id, symbol: 'BTC/USDT', ok: true, outcome: 'canceled', state: 'CANCELED' });
    expect((await c.orders.get(id))?.events.slice(-2).map((e) => e.to)).toEqual(['CANCEL_REQUESTED', 'CANCELED']);
    expect(await c.exchange.fetchOrderByClientId('BTC/USDT', id)).toMatchObject({ status: 'canceled' });
    expect((await auditRecords(c, 'symbol:BTC/USDT')).at(-1)).toMatchObject({ type: 'order.cancel-outcome', data: { orderId: id, author: 'carol' } });
  });

  it('emergency-stop --all without --yes is refused off a terminal before the stack is opened', async () => {
    const before = await snapshotState(runtime.containers.health.doc, t.config, runtime.containers.health.queues);
    await expect(deployed('emergency-stop', '--all')).rejects.toMatchObject({ code: 'NOT_CONFIRMED' });
    expect(await snapshotState(runtime.containers.health.doc, t.config, runtime.containers.health.queues)).toBe(before);
  });

  it('reset-scan-marker clears the scanner\'s last-slot marker that status shows, with an audit record', async () => {
    expect(await deployed('status', '--json')).toBe(0);
    const marker = (printed()['scanMarker'] as { lastSlot: string | null }).lastSlot;
    expect(marker).not.toBeNull();

    out = [];
    expect(await deployed('reset-scan-marker', '--reason', 'deployed drill')).toBe(0);
    expect(printed()).toEqual({ reset: true, previous: marker });
    expect((await runtime.containers.scanner.doc.send(new QueryCommand({ TableName: t.config.auditTable, KeyConditionExpression: '#s = :s', ExpressionAttributeNames: { '#s': 'stream' }, ExpressionAttributeValues: { ':s': 'control' } }))).Items?.map((i) => i['type'])).toContain('control.scan-marker-reset');
    out = [];
    await deployed('status', '--json');
    expect(printed()['scanMarker']).toMatchObject({ lastSlot: null });
  });

  it('redrive moves dead-lettered intents back to the execution queue', async () => {
    // Prepare: one message in the DLQ.
    await t.sqs.send(new SendMessageCommand({ QueueUrl: t.config.executionDlqUrl, MessageBody: '{"poison":true}', MessageGroupId: 'BTC/USDT', MessageDeduplicationId: 'dlq-1' }));
    const queued = await depth(t.config.executionQueueUrl);

    // Act
    expect(await deployed('redrive')).toBe(0);

    // Assess: the emulator has no message move tasks, so the command moved it itself.
    expect(printed()).toEqual({ method: 'client-move', redriven: 1 });
    expect(await depth(t.config.executionDlqUrl)).toBe(0);
    expect(await depth(t.config.executionQueueUrl)).toBe(queued + 1);
  });

  it('audit verify passes on the intact chain and names the first broken record after an edit', async () => {
    expect(await deployed('audit', 'verify')).toBe(0);
    expect(out[0]).toMatch(/^audit valid: \d+ records/);

    // Tamper with one control record.
    const doc = runtime.containers.health.doc;
    const page = await doc.send(new QueryCommand({ TableName: t.config.auditTable, KeyConditionExpression: '#s = :s', ExpressionAttributeNames: { '#s': 'stream' }, ExpressionAttributeValues: { ':s': 'control' }, Limit: 1 }));
    const first = page.Items?.[0] ?? {};
    await doc.send(new PutCommand({ TableName: t.config.auditTable, Item: { ...first, data: { reason: 'rewritten' } } }));

    out = [];
    expect(await deployed('audit', 'verify')).toBe(1);
    expect(out[0]).toMatch(/^audit BROKEN/);
    expect(out.join('\n')).toContain(`control #${String(first['seq'])}`);
  });

  describe('bad targets: a coded error naming what is missing and what to run, nothing changed', () => {
    const snapshot = () => snapshotState(runtime.containers.health.doc, t.config, runtime.containers.health.queues);
    const failure = async (run: () => Promise<number>) => {
      const before = await snapshot();
      const error = await run().then(
        () => undefined,
        (e: unknown) => e as { code?: string; message?: string; stack?: string; toJSON?: () => unknown },
      );
      expect(await snapshot()).toBe(before);
      expect(out).toEqual([]);
      return error;
    };

    it('a missing outputs file', async () => {
      const e = await failure(() => withSdkEnv(sdkEnv, () => runOpsCommandLine(['--outputs', join(outputs.dir, 'nope.json'), 'pause', '--reason', 'x'])));
      expect(e).toMatchObject({ code: 'STACK_UNAVAILABLE' });
      expect(e?.message).toMatch(/no outputs file .*nope\.json.*cdk deploy --outputs-file/);
      expect(JSON.stringify(e?.toJSON?.())).not.toMatch(/\n\s+at /);
    });

    it('outputs that lack a key the operator needs', async () => {
      const file = join(outputs.dir, 'partial.json');
      writeFileSync(file, JSON.stringify({ 'Tradewarden-dev': { [STACK_OUTPUT.stateTable]: t.config.stateTable, [STACK_OUTPUT.tradingMode]: 'paper' } }));
      const e = await failure(() => withSdkEnv(sdkEnv, () => runOpsCommandLine(['--outputs', file, 'resume'])));
      expect(e).toMatchObject({ code: 'STACK_UNAVAILABLE' });
      expect(e?.message).toContain('Tradewarden-dev lack');
      for (const key of [STACK_OUTPUT.auditTable, STACK_OUTPUT.executionQueueUrl, STACK_OUTPUT.executionDlqUrl, STACK_OUTPUT.functionSettings]) expect(e?.message).toContain(key);
      expect(e?.message).toContain('npx cdk deploy');
    });

    it('no AWS credentials', async () => {
      const { AWS_ACCESS_KEY_ID: _k, AWS_SECRET_ACCESS_KEY: _s, ...noKeys } = sdkEnv;
      const e = await failure(() => withSdkEnv(noKeys, () => runOpsCommandLine(['--outputs', outputs.file, 'pause', '--reason', 'x'])));
      expect(e).toMatchObject({ code: 'STACK_UNAVAILABLE' });
      expect(e?.message).toMatch(/no AWS credentials.*AWS_PROFILE/);
    });

    it('no AWS region', async () => {
      const { AWS_REGION: _r, ...noRegion } = sdkEnv;
      const e = await failure(() => withSdkEnv(noRegion, () => runOpsCommandLine(['--outputs', outputs.file, 'status'])));
      expect(e).toMatchObject({ code: 'STACK_UNAVAILABLE' });
      expect(e?.message).toMatch(/no AWS region.*AWS_REGION/);
    });

    it('an unknown stage', async () => {
      const e = await failure(() => withSdkEnv(sdkEnv, () => runOpsCommandLine(['--stage', 'staging', 'resume'])));
      expect(e).toMatchObject({ code: 'STACK_UNAVAILABLE' });
      expect(e?.message).toMatch(/unknown stage "staging".*dev, prod/);
    });
  });
});
