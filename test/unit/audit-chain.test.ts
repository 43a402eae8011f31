import { describe, expect, it } from 'vitest';
import {
  GENESIS_HASH,
  canonicalJson,
  hashRecord,
  isSecretKey,
  redact,
  sealRecord,
  verifyChain,
  type ChainedRecord,
} from '../../shared/domain/audit-chain.js';

const AT = '2025-01-01T00:00:00.000Z';

/** A valid chain of `n` records on `stream`. */
function chain(n: number, stream = 's'): ChainedRecord[] {
  const records: ChainedRecord[] = [];
  for (let i = 0; i < n; i += 1) {
    const prev = records.at(-1) ?? null;
    records.push(sealRecord(stream, prev, { type: 'intent.accepted', correlationId: `c${i}`, data: { i, symbol: 'BTC/USDT' } }, AT));
  }
  return records;
}

describe('Function: canonicalJson', () => {
  it('gives the same text whatever the key order, at every depth', () => {
    // Prepare
    const a = { b: 1, a: { y: [1, { q: 1, p: 2 }], x: 'v' } };
    const b = { a: { x: 'v', y: [1, { p: 2, q: 1 }] }, b: 1 };

    // Act & Assess
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(canonicalJson(a)).toBe('{"a":{"x":"v","y":[1,{"p":2,"q":1}]},"b":1}');
  });

  it('sorts integer-like keys as strings, not in JavaScript property order', () => {
    expect(canonicalJson({ 10: 'a', 9: 'b', x: 'c' })).toBe('{"10":"a","9":"b","x":"c"}');
  });

  it('drops undefined members and serialises dates as JSON does', () => {
    expect(canonicalJson({ a: undefined, d: new Date(AT), n: null })).toBe(`{"d":"${AT}","n":null}`);
  });

  it('refuses cyclic data', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(TypeError);
  });
});

describe('Function: hashRecord', () => {
  it('is a 64-character hex SHA-256 that changes when any hashed field changes', () => {
    // Prepare
    const [record] = chain(1);
    if (!record) throw new Error('no record');
    const variants = [
      { ...record, stream: 't' },
      { ...record, seq: 2 },
      { ...record, at: '2025-01-01T00:00:00.001Z' },
      { ...record, type: 'order.sent' },
      { ...record, correlationId: 'other' },
      { ...record, data: { ...record.data, i: 1 } },
      { ...record, prevHash: 'f'.repeat(64) },
    ];

    // Act
    const hashes = new Set(variants.map(hashRecord));

    // Assess
    expect(hashRecord(record)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashRecord(record)).toBe(record.hash);
    expect(hashes.size).toBe(variants.length);
    expect(hashes.has(record.hash)).toBe(false);
  });
});

describe('Function: sealRecord', () => {
  it('starts a stream at seq 1 on the genesis hash and links each record to the one before', () => {
    const [first, second] = chain(2);
    expect(GENESIS_HASH).toBe('0'.repeat(64));
    expect(first).toMatchObject({ seq: 1, prevHash: GENESIS_HASH });
    expect(second).toMatchObject({ seq: 2, prevHash: first?.hash });
  });

  it('stores no credential-named keys and hashes the redacted data', () => {
    // Act
    const record = sealRecord('s', null, { type: 't', data: { apiKey: 'k', nested: { secret: 'x', fencingToken: 7 } } }, AT);

    // Assess
    expect(record.data).toEqual({ nested: { fencingToken: 7 } });
    expect(hashRecord(record)).toBe(record.hash);
  });

  it('normalises data to plain JSON so the stored form hashes the same', () => {
    const record = sealRecord('s', null, { type: 't', data: { when: new Date(AT), gone: undefined } }, AT);
    expect(record.data).toEqual({ when: AT });
    expect(hashRecord(JSON.parse(JSON.stringify(record)) as ChainedRecord)).toBe(record.hash);
  });
});

describe('Function: redact', () => {
  it('drops api keys, secrets, passwords, passphrases, private keys and bearer tokens at every depth', () => {
    // Prepare
    const data = {
      apiKey: 1,
      api_key: 2,
      API_SECRET: 3,
      password: 4,
      passphrase: 5,
      privateKey: 6,
      accessToken: 7,
      credentials: 8,
      list: [{ secretAccessKey: 9, keep: true }],
      symbol: 'BTC/USDT',
    };

    // Act
    const result = redact(data);

    // Assess
    expect(result).toEqual({ list: [{ keep: true }], symbol: 'BTC/USDT' });
    expect(data.apiKey).toBe(1);
  });

  it('keeps fencing tokens and lock tokens, which are not secrets', () => {
    expect(redact({ fencingToken: 3, token: 4, fence: 5 })).toEqual({ fencingToken: 3, token: 4, fence: 5 });
    expect(isSecretKey('fencingToken')).toBe(false);
    expect(isSecretKey('api-key')).toBe(true);
  });
});

