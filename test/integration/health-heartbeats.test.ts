/**
 * HLT-1 and HLT-5 on the embedded stack: every function records its last start, success,
 * duration and outcome; a failed invocation records the failure with its code; a health run
 * that cannot read its state fails with a coded error, and a later run reports it.
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHealthHandler } from '../../functions/health/app.js';
import { DynamoDbControlStore } from '../../shared/adapters/aws/dynamodb-control-store.js';
import { CircuitOpenError } from '../../shared/domain/circuit.js';
import { ErrorCode } from '../../shared/domain/errors.js';
import type { PauseState } from '../../shared/ports/control-store.js';
import { createContainer, type Container } from '../../shared/runtime/container.js';
import type { HealthReport } from '../../shared/use-cases/check-health.js';
import type { LocalRuntime } from '../../local-runtime/runtime.js';
import { LOCAL_CREDENTIALS, localContext } from '../../local-runtime/stack.js';
import { ManualClock, startTestStack, type TestStack } from '../support/local-runtime.js';
import { MINUTE, execute, intent, scripted, type ScriptedExchange } from './reconcile-support.js';

/** A control store whose pause read fails the way a dropped connection does. */
class UnreachablePauseStore extends DynamoDbControlStore {
  override async getPause(): Promise<PauseState> {
    throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8000'), { name: 'Error', code: 'ECONNREFUSED' });
  }
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('Heartbeats and failed state access (HLT-1, HLT-5)', () => {
  let t: TestStack;
  let runtime: LocalRuntime;
  let x: ScriptedExchange;
  const clock = new ManualClock(new Date('2026-03-02T10:00:00.000Z'));
  const invokeHealth = (c: Container) => createHealthHandler(c)({ scheduledTime: clock.now().toISOString() }, localContext('tradewarden-health', 30_000) as never) as Promise<HealthReport>;

  beforeAll(async () => {
    t = await startTestStack({ TW_PAPER_SEED: 'health-heartbeats', TW_WATCHLIST: 'BTC/USDT,ETH/USDT', TW_STRATEGY_DROP_PERCENT: '50', TW_HEALTH_EVERY_SECONDS: '60' });
    const wrap = scripted();
    runtime = t.runtime({ clock, exchange: wrap.option });
    x = wrap.exchange as ScriptedExchange;
  });

  afterAll(async () => {
    await t?.stop();
  });

  beforeEach(() => {
    x.script = {};
    clock.advance(MINUTE);
  });

  const beat = async (job: string) => (await runtime.containers.health.heartbeats.list()).find((h) => h.job === job);

  it('records start, success, duration and outcome for each of the four functions', async () => {
    // Prepare: every exchange price request takes 1.5 s of the test clock.
    x.script.fetchTickers = async (symbols, inner) => {
      clock.advance(1500);
      return inner.fetchTickers(symbols);
    };
    const started = clock.now();

    // Act
    await runtime.scan(clock.now());
    const scannerEnd = clock.now();
    await execute(runtime, intent({ symbol: 'BTC/USDT', side: 'buy', type: 'market', quoteAmount: '20', at: clock.now() }));
    await runtime.reconcile();
    await runtime.health();

    // Assess
    const scanner = await beat('scanner');
    expect(scanner).toMatchObject({ lastStart: started.toISOString(), lastSuccess: scannerEnd.toISOString(), lastOutcome: 'success' });
    expect(scanner?.lastDurationMs).toBe(scannerEnd.getTime() - started.getTime());
    expect(scanner?.lastDurationMs).toBeGreaterThanOrEqual(1500);
    for (const job of ['executor', 'reconciler', 'health'] as const) {
      const b = await beat(job);
      expect(b?.lastOutcome, job).toBe('success');
      const start = Date.parse(b?.lastStart ?? '');
      const success = Date.parse(b?.lastSuccess ?? '');
      expect(start, job).toBeGreaterThanOrEqual(scannerEnd.getTime());
      expect(success - start, job).toBe(b?.lastDurationMs);
      expect(success, job).toBeLessThanOrEqual(clock.now().getTime());
    }
    // The reconciler priced the book once: 1.5 s of its run.
    expect((await beat('reconciler'))?.lastDurationMs).toBe(1500);
  });

  it('records a failed invocation as a failure with its code, keeping the last success', async () => {
    // Prepare
    const before = await beat('reconciler');
    // The circuit opens mid-run: the run can reach nothing more and fails as a whole (one sweep's
    // own failure would only be reported, DATA-7).
    x.script.fetchOpenOrders = async () => {
      throw new CircuitOpenError('paper', clock.now().getTime() + MINUTE);
    };

    // Act
    await expect(runtime.reconcile()).rejects.toMatchObject({ code: ErrorCode.ExchangeTransient });

    // Assess
    expect(await beat('reconciler')).toMatchObject({
      lastOutcome: 'failure',
      lastErrorCode: ErrorCode.ExchangeTransient,
      lastFailure: clock.now().toISOString(),
      lastSuccess: before?.lastSuccess,
    });
  });

  it('fails a health run whose state read fails with STORAGE_FAILED, and the next run reports it', async () => {
    // Prepare: the same container, but its pause read fails.
    const c = runtime.containers.health;
    const broken: Container = { ...c, control: new UnreachablePauseStore({ doc: c.doc, table: c.config.stateTable, clock }) };

    // Act
    const failed = await invokeHealth(broken).then(
      () => 'succeeded',
      (e: { code?: string; message?: string }) => e,
    );
    clock.advance(MINUTE);
    const next = await runtime.health();

    // Assess
    expect(failed).toMatchObject({ code: ErrorCode.StorageFailed });
    expect((failed as { message: string }).message).toContain('reading the pause state failed');
    expect(next.status).not.toBe('OK');
    expect(next.reasons).toContain('job:health:last-run: last run failed (STORAGE_FAILED)');
  });

  it('fails every health run while DynamoDB is unreachable, and the next run reports the gap', async () => {
    // Prepare: a health function whose DynamoDB endpoint is down.
    const down = createContainer('health', { ...t.config, dynamodbEndpoint: `http://127.0.0.1:${await closedPort()}` }, { clock, credentials: LOCAL_CREDENTIALS });
    await runtime.health();

    // Act: four minutes of failed runs (stale after two 60 s intervals, failing after four).
    const codes: string[] = [];
    for (let minute = 1; minute <= 4; minute += 1) {
      clock.advance(MINUTE);
      codes.push(await invokeHealth(down).then(() => 'succeeded', (e: { code?: string }) => e.code ?? 'uncoded'));
    }
    clock.advance(MINUTE);
    const next = await runtime.health();
    down.ddb.destroy();
    down.sqs.destroy();

    // Assess: coded failures (never a success), and the gap shows.
    expect(codes).toHaveLength(4);
    for (const code of codes) expect([ErrorCode.StorageFailed, ErrorCode.Internal]).toContain(code);
    expect(next.checks.find((check) => check.name === 'job:health')).toMatchObject({ status: 'FAILING' });
    expect(next.status).toBe('FAILING');
  }, 30_000);
});
