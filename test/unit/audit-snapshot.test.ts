/**
 * OPS-4: verify run against a log that is being written judges the log as of its first read of
 * the heads, so appends while it runs are not reported, and deletions and records written
 * outside the log still are.
 */
import { describe, expect, it } from 'vitest';
import { sealRecord, verifyChain, type ChainHead, type ChainedRecord } from '../../shared/domain/audit-chain.js';
import { snapshotOf } from '../../shared/domain/audit-snapshot.js';

const AT = '2026-12-01T00:00:00.000Z';

function chain(n: number): ChainedRecord[] {
  const records: ChainedRecord[] = [];
  for (let i = 0; i < n; i += 1) records.push(sealRecord('s', records.at(-1) ?? null, { type: 'intent.accepted', correlationId: `c${i}`, data: { i } }, AT));
  return records;
}
const headOf = (records: readonly ChainedRecord[], seq: number): ChainHead => ({ seq, hash: records[seq - 1]?.hash ?? '' });
const check = (records: readonly ChainedRecord[], before: ChainHead | null, after: ChainHead | null) => {
  const snapshot = snapshotOf(records, before, after);
  return verifyChain(snapshot.records, snapshot.head);
};

describe('Function: snapshotOf', () => {
  it('accepts records appended while verify ran, which the head read before them would call beyond the head', () => {
    const records = chain(8);
    expect(verifyChain(records, headOf(records, 3))?.kind).toBe('beyond-head');
    expect(check(records, headOf(records, 3), headOf(records, 8))).toBeNull();
  });

  it('accepts a stream that began while verify ran', () => {
    const records = chain(4);
    expect(verifyChain(records, null)?.kind).toBe('head-missing');
    expect(check(records, null, headOf(records, 4))).toBeNull();
  });

  it('still reports a deleted tail: the records end before the head read first', () => {
    const records = chain(6);
    expect(check(records.slice(0, 4), headOf(records, 6), headOf(records, 6))?.kind).toBe('tail-missing');
  });

  it('still reports records past both reads of the head: written outside the log', () => {
    const records = chain(9);
    expect(check(records, headOf(records, 3), headOf(records, 5))?.kind).toBe('missing');
    expect(check(records, headOf(records, 3), headOf(records, 3))?.kind).toBe('beyond-head');
  });

  it('still reports an edited record and a replaced head under concurrent appends', () => {
    const records = chain(6);
    const edited = records.map((r) => (r.seq === 2 ? { ...r, data: { i: 99 } } : r));
    expect(check(edited, headOf(records, 4), headOf(records, 6))?.kind).toBe('edited');
    expect(check(records, { seq: 4, hash: 'f'.repeat(64) }, headOf(records, 6))?.kind).toBe('head-mismatch');
  });

  it('accepts the one record a crash leaves past the head, as before', () => {
    const records = chain(5);
    expect(check(records, headOf(records, 4), headOf(records, 4))).toBeNull();
  });
});
