/**
 * The backtest's audit log numbers and counts the records the live use cases append, without
 * sealing them (backtest/memory-ports.ts): it keeps no record, so there is no chain to check.
 * What the live log would seal is proven here instead: every record a backtest appends seals into
 * a chain that verifies (OPS-4), and the log's numbering agrees with that chain.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBacktest, type BacktestSettings } from '../../../backtest/engine.js';
import { MemoryAuditLog } from '../../../backtest/memory-ports.js';
import { sealRecords, verifyChain, type ChainHead, type ChainedRecord } from '../../../shared/domain/audit-chain.js';
import { ValidationError } from '../../../shared/domain/errors.js';
import type { AuditEntry } from '../../../shared/ports/audit-log.js';
import { writeCandleFile } from '../../../testkit/candle-series.js';
import { backtestSettings } from '../../support/backtest-settings.js';

const T0 = Date.UTC(2026, 0, 1);
const AT = new Date(T0);

describe('Class: MemoryAuditLog', () => {
  describe('Method: append', () => {
    it('numbers each stream on its own, a batch as consecutive records, and resolves to the last one', async () => {
      const log = new MemoryAuditLog();
      const first = await log.append('symbol:BTC/USDT', { type: 'intent.accepted', correlationId: 'c1', data: { orderId: 'o1' } }, AT);
      const batch = await log.append('symbol:BTC/USDT', [{ type: 'budget.reserved', data: { orderId: 'o1' } }, { type: 'order.sent', correlationId: 'c1', data: { orderId: 'o1', status: 'open' } }], AT);
      const other = await log.append('symbol:ETH/USDT', { type: 'intent.accepted', data: { orderId: 'o2' } }, AT);

      expect(first).toMatchObject({ stream: 'symbol:BTC/USDT', seq: 1, type: 'intent.accepted', correlationId: 'c1', at: AT.toISOString() });
      expect(batch).toMatchObject({ stream: 'symbol:BTC/USDT', seq: 3, type: 'order.sent', correlationId: 'c1', data: { orderId: 'o1', status: 'open' } });
      expect(other).toMatchObject({ stream: 'symbol:ETH/USDT', seq: 1 });
      expect(Object.fromEntries(log.counts)).toEqual({ 'intent.accepted': 2, 'budget.reserved': 1, 'order.sent': 1 });
      expect(await log.verify()).toEqual({ valid: true, streams: 2, records: 4, checkpoints: 0, problems: [] });
    });

    it('refuses an empty batch with a coded error and counts nothing', async () => {
      const log = new MemoryAuditLog();
      await expect(log.append('symbol:BTC/USDT', [], AT)).rejects.toBeInstanceOf(ValidationError);
      expect(log.counts.size).toBe(0);
      expect(await log.verify()).toMatchObject({ streams: 0, records: 0 });
    });
  });
});

describe('The records a backtest appends', () => {
  let dir: string;
  const settings = (over: Partial<BacktestSettings>): Promise<BacktestSettings> => backtestSettings(dir, over);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tw-bt-audit-'));
    mkdirSync(dir, { recursive: true });
    await writeCandleFile(dir, { symbol: 'BTC/USDT', start: T0, candles: 1440, startPrice: 60000 });
    await writeCandleFile(dir, { symbol: 'ETH/USDT', start: T0, candles: 1440, startPrice: 3000 });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(() => vi.restoreAllMocks());

  const variants: ReadonlyArray<{ readonly name: string; readonly over: Partial<BacktestSettings> }> = [
    { name: 'fees in the quote currency', over: {} },
    { name: 'partial fills (a thin volume share)', over: { volumeSharePercent: '0.0005' } },
    { name: 'fees in BNB from a holding', over: { feeAsset: 'BNB', initialFeeAsset: '5', feeAssetPrice: '300' } },
  ];

  it.each(variants)('seal into chains that verify, numbered as the log numbered them: $name', async ({ over }) => {
    const appends: Array<{ stream: string; entries: readonly AuditEntry[]; at: Date; seq: Promise<number> }> = [];
    const append = MemoryAuditLog.prototype.append;
    vi.spyOn(MemoryAuditLog.prototype, 'append').mockImplementation(function (this: MemoryAuditLog, stream, entry, at) {
      const result = append.call(this, stream, entry, at);
      appends.push({ stream, entries: Array.isArray(entry) ? entry : [entry as AuditEntry], at, seq: result.then((r) => r.seq) });
      return result;
    });

    const { report, final } = await runBacktest(await settings(over));

    // Sealed as the live log seals them: one chain per stream, each append after the last.
    const chains = new Map<string, { head: ChainHead | null; records: ChainedRecord[] }>();
    const types = new Set<string>();
    for (const { stream, entries, at, seq } of appends) {
      const chain = chains.get(stream) ?? { head: null, records: [] };
      const sealed = sealRecords(stream, chain.head, entries, at.toISOString());
      chain.records.push(...sealed);
      chain.head = { seq: sealed.at(-1)!.seq, hash: sealed.at(-1)!.hash };
      chains.set(stream, chain);
      expect(await seq).toBe(chain.head.seq);
      for (const e of entries) types.add(e.type);
    }
    for (const [stream, chain] of chains) expect(verifyChain(chain.records, chain.head), stream).toBeNull();
    expect(report.totals.trades).toBeGreaterThan(0);
    expect([...chains.values()].reduce((n, c) => n + c.records.length, 0)).toBe(final.auditRecords);
    for (const type of ['intent.accepted', 'order.submitting', 'budget.reserved', 'order.sent', 'order.filled']) expect(types.has(type), type).toBe(true);
  });
});
