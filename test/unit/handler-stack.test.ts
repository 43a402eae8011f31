import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { StorageError } from '../../shared/domain/errors.js';
import { createObservability } from '../../shared/runtime/observability.js';
import { withStack } from '../../shared/runtime/handler-stack.js';
import { MetricName } from '../../shared/runtime/metric-names.js';
import { InMemoryHeartbeatStore } from '../support/fakes.js';
import type { HeartbeatStore } from '../../shared/ports/heartbeat-store.js';

const CONTEXT = {
  functionName: 'tradewarden-scanner',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:tradewarden-scanner',
  memoryLimitInMB: '512',
  awsRequestId: 'req-1',
  logGroupName: '/aws/lambda/x',
  logStreamName: 's',
  callbackWaitsForEmptyEventLoop: false,
  getRemainingTimeInMillis: () => 10_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
};

function setup(heartbeats: HeartbeatStore = new InMemoryHeartbeatStore()) {
  const observability = createObservability('scanner', { logLevel: 'SILENT' });
  const metric = vi.spyOn(observability.metrics, 'addMetric');
  const info = vi.spyOn(observability.logger, 'info');
  const clock = { now: () => new Date('2026-05-01T12:00:00Z') };
  return { observability, metric, info, heartbeats, clock };
}

describe('Function: withStack', () => {
  it('records the heartbeat in the store, emits no paid metric of its own, and logs duration and memory of the invocation', async () => {
    const s = setup();
    const handler = withStack('scanner', s, z.object({ n: z.number() }).strict(), async (event) => ({ doubled: event.n * 2 }));
    await expect(handler({ n: 2 }, CONTEXT)).resolves.toEqual({ doubled: 4 });
    const names = s.metric.mock.calls.map((c) => c[0]);
    // Lambda's own Invocations - Errors, Duration and REPORT line cover heartbeat, duration and memory.
    expect(names).toEqual([]);
    const finished = s.info.mock.calls.find((c) => c[0] === 'invocation finished');
    expect(finished?.[1]).toMatchObject({ outcome: 'success', durationMs: 0, memoryUsedMb: expect.any(Number) });
    const [beat] = await s.heartbeats.list();
    expect(beat).toMatchObject({ job: 'scanner', lastOutcome: 'success', lastSuccess: '2026-05-01T12:00:00.000Z' });
  });

  it('flushes EMF only when the invocation added a metric, so a quiet run logs neither a blob nor an empty-metrics warning', async () => {
    const s = setup();
    const publish = vi.spyOn(s.observability.metrics, 'publishStoredMetrics');
    const quiet = withStack('scanner', s, z.object({}).strict(), async () => 'quiet');
    const busy = withStack('scanner', s, z.object({}).strict(), async () => {
      s.observability.metrics.addMetric(MetricName.Signals, 'Count', 2);
      return 'busy';
    });
    await quiet({}, CONTEXT);
    expect(publish).not.toHaveBeenCalled();
    await busy({}, CONTEXT);
    expect(publish).toHaveBeenCalledTimes(1);
    expect(s.observability.metrics.hasStoredMetrics()).toBe(false);
  });

  it('fails the invocation with the coded error, records the failure and emits no heartbeat metric', async () => {
    const s = setup();
    const handler = withStack('scanner', s, z.object({}).strict(), async () => {
      throw new StorageError('put failed');
    });
    await expect(handler({}, CONTEXT)).rejects.toMatchObject({ code: 'STORAGE_FAILED' });
    // Lambda counts the error (its free Errors metric).
    expect(s.metric.mock.calls.map((c) => c[0])).toEqual([]);
    expect(s.info.mock.calls.find((c) => c[0] === 'invocation finished')?.[1]).toMatchObject({ outcome: 'failure' });
    const [beat] = await s.heartbeats.list();
    expect(beat).toMatchObject({ lastOutcome: 'failure', lastErrorCode: 'STORAGE_FAILED' });
  });

  it('fails the invocation when the heartbeat itself cannot be written (no swallowed state write)', async () => {
    const broken = new InMemoryHeartbeatStore();
    broken.recordStart = async () => {
      throw new StorageError('heartbeat table unavailable');
    };
    const s = setup(broken);
    const run = vi.fn(async () => 'ran');
    const handler = withStack('scanner', s, z.object({}).strict(), run);
    await expect(handler({}, CONTEXT)).rejects.toMatchObject({ code: 'STORAGE_FAILED' });
    expect(run).not.toHaveBeenCalled();
  });

  it('writes the start heartbeat beside the work when asked (executor): the work does not wait for it, the invocation does', async () => {
    const store = new InMemoryHeartbeatStore();
    const write = store.recordStart.bind(store);
    let letStartLand!: () => void;
    const startMayLand = new Promise<void>((resolve) => (letStartLand = resolve));
    store.recordStart = async (job, at) => {
      await startMayLand;
      await write(job, at);
    };
    const s = setup(store);
    const handler = withStack(
      'executor',
      s,
      z.object({}).strict(),
      async () => {
        // The start heartbeat is still in flight while the work runs.
        const beat = (await s.heartbeats.list()).find((b) => b.job === 'executor');
        letStartLand();
        return beat?.lastStart ?? 'start not yet written';
      },
      { heartbeatAlongside: true },
    );
    await expect(handler({}, CONTEXT)).resolves.toBe('start not yet written');
    const beat = (await s.heartbeats.list()).find((b) => b.job === 'executor');
    expect(beat).toMatchObject({ lastStart: '2026-05-01T12:00:00.000Z', lastOutcome: 'success' });
  });

  it('still fails the invocation with the coded error when the start heartbeat written beside the work fails', async () => {
    const broken = new InMemoryHeartbeatStore();
    broken.recordStart = async () => {
      throw new StorageError('heartbeat table unavailable');
    };
    const s = setup(broken);
    const run = vi.fn(async () => 'ran');
    const handler = withStack('executor', s, z.object({}).strict(), run, { heartbeatAlongside: true });
    await expect(handler({}, CONTEXT)).rejects.toMatchObject({ code: 'STORAGE_FAILED', message: 'heartbeat table unavailable' });
    // The work ran beside it (idempotent work only), and the failure is recorded.
    expect(run).toHaveBeenCalledTimes(1);
    const beat = (await broken.list()).find((b) => b.job === 'executor');
    expect(beat).toMatchObject({ lastOutcome: 'failure', lastErrorCode: 'STORAGE_FAILED' });
  });
});
