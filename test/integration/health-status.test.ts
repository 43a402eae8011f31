/**
 * HLT-2 and RISK-3 on the embedded stack: for each cause, health moves OK -> DEGRADED ->
 * FAILING and back to OK, with exactly one HealthChanged event per change of status.
 */
import { SendMessageBatchCommand, ReceiveMessageCommand, DeleteMessageBatchCommand } from '@aws-sdk/client-sqs';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LogEventPublisher } from '../../shared/adapters/aws/event-publishers.js';
import type { JobName } from '../../shared/definitions/schedules.js';
import type { LocalRuntime } from '../../local-runtime/runtime.js';
import { HEALTH_CHANGED, type HealthReport, type HealthStatus } from '../../shared/use-cases/check-health.js';
import { ManualClock, startTestStack, type TestStack } from '../support/local-runtime.js';
import { MINUTE, scripted, type ScriptedExchange } from './reconcile-support.js';

const MAX_PAUSE_AGE_SECONDS = 600;

describe('Health: status per cause and HealthChanged events (HLT-2, RISK-3)', () => {
  let t: TestStack;
  let runtime: LocalRuntime;
  let x: ScriptedExchange;
  const clock = new ManualClock(new Date('2026-03-02T10:00:00.000Z'));

  beforeAll(async () => {
    t = await startTestStack({
      TW_PAPER_SEED: 'health-status',
      TW_WATCHLIST: 'BTC/USDT,ETH/USDT',
      // No signals: the tests are about health, not trading.
      TW_STRATEGY_DROP_PERCENT: '50',
      TW_SCANNER_EVERY_SECONDS: '60',
      TW_RECONCILER_EVERY_SECONDS: '60',
      TW_HEALTH_EVERY_SECONDS: '60',
      TW_STALE_DATA_SECONDS: '90',
      TW_MAX_PAUSE_AGE_SECONDS: String(MAX_PAUSE_AGE_SECONDS),
    });
    const wrap = scripted();
    // The circuit is written by hand below: the breaker itself is off so the scans keep running.
    runtime = t.runtime({ clock, exchange: wrap.option, circuitBreaker: false });
    x = wrap.exchange as ScriptedExchange;
  });

  afterAll(async () => {
    await t?.stop();
  });

  const c = () => runtime.containers.health;
  const changes = () => (c().events as LogEventPublisher).published.filter((e) => e.detailType === HEALTH_CHANGED).map((e) => `${String(e.detail.from)}->${String(e.detail.to)}`);

  /** One minute of the schedule: the scanner and reconciler run (unless skipped), then health. */
  async function tick(skip: readonly JobName[] = []): Promise<HealthReport> {
    clock.advance(MINUTE);
    if (!skip.includes('scanner')) {
      const scan = await runtime.scan(clock.now());
      expect(scan.intents).toEqual([]);
    }
    if (!skip.includes('reconciler')) await runtime.reconcile();
    return runtime.health();
  }

  /** Runs `steps`, and returns the statuses seen and the HealthChanged events they published. */
  async function observe(steps: Array<() => Promise<HealthReport>>): Promise<{ statuses: HealthStatus[]; events: string[]; last: HealthReport }> {
    const before = changes().length;
    const statuses: HealthStatus[] = [];
    let last: HealthReport | undefined;
    for (const step of steps) {
      last = await step();
      statuses.push(last.status);
    }
    if (!last) throw new Error('no step');
    return { statuses, events: changes().slice(before), last };
  }

  const repeat = <T>(n: number, step: T): T[] => Array.from({ length: n }, () => step);

  beforeEach(async () => {
    x.script = {};
    // Every case starts healthy.
    const start = await observe([() => tick(), () => tick()]);
    expect(start.last.reasons).toEqual([]);
    expect(start.last.status).toBe('OK');
  });

  it('reports OK with the data source, and published the first status once', async () => {
    const report = await tick();
    expect(report).toMatchObject({ status: 'OK', dataSource: 'synthetic', changed: false });
    expect(changes()[0]).toBe('null->OK');
  });

  it('degrades on a stale job, fails when it stays stale, and recovers when it runs', async () => {
    // Act: the reconciler stops running (its schedule is 60 s: stale after 120 s, failing after 240 s).
    const seen = await observe([...repeat(6, () => tick(['reconciler'])), () => tick()]);

    // Assess
    expect(seen.statuses).toEqual(['OK', 'OK', 'DEGRADED', 'DEGRADED', 'FAILING', 'FAILING', 'OK']);
    expect(seen.events).toEqual(['OK->DEGRADED', 'DEGRADED->FAILING', 'FAILING->OK']);
  });

  it('degrades on partly stale market data, fails on no fresh data, and recovers', async () => {
    // Prepare: tickers ten minutes old for the given symbols.
    const staleFor = (symbols: readonly string[]) => {
      x.script.fetchTickers = async (wanted, inner) =>
        (await inner.fetchTickers(wanted)).map((ticker) => (symbols.includes(ticker.symbol) ? { ...ticker, timestamp: clock.now().getTime() - 10 * MINUTE } : ticker));
    };

    // Act
    const seen = await observe([
      async () => {
        staleFor(['ETH/USDT']);
        return tick();
      },
      () => tick(),
      async () => {
        staleFor(['BTC/USDT', 'ETH/USDT']);
        return tick();
      },
      async () => {
        x.script = {};
        return tick();
      },
    ]);

    // Assess
    expect(seen.statuses).toEqual(['DEGRADED', 'DEGRADED', 'FAILING', 'OK']);
    expect(seen.events).toEqual(['OK->DEGRADED', 'DEGRADED->FAILING', 'FAILING->OK']);
  });

  it('degrades on a dead letter, fails when they pile up, and recovers when the DLQ is emptied', async () => {
    // Prepare
    const deadLetter = async (n: number) => {
      await t.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: t.config.executionDlqUrl,
          Entries: Array.from({ length: n }, (_, i) => ({ Id: String(i), MessageBody: '{"poison":true}', MessageGroupId: `g${i}`, MessageDeduplicationId: `${clock.now().getTime()}-${i}` })),
        }),
      );
    };
    const emptyDlq = async () => {
      for (;;) {
        const out = await t.sqs.send(new ReceiveMessageCommand({ QueueUrl: t.config.executionDlqUrl, MaxNumberOfMessages: 10 }));
        const messages = out.Messages ?? [];
        if (messages.length === 0) return;
        await t.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: t.config.executionDlqUrl, Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })) }));
      }
    };

    // Act
    const seen = await observe([
      async () => {
        await deadLetter(1);
        return tick();
      },
      async () => {
        await deadLetter(9);
        return tick();
      },
      async () => {
        await emptyDlq();
        return tick();
      },
    ]);

    // Assess
    expect(seen.statuses).toEqual(['DEGRADED', 'FAILING', 'OK']);
    expect(seen.events).toEqual(['OK->DEGRADED', 'DEGRADED->FAILING', 'FAILING->OK']);
  });

  it('shows a pause, fails once it is older than its limit, and recovers on resume (RISK-3)', async () => {
    // Act
    const seen = await observe([
      async () => {
        await c().control.setPause({ paused: true, reason: 'exchange maintenance', author: 'ops', since: clock.now().toISOString() });
        return tick();
      },
      // 60 s per tick: older than 600 s from the eleventh tick on.
      ...repeat(10, () => tick()),
      async () => {
        await c().control.setPause({ paused: false });
        return tick();
      },
    ]);

    // Assess
    expect(seen.statuses).toEqual(['DEGRADED', ...repeat(9, 'DEGRADED'), 'FAILING', 'OK']);
    expect(seen.events).toEqual(['OK->DEGRADED', 'DEGRADED->FAILING', 'FAILING->OK']);
  });

  it('degrades on a half-open circuit, fails on an open one, answers 503 over HTTP then, and recovers when it closes', async () => {
    // Prepare
    // The breaker's own record layout, as DynamoDbCircuitStore writes it.
    let version = 0;
    const circuit = async (state: string) => {
      version += 1;
      const open = state === 'open' ? { openedAt: clock.now().getTime(), retryAt: clock.now().getTime() + 3_600_000 } : {};
      await c().doc.send(
        new PutCommand({
          TableName: t.config.stateTable,
          Item: { pk: `CIRCUIT#${c().exchange.id}`, sk: 'CIRCUIT', state, consecutiveFailures: 0, ...open, updatedAt: clock.now().toISOString(), version },
        }),
      );
    };
    const http = { version: '2.0', rawPath: '/', requestContext: { http: { method: 'GET' } } };

    // Act
    const seen = await observe([
      async () => {
        await circuit('half-open');
        return tick();
      },
      async () => {
        await circuit('open');
        return tick();
      },
    ]);
    const overHttp = (await runtime.invoke('health', http)) as { statusCode: number; body: string };
    const recovered = await observe([
      async () => {
        await circuit('closed');
        return tick();
      },
    ]);

    // Assess
    expect(seen.statuses).toEqual(['DEGRADED', 'FAILING']);
    expect(seen.last.metrics.circuitOpen).toBe(1);
    expect(seen.last.reasons[0]).toMatch(/^circuit:paper: open since/);
    expect(overHttp.statusCode).toBe(503);
    expect((JSON.parse(overHttp.body) as HealthReport).status).toBe('FAILING');
    expect(recovered.statuses).toEqual(['OK']);
    expect([...seen.events, ...recovered.events]).toEqual(['OK->DEGRADED', 'DEGRADED->FAILING', 'FAILING->OK']);
  });

  it('degrades on a lock held past its lease, and recovers when it is released', async () => {
    // Prepare: an executor that took a lock and died.
    const lease = await c().locks.acquire('symbol:BTC/USDT', 'executor:died', 1000, clock.now());

    // Act
    const seen = await observe([
      () => tick(),
      async () => {
        await c().locks.release(lease);
        return tick();
      },
    ]);

    // Assess
    expect(seen.statuses).toEqual(['DEGRADED', 'OK']);
    expect(seen.events).toEqual(['OK->DEGRADED', 'DEGRADED->OK']);
  });
});
