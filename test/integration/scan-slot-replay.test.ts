/**
 * Intents are deterministic per schedule slot (EXE-1 from the scanner's side): the same
 * scheduled event delivered twice enqueues nothing new and yields one order per intent; the
 * dry-run event returns signals and sends nothing (OPS-3). On the embedded stack.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../local-runtime/runtime.js';
import { runOps } from '../../scripts/ops.js';
import type { ScanResult } from '../../shared/use-cases/scan-market.js';
import { ManualClock, startTestStack, type TestStack } from '../support/local-runtime.js';

describe('Scanner: replaying a slot', () => {
  let t: TestStack;
  let runtime: LocalRuntime;
  const clock = new ManualClock(new Date('2026-06-01T10:00:30Z'));
  const queued = async () => (await runtime.containers.health.queues.depths())['execution'] ?? 0;

  beforeAll(async () => {
    t = await startTestStack({ TW_MAX_OPEN_POSITIONS: '20' });
    runtime = t.runtime({ clock });
    // Make the demo market produce entries on most symbols.
    await runOps(['set', 'strategies.price-drop.params.dropPercent', '0.01'], runtime, () => undefined);
  });

  afterAll(async () => {
    await t?.stop();
  });

  it('returns the signals of the dry-run event and sends and records nothing', async () => {
    const event = JSON.parse(readFileSync(new URL('../../events/scanner.dry-run.json', import.meta.url), 'utf8')) as unknown;
    const result = (await runtime.invoke('scanner', event)) as ScanResult;
    expect(result).toMatchObject({ status: 'scanned', dryRun: true, source: 'synthetic' });
    expect(result.signals.length).toBeGreaterThan(0);
    expect(result.intents).toHaveLength(result.signals.length);
    expect(await queued()).toBe(0);
    expect(await runtime.containers.health.control.getReport('scan')).toBeNull();
  });

  it('enqueues nothing new when the same scheduled event arrives twice, and places one order per intent', async () => {
    // Act
    const scheduled = new Date('2026-06-01T10:00:00Z');
    const first = await runtime.scan(scheduled);
    const afterFirst = await queued();
    clock.advance(5_000);
    const second = await runtime.scan(scheduled);
    const afterSecond = await queued();
    const delivered = await runtime.drain();

    // Assess: the market moved in between, still nothing new.
    expect(first.intents.length).toBeGreaterThan(0);
    expect(second).toMatchObject({ status: 'duplicate', intents: [] });
    expect(afterFirst).toBe(first.intents.length);
    expect(afterSecond).toBe(afterFirst);
    expect(delivered.received).toBe(first.intents.length);
    const orders = await runtime.containers.executor.orders.listRecent(100);
    expect(orders.map((o) => o.id).sort()).toEqual(first.intents.map((i) => `tw-${i.id}`).sort());

    // The same intents sent again (a replay after the queue's deduplication window) add no order.
    await runtime.containers.scanner.queue.send(first.intents.map((i) => ({ ...i })));
    await runtime.drain();
    expect(await runtime.containers.executor.orders.listRecent(100)).toHaveLength(orders.length);
  });
});
