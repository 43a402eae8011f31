/**
 * TST-3 / EXE-1 / EXE-7 / OPS-2 / OPS-4, end to end: a small soak (scripts/soak.ts) inside
 * `npm test`. 150 intents through the queue, scanner, executor, reconciler and health on the
 * embedded stack, with a tenth of the executor invocations killed at a random step and a fifth
 * of the exchange calls failing; then quiescence (faults off, DLQ redriven, reconciler past every
 * grace period). Nothing may be duplicated, lost or unbalanced, and the audit chain verifies.
 * `npm run soak -- --intents 10000 ...` is the same run, larger (BENCHMARKS.md).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_SOAK_OPTIONS, formatSoakReport, parseSoakArgs, runSoak, type SoakReport } from '../../scripts/soak.js';

describe('Soak: 150 intents, crash rate 0.1, exchange fault rate 0.2', () => {
  let report: SoakReport;

  it('runs to quiescence with no duplicate, no lost order, a balanced ledger and a valid audit chain', async () => {
    report = await runSoak({ ...DEFAULT_SOAK_OPTIONS, intents: 150, crashRate: 0.1, faultRate: 0.2, seed: 'npm-test', workers: 4 });

    const summary = formatSoakReport(report);
    expect(report.duplicateOrders, summary).toBe(0);
    expect(report.lostOrders, summary).toBe(0);
    expect(report.ledger.imbalance, summary).toBe(0);
    expect(report.audit.valid, summary).toBe(true);
    expect(report.dlq.left, summary).toBe(0);
    expect(report.queueLeft, summary).toBe(0);
    expect(report.ok, summary).toBe(true);
  }, 900_000);

  it('really was under chaos: crashes, exchange faults of several kinds, failed deliveries, every intent accounted for', () => {
    expect(report.executor.crashes).toBeGreaterThan(0);
    expect(report.executor.failedRecords).toBeGreaterThan(0);
    expect(Object.keys(report.faults.exchangeByKind).length).toBeGreaterThan(5);
    expect(report.faults.exchangeByKind['timeout-after-accept']).toBeGreaterThan(0);
    expect(report.intents.generated).toBe(150);
    const accounted = Object.values(report.outcomes).reduce((a, b) => a + b, 0);
    expect(accounted).toBe(report.intents.total);
    expect(report.outcomes.FILLED).toBeGreaterThan(100);
    // Every fill is an exchange order; a refused placement may leave one more (rejected there too).
    expect(report.exchangeOrders).toBeGreaterThanOrEqual(report.outcomes.FILLED ?? 0);
    expect(report.exchangeOrders).toBeLessThanOrEqual((report.outcomes.FILLED ?? 0) + (report.outcomes.REJECTED ?? 0));
  });

  it('refuses bad soak command lines with VALIDATION_FAILED', () => {
    for (const argv of [['--intents', '0'], ['--intents', '1.5'], ['--intents', 'many'], ['--crash-rate', '1.1'], ['--fault-rate', 'NaN'], ['--workers', '0'], ['--seed', ''], ['--turbo'], ['--fee-asset', 'bnb'], ['--fee-asset', '']]) {
      expect(() => parseSoakArgs(argv), argv.join(' ')).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    }
    expect(parseSoakArgs(['--intents', '10000', '--crash-rate', '0.1', '--fault-rate', '0.2', '--seed', 's', '--json'])).toMatchObject({ intents: 10_000, crashRate: 0.1, faultRate: 0.2, seed: 's', json: true });
    expect(parseSoakArgs([]).feeAsset).toBe('quote');
    expect(parseSoakArgs(['--fee-asset', 'BNB']).feeAsset).toBe('BNB');
    expect(parseSoakArgs(['--fee-asset', 'base']).feeAsset).toBe('base');
  });
});