describe('Function: verifyChain', () => {
  it('accepts an intact chain and an empty stream', () => {
    const records = chain(5);
    expect(verifyChain(records)).toBeNull();
    expect(verifyChain(records, { seq: 5, hash: records[4]?.hash ?? '' })).toBeNull();
    expect(verifyChain([], null)).toBeNull();
  });

  it('accepts records given in any order', () => {
    expect(verifyChain(chain(4).reverse())).toBeNull();
  });

  it('names an edited record by its seq', () => {
    // Prepare
    const records = chain(5);
    const edited = records.map((r) => (r.seq === 3 ? { ...r, data: { ...r.data, symbol: 'ETH/USDT' } } : r));

    // Act & Assess
    expect(verifyChain(edited)).toMatchObject({ seq: 3, kind: 'edited' });
  });

  it('names the successor of a record replaced with a recomputed hash as a broken link', () => {
    // Prepare
    const records = chain(5);
    const replaced = records.map((r) => {
      if (r.seq !== 3) return r;
      const forged = { ...r, data: { forged: true } };
      return { ...forged, hash: hashRecord(forged) };
    });

    // Act & Assess
    expect(verifyChain(replaced)).toMatchObject({ seq: 4, kind: 'broken-link' });
  });

  it('names a deleted middle record as missing', () => {
    const records = chain(5).filter((r) => r.seq !== 2);
    expect(verifyChain(records)).toMatchObject({ seq: 2, kind: 'missing' });
  });

  it('detects swapped records as a broken link', () => {
    // Prepare: records 2 and 3 swap contents but keep their seqs re-hashed
    const records = chain(4);
    const [r1, r2, r3, r4] = records;
    if (!r1 || !r2 || !r3 || !r4) throw new Error('short chain');
    const moved2 = { ...r3, seq: 2 };
    const moved3 = { ...r2, seq: 3 };
    const swapped = [r1, { ...moved2, hash: hashRecord(moved2) }, { ...moved3, hash: hashRecord(moved3) }, r4];

    // Act & Assess
    expect(verifyChain(swapped)).toMatchObject({ seq: 2, kind: 'broken-link' });
  });

  it('detects a deleted tail through the head pointer', () => {
    const records = chain(5);
    expect(verifyChain(records.slice(0, 4), { seq: 5, hash: records[4]?.hash ?? '' })).toMatchObject({ seq: 5, kind: 'tail-missing' });
    expect(verifyChain([], { seq: 2, hash: records[1]?.hash ?? '' })).toMatchObject({ seq: 1, kind: 'tail-missing' });
  });

  it('accepts one record past the head (an append not yet acknowledged) but not two', () => {
    const records = chain(5);
    const headAt = (seq: number) => ({ seq, hash: records[seq - 1]?.hash ?? '' });
    expect(verifyChain(records, headAt(4))).toBeNull();
    expect(verifyChain(records, headAt(3))).toMatchObject({ seq: 5, kind: 'beyond-head' });
  });

  it('detects a last record replaced with a recomputed hash through the head hash', () => {
    // Prepare
    const records = chain(3);
    const last = records[2];
    if (!last) throw new Error('short chain');
    const forged = { ...last, data: { forged: true } };
    const replaced = [...records.slice(0, 2), { ...forged, hash: hashRecord(forged) }];

    // Act & Assess
    expect(verifyChain(replaced, { seq: 3, hash: last.hash })).toMatchObject({ seq: 3, kind: 'head-mismatch' });
  });

  it('detects a deleted head pointer once a stream has more than one record', () => {
    expect(verifyChain(chain(1), null)).toBeNull();
    expect(verifyChain(chain(3), null)).toMatchObject({ seq: 3, kind: 'head-missing' });
  });

  it('rejects records of another stream or a repeated seq', () => {
    const records = chain(2);
    const other = chain(3, 'other')[2];
    if (!other) throw new Error('short chain');
    expect(verifyChain([...records, other])).toMatchObject({ seq: 3, kind: 'misplaced' });
    expect(verifyChain([...records, records[1] as ChainedRecord])).toMatchObject({ seq: 2, kind: 'misplaced' });
  });
});
