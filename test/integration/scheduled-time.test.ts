/**
 * DATA-9: a scanner or reconciler event whose scheduled time is more than one period in the
 * future, or older than the intent TTL, is refused with VALIDATION_FAILED and changes nothing:
 * no heartbeat, no last-slot marker, no report. Real scans after it still scan.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../local-runtime/runtime.js';
import type { ScanResult } from '../../shared/use-cases/scan-market.js';
import { ManualClock, startTestStack, type TestStack } from '../support/local-runtime.js';
import { snapshotState } from '../support/snapshot.js';

describe('Scheduled-time sanity (DATA-9)', () => {
  let t: TestStack;
  let runtime: LocalRuntime;
  const clock = new ManualClock(new Date('2026-03-02T10:00:30.000Z'));

  beforeAll(async () => {
    // Scanner every 60 s, reconciler every 300 s, intents live 120 s.
    t = await startTestStack({ TW_SCANNER_EVERY_SECONDS: '60', TW_RECONCILER_EVERY_SECONDS: '300', TW_INTENT_TTL_SECONDS: '120' });
    runtime = t.runtime({ clock });
    await runtime.scan(new Date('2026-03-02T10:00:00.000Z'));
  });

  afterAll(async () => {
    await t?.stop();
  });

  const refused = [
    { job: 'scanner', name: 'the year 2999', scheduledTime: '2999-01-01T00:00:00Z' },
    { job: 'scanner', name: 'two periods ahead', scheduledTime: '2026-03-02T10:02:31.000Z' },
    { job: 'scanner', name: 'older than the intent TTL', scheduledTime: '2026-03-02T09:58:29.000Z' },
    { job: 'reconciler', name: 'the year 2999', scheduledTime: '2999-01-01T00:00:00Z' },
    { job: 'reconciler', name: 'older than the intent TTL', scheduledTime: '2026-03-02T09:58:00.000Z' },
  ] as const;

  for (const c of refused) {
    it(`${c.job} refuses a scheduled time of ${c.name} with VALIDATION_FAILED and changes nothing`, async () => {
      const h = runtime.containers.health;
      const before = await snapshotState(h.doc, t.config, h.queues);
      await expect(runtime.invoke(c.job, { scheduledTime: c.scheduledTime })).rejects.toMatchObject({ code: 'VALIDATION_FAILED', retryable: false });
      expect(await snapshotState(h.doc, t.config, h.queues)).toBe(before);
    });
  }

  it('keeps scanning the real slots after a refused far-future event', async () => {
    await expect(runtime.invoke('scanner', { scheduledTime: '2999-01-01T00:00:00Z' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    clock.advance(60_000);
    const next = (await runtime.invoke('scanner', { scheduledTime: '2026-03-02T10:01:00.000Z' })) as ScanResult;
    expect(next.status).toBe('scanned');
  });

  it('accepts a time up to one period ahead (early delivery, clock skew)', async () => {
    const ahead = new Date(clock.now().getTime() + 59_000).toISOString();
    const result = (await runtime.invoke('scanner', { scheduledTime: ahead, dryRun: true })) as ScanResult;
    expect(result.status).toBe('scanned');
  });
});
