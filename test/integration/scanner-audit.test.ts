/**
 * The scanner's decisions in the audit chain, on the emulators: a scan that sends intents writes
 * one `scan.decisions` record on the scanner's stream with each signal and why and each symbol it
 * skipped and why; a dry run and a duplicate slot write nothing; the chain verifies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../local-runtime/runtime.js';
import { SCAN_DECISIONS, SCANNER_AUDIT_STREAM } from '../../shared/use-cases/audit-scan.js';
import { ManualClock, startTestStack, type TestStack } from '../support/local-runtime.js';
import { auditRecords } from './reconcile-support.js';

describe('Scanner: its decisions are audited', () => {
  let t: TestStack;
  let runtime: LocalRuntime;
  const clock = new ManualClock(new Date('2026-03-02T10:00:00.000Z'));

  beforeAll(async () => {
    t = await startTestStack({
      TW_PAPER_SEED: 'e2e-seed',
      TW_WATCHLIST: 'BTC/USDT,ETH/USDT,SOL/USDT,XRP/USDT',
      TW_STRATEGY_DROP_PERCENT: '0.1',
      TW_STRATEGY_TAKE_PROFIT_PERCENT: '0.1',
      TW_STRATEGY_LOOKBACK_CANDLES: '10',
    });
    runtime = t.runtime({ clock });
    await runtime.containers.executor.ensureAccount();
  });

  afterAll(async () => {
    await t?.stop();
  });

  it('records each signal with its reason, and the intents it became, once per deciding scan', async () => {
    // Act: scans until one decides something; a dry run and a replay of that slot after it.
    let scan = await runtime.scan(clock.advance(60_000));
    for (let i = 0; i < 10 && scan.signals.length === 0; i += 1) scan = await runtime.scan(clock.advance(60_000));
    const before = await auditRecords(runtime.containers.scanner, SCANNER_AUDIT_STREAM);
    await runtime.scan(clock.now(), true);
    const replay = await runtime.scan(new Date(scan.slot));
    const after = await auditRecords(runtime.containers.scanner, SCANNER_AUDIT_STREAM);

    // Assess
    expect(scan.signals.length).toBeGreaterThan(0);
    const last = before.at(-1);
    expect(last?.type).toBe(SCAN_DECISIONS);
    expect(last?.data).toMatchObject({
      slot: scan.slot,
      signals: scan.signals.map((s) => ({ symbol: s.symbol, side: s.side, strategy: s.strategy, reason: s.reason })),
      intents: scan.intents.map((i) => i.id),
      counts: { signals: scan.signals.length, blocked: scan.blocked.length },
    });
    for (const s of (last?.data['signals'] as { reason: string }[]) ?? []) expect(s.reason.length).toBeGreaterThan(0);
    expect(replay.status).toBe('duplicate');
    expect(after).toHaveLength(before.length);
    expect((await runtime.containers.scanner.audit.verify()).valid).toBe(true);
  });
});
