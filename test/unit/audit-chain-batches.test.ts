/**
 * OPS-4 / PERF-2: the audit chain's batches, pure. A batching writer moves the head pointer once
 * per batch; each of its records names (hashed) the head it followed, so `verifyChain` accepts an
 * unacknowledged batch past the head and still finds a deleted tail, a head moved back, a
 * deleted head and records appended outside the log.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MAX_UNACKNOWLEDGED, canonicalJson, hashRecord, sealRecord, verifyChain, type ChainHead, type ChainedRecord } from '../../shared/domain/audit-chain.js';

const AT = '2026-12-01T00:00:00.000Z';

/**
 * A chain written as batches: `sizes` records per batch; each record names the head position
 * reached by the batches before it (the writer acknowledged each batch before the next).
 */
function batches(sizes: readonly number[], stream = 's'): ChainedRecord[] {
  const records: ChainedRecord[] = [];
  let acknowledged = 0;
  for (const size of sizes) {
    for (let i = 0; i < size; i += 1) {
      records.push(sealRecord(stream, records.at(-1) ?? null, { type: 'order.sent', data: { n: records.length + 1 } }, AT, acknowledged));
    }
    acknowledged = records.length;
  }
  return records;
}

const headAt = (records: readonly ChainedRecord[], seq: number): ChainHead => ({ seq, hash: records[seq - 1]?.hash ?? '' });

describe('Function: verifyChain (batches)', () => {
  it('accepts a batch acknowledged by the head, and an unacknowledged one past it', () => {
    // Prepare: batches of 3 and 4; the head acknowledged the first only (the writer died before its second head update)
    const records = batches([3, 4]);

    // Act & Assess
    expect(verifyChain(records, headAt(records, 7))).toBeNull();
    expect(verifyChain(records, headAt(records, 3))).toBeNull();
    // A first batch of a new stream that no head acknowledged yet.
    expect(verifyChain(batches([5]), null)).toBeNull();
  });

  it('detects a truncated batch: its tail deleted after the head acknowledged it', () => {
    // Prepare: the second batch (4..7) was acknowledged, then its last two records deleted
    const records = batches([3, 4]);

    // Act
    const found = verifyChain(records.slice(0, 5), headAt(records, 7));

    // Assess
    expect(found).toMatchObject({ seq: 6, kind: 'tail-missing' });
  });

  it('detects a record deleted inside a batch, acknowledged or not', () => {
    const records = batches([3, 4]);
    const withoutFifth = records.filter((r) => r.seq !== 5);
    expect(verifyChain(withoutFifth, headAt(records, 7))).toMatchObject({ seq: 5, kind: 'missing' });
    expect(verifyChain(withoutFifth, headAt(records, 3))).toMatchObject({ seq: 5, kind: 'missing' });
  });

  it('detects the head pointer moved back below a head a stored record names', () => {
    // Prepare: three acknowledged batches; the pointer is set back to record 2 (its hash matches)
    const records = batches([2, 3, 2]);

    // Act
    const found = verifyChain(records, headAt(records, 2));

    // Assess: record 6 was written after the head had reached 5
    expect(found).toMatchObject({ seq: 6, kind: 'head-behind' });
  });

  it('detects a deleted head pointer once a record names a head', () => {
    expect(verifyChain(batches([2, 1]), null)).toMatchObject({ seq: 3, kind: 'head-missing' });
  });

  it('refuses more records past the head than one batch may hold', () => {
    // Prepare: one batch longer than a writer may leave unacknowledged
    const records = batches([MAX_UNACKNOWLEDGED + 1]);

    // Act & Assess
    expect(verifyChain(records, null)).toMatchObject({ seq: MAX_UNACKNOWLEDGED + 1, kind: 'beyond-head' });
    expect(verifyChain(batches([MAX_UNACKNOWLEDGED]), null)).toBeNull();
  });

  it('still refuses a second record past the head that belongs to no batch', () => {
    // Prepare: an acknowledged batch, then two records appended outside the log without the field
    const records = batches([3]);
    const fourth = sealRecord('s', records[2] ?? null, { type: 'x', data: {} }, AT);
    const fifth = sealRecord('s', fourth, { type: 'x', data: {} }, AT);

    // Act & Assess
    expect(verifyChain([...records, fourth], headAt(records, 3))).toBeNull();
    expect(verifyChain([...records, fourth, fifth], headAt(records, 3))).toMatchObject({ seq: 5, kind: 'beyond-head' });
  });

  it('detects an edited batch field through the hash, and a batch that does not precede its record', () => {
    // Prepare
    const records = batches([2, 2]);
    const third = records[2] as ChainedRecord;
    const edited = [...records.slice(0, 2), { ...third, batch: 0 }, ...records.slice(3)];
    const selfNamed = { ...third, batch: 3 };
    const resealed = [...records.slice(0, 2), { ...selfNamed, hash: hashRecord(selfNamed) }];

    // Act & Assess
    expect(verifyChain(edited, headAt(records, 4))).toMatchObject({ seq: 3, kind: 'edited' });
    expect(verifyChain(resealed, headAt(records, 2))).toMatchObject({ seq: 3, kind: 'misplaced' });
  });

  it('hashes a record without a batch exactly as before batches existed', () => {
    // Prepare: the same content sealed with and without the field
    const plain = sealRecord('s', null, { type: 'x', data: { a: 1 } }, AT);
    const batched = sealRecord('s', null, { type: 'x', data: { a: 1 } }, AT, 0);

    // Act & Assess: the hash of a record without the field covers exactly the fields it always had
    const before = createHash('sha256').update(canonicalJson({ stream: 's', seq: 1, at: AT, type: 'x', data: { a: 1 }, prevHash: '0'.repeat(64) })).digest('hex');
    expect(plain).not.toHaveProperty('batch');
    expect(plain.hash).toBe(before);
    expect(batched.hash).not.toBe(plain.hash);
    expect(hashRecord(batched)).toBe(batched.hash);
  });
});
