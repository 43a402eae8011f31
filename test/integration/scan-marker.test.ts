/**
 * DATA-9 on the embedded stack: a last-slot marker ahead of the clock makes every scan a
 * duplicate; health notices a scanner that runs but scans nothing, `ops status` shows the
 * marker, and `ops reset-scan-marker` clears it with an audit record, after which scans resume.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../local-runtime/runtime.js';
import { runOps } from '../../scripts/ops.js';
import { DynamoDbTunablesStore } from '../../shared/adapters/aws/dynamodb-tunables-store.js';
import { ManualClock, startTestStack, type TestStack } from '../support/local-runtime.js';
import { auditRecords } from './reconcile-support.js';

const MINUTE = 60_000;

describe('Scanner last-slot marker (DATA-9)', () => {
  let t: TestStack;
  let runtime: LocalRuntime;
  const clock = new ManualClock(new Date('2026-03-02T10:00:30.000Z'));
  const store = () => new DynamoDbTunablesStore({ doc: runtime.containers.health.doc, table: runtime.config.stateTable });
  const lines: string[] = [];
  const ops = (...argv: string[]) => runOps(argv, runtime, (line) => lines.push(line));

  beforeAll(async () => {
    t = await startTestStack({ TW_SCANNER_EVERY_SECONDS: '60' });
    runtime = t.runtime({ clock });
    await runtime.scan(new Date('2026-03-02T10:00:00.000Z'));
    await runtime.health();
  });

  afterAll(async () => {
    await t?.stop();
  });

  it('health is FAILING when the scanner keeps running but scans nothing behind a marker ahead of the clock', async () => {
    // A marker far ahead (a restored record, a clock jump): the scanner itself refuses such events.
    const risk = await store().getRiskState();
    await store().putRiskState({ ...risk.state, lastSlot: '2999-01-01T00:00:00.000Z' }, risk.version, clock.now());
    for (let i = 1; i <= 4; i += 1) {
      clock.advance(MINUTE);
      expect((await runtime.scan(new Date(Date.parse('2026-03-02T10:00:00.000Z') + i * MINUTE))).status).toBe('duplicate');
    }
    const health = await runtime.health();
    expect(health.status).toBe('FAILING');
    expect(health.reasons.join('\n')).toMatch(/scan-coverage: scanner runs but scans nothing/);
  });

  it('ops status shows the marker ahead of the clock', async () => {
    lines.length = 0;
    expect(await ops('status', '--json')).toBe(0);
    expect(JSON.parse(lines.join('\n'))).toMatchObject({ scanMarker: { lastSlot: '2999-01-01T00:00:00.000Z', aheadOfClock: true } });
    // The text form: the warning, then the tables of the embedded stack.
    lines.length = 0;
    expect(await ops('status')).toBe(0);
    expect(lines.join('\n')).toContain('scan marker 2999-01-01T00:00:00.000Z AHEAD OF THE CLOCK');
    expect(lines).toEqual(expect.arrayContaining(['jobs', 'ledger', '  not opened yet', 'positions', 'recent orders']));
    expect(lines.find((l) => /^\s+scanner\s/.test(l))).toMatch(/scanner\s+2026-03-02T/);
  });

  it('refuses a reset without a reason and changes nothing', async () => {
    await expect(ops('reset-scan-marker')).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect((await store().getRiskState()).state.lastSlot).toBe('2999-01-01T00:00:00.000Z');
  });

  it('ops reset-scan-marker clears it with an audit record, and the next scan scans', async () => {
    lines.length = 0;
    expect(await ops('reset-scan-marker', '--reason', 'marker restored from a bad backup', '--author', 'alice')).toBe(0);
    expect(JSON.parse(lines[0] ?? '{}')).toEqual({ reset: true, previous: '2999-01-01T00:00:00.000Z' });
    const audit = (await auditRecords(runtime.containers.health, 'control')).filter((r) => r.type === 'control.scan-marker-reset');
    expect(audit).toEqual([{ type: 'control.scan-marker-reset', data: { previous: '2999-01-01T00:00:00.000Z', author: 'alice', reason: 'marker restored from a bad backup' } }]);
    clock.advance(MINUTE);
    const next = await runtime.scan(new Date(Date.parse('2026-03-02T10:00:00.000Z') + 5 * MINUTE));
    expect(next.status).toBe('scanned');
    expect((await store().getRiskState()).state.lastSlot).toBe('2026-03-02T10:05:00.000Z');
  });
});
