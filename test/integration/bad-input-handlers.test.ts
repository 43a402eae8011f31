/**
 * SEC-4, first cut: every handler answers a malformed event with a coded validation error and
 * changes no state at all (no heartbeat, no order, no message).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../local-runtime/runtime.js';
import type { JobName } from '../../shared/definitions/schedules.js';
import { ManualClock, startTestStack, type TestStack } from '../support/local-runtime.js';
import { snapshotState } from '../support/snapshot.js';

const GOOD_INTENT = {
  id: 'c'.repeat(32),
  strategy: 'price-drop',
  symbol: 'BTC/USDT',
  side: 'buy',
  type: 'market',
  quoteAmount: '100',
  createdAt: '2026-03-02T10:00:00.000Z',
  expiresAt: '2026-03-02T10:02:00.000Z',
};

const sqsEvent = (body: string) => ({ Records: [{ messageId: 'm1', receiptHandle: 'r1', body, attributes: { ApproximateReceiveCount: '1', MessageGroupId: 'BTC/USDT' } }] });

const CASES: readonly { job: JobName; name: string; event: unknown }[] = [
  { job: 'scanner', name: 'an unknown field', event: { scheduledTime: '2026-03-02T10:00:00Z', surprise: 1 } },
  { job: 'scanner', name: 'a wrong type', event: { dryRun: 'yes' } },
  { job: 'scanner', name: 'a malformed time', event: { scheduledTime: 'yesterday' } },
  { job: 'scanner', name: 'no object at all', event: 'scan please' },
  { job: 'executor', name: 'no Records and no intent', event: {} },
  { job: 'executor', name: 'an intent with a missing field', event: { intent: { ...GOOD_INTENT, side: undefined } } },
  { job: 'executor', name: 'an intent with a NaN amount', event: { intent: { ...GOOD_INTENT, quoteAmount: 'NaN' } } },
  { job: 'executor', name: 'an intent with a negative amount', event: { intent: { ...GOOD_INTENT, quoteAmount: '-100' } } },
  { job: 'executor', name: 'an intent with a huge amount', event: { intent: { ...GOOD_INTENT, quoteAmount: '99999999999999' } } },
  { job: 'executor', name: 'an intent with a number where a string belongs', event: { intent: { ...GOOD_INTENT, quoteAmount: 100 } } },
  { job: 'executor', name: 'an oversized event', event: { intent: { ...GOOD_INTENT, reason: 'x'.repeat(300_000) } } },
  { job: 'reconciler', name: 'a bad symbol', event: { symbol: 'bitcoin' } },
  { job: 'reconciler', name: 'an unknown field', event: { everything: true } },
  { job: 'health', name: 'a wrong type', event: { scheduledTime: 42 } },
];

describe('Handlers: malformed events', () => {
  let t: TestStack;
  let runtime: LocalRuntime;
  const clock = new ManualClock(new Date('2026-03-02T10:00:30.000Z'));

  beforeAll(async () => {
    t = await startTestStack();
    runtime = t.runtime({ clock });
    // Some state to protect: one real cycle first.
    await runtime.scan(clock.now());
    await runtime.drain();
  });

  afterAll(async () => {
    await t?.stop();
  });

  for (const c of CASES) {
    it(`${c.job} answers ${c.name} with VALIDATION_FAILED and changes no state`, async () => {
      const h = runtime.containers.health;
      const before = await snapshotState(h.doc, t.config, h.queues);
      await expect(runtime.invoke(c.job, c.event)).rejects.toMatchObject({ code: 'VALIDATION_FAILED', retryable: false });
      expect(await snapshotState(h.doc, t.config, h.queues)).toBe(before);
    });
  }

  it('executor dead-letters the poison records of a batch, acknowledges them and books nothing for them', async () => {
    const h = runtime.containers.health;
    // Only the heartbeat and the DLQ may change.
    const notHeartbeat = (item: Record<string, unknown>) => String(item.pk).startsWith('HEARTBEAT#');
    const before = await snapshotState(h.doc, t.config, h.queues, notHeartbeat);
    const event = {
      Records: [
        { ...sqsEvent('{not json').Records[0], messageId: 'poison-1' },
        { ...sqsEvent(JSON.stringify({ ...GOOD_INTENT, quoteAmount: 'Infinity' })).Records[0], messageId: 'poison-2', attributes: { ApproximateReceiveCount: '1', MessageGroupId: 'ETH/USDT' } },
      ],
    };
    await expect(runtime.invoke('executor', event)).resolves.toEqual({ batchItemFailures: [] });
    const expected = JSON.parse(before) as { queues: Record<string, number> };
    expect(JSON.parse(await snapshotState(h.doc, t.config, h.queues, notHeartbeat))).toEqual({
      ...expected,
      queues: { ...expected.queues, 'execution-dlq': (expected.queues['execution-dlq'] ?? 0) + 2 },
    });
  });
});
