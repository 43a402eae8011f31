/**
 * OPS-6 / OPS-8: `ops export` writes orders, fills, positions, the ledger and the audit records
 * as JSON Lines and a trades CSV, within a time window, on the deployed transport (the emulators
 * behind the SDK endpoint variables); `ops import` restores the export into a fresh stack and the
 * ledger and positions come back equal.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../local-runtime/runtime.js';
import { runOps, runOpsCommandLine } from '../../scripts/ops.js';
import { sdkEnvFor, withSdkEnv, writeLocalOutputs } from '../support/deployed-env.js';
import { ManualClock, startTestStack, type TestStack } from '../support/local-runtime.js';

const MINUTE = 60_000;
const lines = (file: string) => readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>);

describe('ops export and import', () => {
  let source: TestStack;
  let fresh: TestStack;
  let runtime: LocalRuntime;
  let outputs: ReturnType<typeof writeLocalOutputs>;
  let dir: string;
  const clock = new ManualClock(new Date(Date.now() - 30 * MINUTE));
  const out: string[] = [];
  const deployed = (...argv: string[]) => withSdkEnv(sdkEnvFor(source.stack), () => runOpsCommandLine(['--outputs', outputs.file, ...argv], (l) => out.push(l)));

  beforeAll(async () => {
    source = await startTestStack();
    fresh = await startTestStack();
    runtime = source.runtime({ clock });
    outputs = writeLocalOutputs(source.stack);
    dir = mkdtempSync(join(tmpdir(), 'tw-export-'));
    // Trades: a tiny drop threshold buys on most symbols; several cycles fill and sell some.
    await runOps(['set', 'strategies.price-drop.params.dropPercent', '0.01'], runtime, () => undefined);
    for (let i = 0; i < 6; i += 1) {
      clock.advance(MINUTE);
      await runtime.scan(clock.now());
      await runtime.drain({ visibilityTimeoutSeconds: 0 });
    }
  }, 240_000);

  afterAll(async () => {
    outputs?.remove();
    rmSync(dir, { recursive: true, force: true });
    await source?.stop();
    await fresh?.stop();
  });

  it('writes every order, fill, position, the ledger and the audit records, and a trades CSV', async () => {
    expect(await deployed('export', '--out', join(dir, 'all'))).toBe(0);
    const summary = JSON.parse(out.at(-1) ?? '{}') as { orders: number; fills: number; positions: number; audit: number };

    const c = runtime.containers.health;
    const book = await c.accounts.get('USDT');
    const orders = lines(join(dir, 'all', 'orders.jsonl'));
    expect(orders.length).toBe(summary.orders);
    expect(orders.length).toBeGreaterThan(0);
    expect(new Set(orders.map((o) => o['id'])).size).toBe(orders.length);
    expect(lines(join(dir, 'all', 'ledger.jsonl'))).toEqual([JSON.parse(JSON.stringify(book))]);
    expect(lines(join(dir, 'all', 'positions.jsonl'))).toEqual(Object.values(book?.positions ?? {}).map((p) => JSON.parse(JSON.stringify(p)) as unknown));
    const verification = await c.audit.verify();
    expect(lines(join(dir, 'all', 'audit.jsonl')).length).toBe(verification.records);

    const fills = lines(join(dir, 'all', 'fills.jsonl'));
    expect(fills.length).toBe(summary.fills);
    expect(fills.length).toBeGreaterThan(0);
    const csv = readFileSync(join(dir, 'all', 'trades.csv'), 'utf8');
    expect(csv.split('\n')[0]).toBe('time,symbol,side,amount,price,fee,fee currency,order id');
    const rows = parse(csv, { columns: true }) as Record<string, string>[];
    expect(rows.length).toBe(fills.length);
    for (const [i, row] of rows.entries()) {
      const fill = fills[i] ?? {};
      expect(row).toEqual({ time: fill['time'], symbol: fill['symbol'], side: fill['side'], amount: fill['amount'], price: fill['price'], fee: fill['fee'], 'fee currency': fill['feeCurrency'], 'order id': fill['orderId'] });
      expect(fill['feeCurrency']).toBe('USDT');
    }
  });

  it('takes a time window: only orders and audit records inside it', async () => {
    const orders = lines(join(dir, 'all', 'orders.jsonl'));
    const times = orders.map((o) => String(o['createdAt'])).sort();
    const middle = times[Math.floor(times.length / 2)] ?? '';
    out.length = 0;
    expect(await deployed('export', '--out', join(dir, 'late'), '--from', middle)).toBe(0);
    const late = lines(join(dir, 'late', 'orders.jsonl'));
    expect(late.length).toBe(times.filter((t) => t >= middle).length);
    expect(late.every((o) => String(o['createdAt']) >= middle)).toBe(true);
    expect(lines(join(dir, 'late', 'audit.jsonl')).every((r) => String(r['at']) >= middle)).toBe(true);

    expect(await deployed('export', '--out', join(dir, 'future'), '--from', '2999-01-01')).toBe(0);
    expect(lines(join(dir, 'future', 'orders.jsonl'))).toEqual([]);
  });

  it('restores into a fresh stack: ledger, positions and orders equal, the audit chain valid', async () => {
    const target = fresh.runtime();
    expect(await runOps(['import', join(dir, 'all')], target, () => undefined)).toBe(0);

    const before = await runtime.containers.health.accounts.get('USDT');
    const after = await target.containers.health.accounts.get('USDT');
    expect(after).toEqual(before);
    expect(after?.positions).toEqual(before?.positions);
    for (const o of lines(join(dir, 'all', 'orders.jsonl'))) expect(await target.containers.health.orders.get(String(o['id']))).toEqual(o);
    const audit = await target.containers.health.audit.verify();
    expect(audit).toMatchObject({ valid: true, records: (await runtime.containers.health.audit.verify()).records });

    // A second import refuses to replace anything.
    await expect(runOps(['import', join(dir, 'all')], target, () => undefined)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(await target.containers.health.accounts.get('USDT')).toEqual(before);
  });

  it('refuses a bad window, an existing directory and a directory that is not an export', async () => {
    await expect(runOps(['export', '--out', join(dir, 'x'), '--from', 'yesterday'], runtime)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(runOps(['export', '--out', join(dir, 'x'), '--from', '2026-02-01', '--to', '2026-01-01'], runtime)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(runOps(['export', '--out', join(dir, 'all')], runtime)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(runOps(['export'], runtime)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(runOps(['import', tmpdir()], fresh.runtime())).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});
