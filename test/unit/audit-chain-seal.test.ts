/**
 * `sealRecord` hashes the content's canonical text built around the data's own canonical text
 * when nothing is redacted. Property: whatever the data, the record is the one the plain rule
 * gives: data = redact(JSON.parse(canonicalJson(data))), hash = hashRecord(record).
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, GENESIS_HASH, hashRecord, isSecretKey, redact, sealRecord, type AuditContent, type ChainHead, type ChainedRecord } from '../../shared/domain/audit-chain.js';

/**
 * The sealing as it was before it copied the data in the same walk as its canonical text: the
 * reference the one-walk sealing must match byte for byte (text, hash, record).
 */
function referenceSeal(stream: string, prev: ChainHead | null, entry: { type: string; correlationId?: string; data: Readonly<Record<string, unknown>> }, at: string, batch?: number): ChainedRecord {
  const holdsSecret = (value: unknown): boolean => {
    if (Array.isArray(value)) return value.some(holdsSecret);
    if (value === null || typeof value !== 'object') return false;
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return false;
    for (const k in value) if (Object.hasOwn(value, k) && (isSecretKey(k) || holdsSecret((value as Record<string, unknown>)[k]))) return true;
    return false;
  };
  const parsed = JSON.parse(canonicalJson(entry.data)) as Record<string, unknown>;
  const data = holdsSecret(parsed) ? redact(parsed) : parsed;
  const content: AuditContent = {
    stream,
    seq: (prev?.seq ?? 0) + 1,
    at,
    type: entry.type,
    ...(entry.correlationId === undefined ? {} : { correlationId: entry.correlationId }),
    data,
    prevHash: prev?.hash ?? GENESIS_HASH,
    ...(batch === undefined ? {} : { batch }),
  };
  return { ...content, hash: createHash('sha256').update(canonicalJson(content), 'utf8').digest('hex') };
}

const key = fc.oneof(fc.constantFrom('a', 'b', 'Z', '10', '9', 'é', 'apiKey', 'api_key', 'fencingToken', 'token', 'SESSION-TOKEN', 'symbol', 'data', 'at', 'seq'), fc.string({ maxLength: 6 }));
const leaf = fc.oneof(fc.string({ maxLength: 8 }), fc.double(), fc.integer(), fc.boolean(), fc.constant(null), fc.constant(undefined), fc.date({ noInvalidDate: true }));
const { value } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, leaf, tie('object'), fc.array(tie('value'), { maxLength: 3 })),
  object: fc.dictionary(key, tie('value'), { maxKeys: 4, noNullPrototype: true }),
}));
const data = fc.dictionary(key, value, { maxKeys: 5, noNullPrototype: true });

