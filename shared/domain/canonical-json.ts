/**
 * Canonical JSON (the text the audit chain hashes, audit-chain.ts) and, in the same walk, the
 * plain JSON copy of a value: what `JSON.parse` of its canonical text gives, built without
 * writing the text out and reading it back (the audit log seals every record this way, OPS-4).
 */

/**
 * Canonical JSON: object keys sorted by UTF-16 code units at every depth, no whitespace,
 * values serialised as `JSON.stringify` does (so `undefined` members are dropped and `toJSON`,
 * e.g. of a Date, is honoured). Equal data gives equal text whatever the key order.
 * @throws TypeError for values JSON cannot represent (BigInt, cycles).
 */
export function canonicalJson(value: unknown): string {
  return serialise(value, new Set()) ?? 'null';
}

function serialise(value: unknown, ancestors: Set<object>): string | undefined {
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return serialise((value as { toJSON(): unknown }).toJSON(), ancestors);
  }
  if (value === null || typeof value !== 'object') return JSON.stringify(value) as string | undefined;
  if (ancestors.has(value)) throw new TypeError('canonicalJson: cyclic structure');
  ancestors.add(value);
  try {
    if (Array.isArray(value)) {
      return `[${value.map((item) => serialise(item, ancestors) ?? 'null').join(',')}]`;
    }
    const members: string[] = [];
    for (const key of Object.keys(value).sort()) {
      const text = serialise((value as Record<string, unknown>)[key], ancestors);
      if (text !== undefined) members.push(`${JSON.stringify(key)}:${text}`);
    }
    return `{${members.join(',')}}`;
  } finally {
    ancestors.delete(value);
  }
}

/** A value's canonical text and its plain copy (`JSON.parse(text)`). */
export interface PlainCopy {
  readonly text: string;
  readonly value: unknown;
}

/**
 * `{ text: canonicalJson(value), value: JSON.parse(text) }` in one walk, or undefined when the
 * walk meets what it leaves to that general rule: an object key `copyKey` refuses, a
 * `__proto__` key (an assignment would set the copy's prototype) or a hole in an array (whose
 * canonical text is not JSON). Values are read in the same order as `canonicalJson` reads them.
 * @throws TypeError where `canonicalJson` throws (BigInt, cycles).
 */
export function plainCopy(value: unknown, copyKey: (key: string) => boolean): PlainCopy | undefined {
  const walk = new PlainWalk(copyKey);
  const copy = walk.value(value);
  if (copy === UNCOPIED) return undefined;
  if (copy === DROPPED) return { text: 'null', value: null };
  return { text: walk.text, value: copy };
}

/** A member `JSON.stringify` leaves out (undefined, a function, a symbol). */
const DROPPED = Symbol('dropped');
/** Met something `plainCopy` leaves to the general rule. */
const UNCOPIED = Symbol('uncopied');

/** Object keys as JSON text, by key (data uses few distinct keys); bounded all the same. */
const QUOTED_KEYS_MAX = 4096;
const quotedKeys = new Map<string, string>();

function quotedKey(key: string): string {
  let quoted = quotedKeys.get(key);
  if (quoted === undefined) {
    quoted = JSON.stringify(key);
    if (quotedKeys.size >= QUOTED_KEYS_MAX) quotedKeys.clear();
    quotedKeys.set(key, quoted);
  }
  return quoted;
}

class PlainWalk {
  text = '';
  readonly #ancestors: object[] = [];
  readonly #copyKey: (key: string) => boolean;
  constructor(copyKey: (key: string) => boolean) {
    this.#copyKey = copyKey;
  }

  /** Appends `input`'s canonical text and returns its copy, DROPPED (nothing appended) or UNCOPIED. */
  value(input: unknown): unknown {
    switch (typeof input) {
      case 'string':
        this.text += JSON.stringify(input);
        return input;
      case 'number':
        // As JSON.parse reads JSON.stringify's text: -0 becomes 0, NaN and the infinities null.
        if (!Number.isFinite(input)) {
          this.text += 'null';
          return null;
        }
        this.text += JSON.stringify(input);
        return input === 0 ? 0 : input;
      case 'boolean':
        this.text += input ? 'true' : 'false';
        return input;
      case 'object':
        if (input === null) {
          this.text += 'null';
          return null;
        }
        if (typeof (input as { toJSON?: unknown }).toJSON === 'function') return this.value((input as { toJSON(): unknown }).toJSON());
        return this.#object(input);
      case 'bigint':
        // JSON.stringify's own TypeError, as canonicalJson throws it.
        return JSON.stringify(input);
      default:
        return DROPPED;
    }
  }

  #object(input: object): unknown {
    const ancestors = this.#ancestors;
    if (ancestors.includes(input)) throw new TypeError('canonicalJson: cyclic structure');
    ancestors.push(input);
    try {
      return Array.isArray(input) ? this.#array(input) : this.#members(input as Record<string, unknown>);
    } finally {
      ancestors.pop();
    }
  }

  #array(input: readonly unknown[]): unknown {
    const copy: unknown[] = [];
    this.text += '[';
    for (let i = 0; i < input.length; i += 1) {
      if (!(i in input)) return UNCOPIED;
      if (i > 0) this.text += ',';
      const item = this.value(input[i]);
      if (item === UNCOPIED) return UNCOPIED;
      if (item === DROPPED) {
        this.text += 'null';
        copy.push(null);
      } else copy.push(item);
    }
    this.text += ']';
    return copy;
  }

  #members(input: Record<string, unknown>): unknown {
    const copy: Record<string, unknown> = {};
    let first = true;
    this.text += '{';
    for (const key of Object.keys(input).sort()) {
      if (key === '__proto__' || !this.#copyKey(key)) return UNCOPIED;
      const before = this.text;
      this.text += first ? `${quotedKey(key)}:` : `,${quotedKey(key)}:`;
      const member = this.value(input[key]);
      if (member === UNCOPIED) return UNCOPIED;
      if (member === DROPPED) {
        this.text = before;
        continue;
      }
      copy[key] = member;
      first = false;
    }
    this.text += '}';
    return copy;
  }
}
