/**
 * `plainCopy` gives, in one walk, what writing the canonical text and reading it back gives:
 * property-tested against `canonicalJson` + `JSON.parse` on any value fast-check makes (Dates,
 * boxed values, Maps, typed arrays, sparse arrays, null prototypes, -0, NaN, `__proto__` keys).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, plainCopy } from '../../shared/domain/canonical-json.js';

const anyKey = (): boolean => true;

/** What `plainCopy` must equal: the text, then the text read back (or the throw of either). */
function reference(value: unknown): { text: string; value: unknown } | { error: unknown } {
  try {
    const text = canonicalJson(value);
    return { text, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { error };
  }
}

/** How many -0 numbers `value` holds at any depth. */
function negativeZeros(value: unknown): number {
  if (Object.is(value, -0)) return 1;
  if (value === null || typeof value !== 'object') return 0;
  return Object.values(value).reduce((n: number, member) => n + negativeZeros(member), 0);
}

const anything = fc.anything({
  maxDepth: 3,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withNullPrototype: true,
  withObjectString: true,
  withSparseArray: true,
  withTypedArray: true,
});

describe('Function: plainCopy', () => {
  it('gives the canonical text and the plain JSON read back from it, or leaves the value to that rule', () => {
    fc.assert(
      fc.property(anything, (value) => {
        const expected = reference(value);
        let copied;
        try {
          copied = plainCopy(value, anyKey);
        } catch (error) {
          // It throws only where the rule throws, with the same kind of error.
          expect('error' in expected).toBe(true);
          expect((error as Error).constructor).toBe(((expected as { error: Error }).error).constructor);
          return;
        }
        if (copied === undefined) return;
        expect('error' in expected).toBe(false);
        const { text, value: plain } = expected as { text: string; value: unknown };
        expect(copied.text).toBe(text);
        // Byte for byte, key order included, and the same structure.
        expect(JSON.stringify(copied.value)).toBe(JSON.stringify(plain));
        expect(copied.value).toStrictEqual(plain);
        // JSON.parse never gives -0 (which the comparisons above do not tell from 0).
        expect(negativeZeros(copied.value)).toBe(0);
      }),
      { numRuns: 2000 },
    );
  });

  it('copies every value that has no refused key, no __proto__ key and no hole', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), fc.constantFrom(-0, Number.NaN, Number.POSITIVE_INFINITY, undefined, new Date(0)), (json, odd) => {
        const value = { json, odd, list: [odd, json] };
        const copied = plainCopy(value, anyKey);
        const hasProto = canonicalJson(value).includes('"__proto__":');
        if (hasProto) return;
        expect(copied).toBeDefined();
        expect(copied?.text).toBe(canonicalJson(value));
        expect(copied?.value).toStrictEqual(JSON.parse(canonicalJson(value)));
      }),
      { numRuns: 500 },
    );
  });

  it('reads -0 as 0, NaN and infinities as null, drops undefined members and nulls undefined items', () => {
    const copied = plainCopy({ z: -0, n: Number.NaN, i: -Infinity, u: undefined, f: () => 1, a: [undefined, () => 1, Symbol('s')], d: new Date('2025-01-01T00:00:00.000Z') }, anyKey);
    expect(copied?.text).toBe('{"a":[null,null,null],"d":"2025-01-01T00:00:00.000Z","i":null,"n":null,"z":0}');
    expect(copied?.value).toStrictEqual({ a: [null, null, null], d: '2025-01-01T00:00:00.000Z', i: null, n: null, z: 0 });
    expect(Object.is((copied?.value as { z: number }).z, 0)).toBe(true);
  });

  it('leaves to the general rule a refused key, a __proto__ key and a sparse array', () => {
    expect(plainCopy({ a: { apiKey: 'k' } }, (key) => key !== 'apiKey')).toBeUndefined();
    expect(plainCopy(JSON.parse('{"x":{"__proto__":{"y":1}}}'), anyKey)).toBeUndefined();
    // eslint-disable-next-line no-sparse-arrays
    expect(plainCopy({ a: [1, , 2] }, anyKey)).toBeUndefined();
  });

  it('throws a TypeError on a cycle and on a BigInt, as canonicalJson does', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(() => plainCopy(cyclic, anyKey)).toThrow(TypeError);
    expect(() => plainCopy({ n: 1n }, anyKey)).toThrow(TypeError);
  });

  it('copies a value seen twice (not a cycle) both times', () => {
    const shared = { p: '1' };
    expect(plainCopy({ a: shared, b: [shared, shared] }, anyKey)?.value).toStrictEqual({ a: { p: '1' }, b: [{ p: '1' }, { p: '1' }] });
  });
});