describe('sealRecord', () => {
  it('gives the record and hash of the plain rule for any data, redacted or not', () => {
    fc.assert(
      fc.property(
        data,
        fc.option(fc.string({ maxLength: 8 }), { nil: undefined }),
        fc.option(fc.nat({ max: 40 }), { nil: undefined }),
        fc.option(fc.record({ seq: fc.nat({ max: 1000 }), hash: fc.stringMatching(/^[0-9a-f]{64}$/) }), { nil: null }),
        fc.string({ maxLength: 10 }),
        (raw, correlationId, batch, prev, type) => {
          const sealed = sealRecord('orders/x"y', prev, { type, ...(correlationId === undefined ? {} : { correlationId }), data: raw }, '2025-01-01T00:00:00.000Z', batch);
          const plainData = redact(JSON.parse(canonicalJson(raw)) as Record<string, unknown>);
          expect(sealed.data).toEqual(plainData);
          expect(canonicalJson(sealed.data)).toBe(canonicalJson(plainData));
          expect(sealed.prevHash).toBe(prev?.hash ?? GENESIS_HASH);
          expect(sealed.seq).toBe((prev?.seq ?? 0) + 1);
          expect(sealed.batch).toBe(batch);
          expect(sealed.correlationId).toBe(correlationId);
          expect(sealed.hash).toBe(hashRecord(sealed));
        },
      ),
      { numRuns: 400 },
    );
  });

  it('seals byte for byte as the reference sealing: the same record, key order and hash', () => {
    const odd = fc.anything({ maxDepth: 2, withBoxedValues: true, withDate: true, withMap: true, withNullPrototype: true, withTypedArray: true });
    fc.assert(
      fc.property(
        fc.dictionary(key, fc.oneof(value, odd), { maxKeys: 6, noNullPrototype: true }),
        fc.option(fc.string({ maxLength: 8 }), { nil: undefined }),
        fc.option(fc.nat({ max: 40 }), { nil: undefined }),
        fc.option(fc.record({ seq: fc.nat({ max: 1000 }), hash: fc.stringMatching(/^[0-9a-f]{64}$/) }), { nil: null }),
        (raw, correlationId, batch, prev) => {
          const entry = { type: 'order.state', ...(correlationId === undefined ? {} : { correlationId }), data: raw };
          let expected: ChainedRecord;
          try {
            expected = referenceSeal('symbol:BTC/USDT', prev, entry, '2025-01-01T00:00:00.000Z', batch);
          } catch (error) {
            expect(() => sealRecord('symbol:BTC/USDT', prev, entry, '2025-01-01T00:00:00.000Z', batch)).toThrow((error as Error).constructor as ErrorConstructor);
            return;
          }
          const sealed = sealRecord('symbol:BTC/USDT', prev, entry, '2025-01-01T00:00:00.000Z', batch);
          expect(JSON.stringify(sealed)).toBe(JSON.stringify(expected));
          expect(sealed.hash).toBe(expected.hash);
          expect(canonicalJson(sealed)).toBe(canonicalJson(expected));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('hashes text outside ASCII as the reference does: accents, astral characters, lone surrogates', () => {
    const entry = { type: 'order.state', correlationId: 'é\ud83d\ude00', data: { note: 'café 😀', lone: '\ud800x', tail: 'x\udfff', 'clé': ['\u0000\u001f'] } };
    const sealed = sealRecord('symbol:ÉTH/USDT', null, entry, '2025-01-01T00:00:00.000Z', 3);
    expect(JSON.stringify(sealed)).toBe(JSON.stringify(referenceSeal('symbol:ÉTH/USDT', null, entry, '2025-01-01T00:00:00.000Z', 3)));
  });

  it('seals data with a __proto__ key or a hole as the reference does (kept as an own member; a hole throws)', () => {
    for (const data of [JSON.parse('{"a":{"__proto__":{"x":1}},"b":2}'), JSON.parse('{"__proto__":[1],"apiKey":"k","c":{"__proto__":3}}')] as Record<string, unknown>[]) {
      const sealed = sealRecord('s', null, { type: 't', data }, '2025-01-01T00:00:00.000Z');
      const expected = referenceSeal('s', null, { type: 't', data }, '2025-01-01T00:00:00.000Z');
      expect(JSON.stringify(sealed)).toBe(JSON.stringify(expected));
      expect(canonicalJson(sealed)).toBe(canonicalJson(expected));
    }
    // eslint-disable-next-line no-sparse-arrays
    expect(() => sealRecord('s', null, { type: 't', data: { a: [1, , 2] } }, '2025-01-01T00:00:00.000Z')).toThrow(SyntaxError);
  });

  it('drops credential-named keys at every depth and hashes what it keeps', () => {
    const sealed = sealRecord('s', null, { type: 't', data: { apiKey: 'k', nested: [{ session_token: 'x', fencingToken: 3 }], keep: 1 } }, '2025-01-01T00:00:00.000Z');
    expect(sealed.data).toEqual({ nested: [{ fencingToken: 3 }], keep: 1 });
    expect(sealed.hash).toBe(hashRecord(sealed));
  });
});
