/**
 * The audit hash chain (OPS-4), pure. Each record of a stream carries the SHA-256 of its own
 * canonical content and the hash of the record before it (`GENESIS_HASH` for the first), so an
 * edit, a deletion, an insertion or a reordering breaks the chain where it happened.
 *
 * Limits, by construction: the chain is not signed, so whoever may write the audit table could
 * append a well-formed record at the end; append-only IAM (SEC-2) is what prevents that. The
 * head pointer (kept outside the audit table) is what makes a deleted tail visible.
 */
import { createHash } from 'node:crypto';

/** `prevHash` of the first record of every stream. */
export const GENESIS_HASH = '0'.repeat(64);

/** The hashed fields of a record: everything except `hash` itself. */
export interface AuditContent {
  readonly stream: string;
  readonly seq: number;
  /** ISO-8601 instant. */
  readonly at: string;
  readonly type: string;
  readonly correlationId?: string;
  readonly data: Readonly<Record<string, unknown>>;
  readonly prevHash: string;
}

/** A record as stored: its content and the hash of that content. */
export interface ChainedRecord extends AuditContent {
  readonly hash: string;
}

/** Where a stream's head pointer says the chain ends. */
export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

export type ChainProblemKind =
  /** The record's content does not hash to its `hash`: it was edited. */
  | 'edited'
  /** `prevHash` is not the hash of the record before: inserted, replaced or reordered. */
  | 'broken-link'
  /** A sequence number is missing: a record was deleted. */
  | 'missing'
  /** A sequence number that is not a positive integer, repeats or belongs to another stream. */
  | 'misplaced'
  /** The head pointer is past the last record: the tail was deleted. */
  | 'tail-missing'
  /** The record at the head pointer does not have the hash the head recorded. */
  | 'head-mismatch'
  /** More than one record past the head pointer: appended outside the audit log. */
  | 'beyond-head'
  /** Several records but no head pointer: the pointer was deleted. */
  | 'head-missing';

export interface ChainProblem {
  /** The first sequence number at which the stream is broken. */
  readonly seq: number;
  readonly kind: ChainProblemKind;
  readonly detail: string;
}

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

/** SHA-256 (hex) of the canonical JSON of a record's content; `hash`, if present, is ignored. */
export function hashRecord(record: AuditContent): string {
  const content: AuditContent = {
    stream: record.stream,
    seq: record.seq,
    at: record.at,
    type: record.type,
    ...(record.correlationId === undefined ? {} : { correlationId: record.correlationId }),
    data: record.data,
    prevHash: record.prevHash,
  };
  return createHash('sha256').update(canonicalJson(content), 'utf8').digest('hex');
}

/**
 * Key names (compared without case, `_` or `-`) that hold credentials. `fencingToken` and a
 * lock's `token` are not secrets and are kept; bearer-style tokens are dropped.
 */
const SECRET_KEY = /secret|password|passwd|passphrase|privatekey|apikey|credential|(access|auth|refresh|session|bearer|api)token/;

/** True when a data key names a credential that must never be audited (SEC-1). */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key.toLowerCase().replace(/[_-]/g, ''));
}

/**
 * A copy of `data` without credential-named keys, at every depth (objects inside arrays too).
 * It only looks at key names: a secret inside a free-text value is the caller's to avoid.
 */
export function redact(data: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return redactValue(data) as Record<string, unknown>;
}

function redactValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactValue);
  if (value === null || typeof value !== 'object' || !isPlainObject(value)) return value;
  const kept: Record<string, unknown> = {};
  for (const [key, member] of Object.entries(value)) {
    if (!isSecretKey(key)) kept[key] = redactValue(member);
  }
  return kept;
}

function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Builds the record that follows `prev` (or the first one when `prev` is null): normalises
 * `data` to plain JSON (so what is stored is exactly what was hashed: no `undefined`, Dates as
 * strings), drops credential-named keys and hashes the result.
 */
export function sealRecord(
  stream: string,
  prev: ChainHead | null,
  entry: { readonly type: string; readonly correlationId?: string; readonly data: Readonly<Record<string, unknown>> },
  at: string,
): ChainedRecord {
  const data = redact(JSON.parse(canonicalJson(entry.data)) as Record<string, unknown>);
  const content: AuditContent = {
    stream,
    seq: (prev?.seq ?? 0) + 1,
    at,
    type: entry.type,
    ...(entry.correlationId === undefined ? {} : { correlationId: entry.correlationId }),
    data,
    prevHash: prev?.hash ?? GENESIS_HASH,
  };
  return { ...content, hash: hashRecord(content) };
}

/**
 * Checks one stream and returns its first problem, or null when it is intact.
 *
 * `head` is the stream's head pointer: pass `undefined` to check the records alone, `null` when
 * the stream has no head pointer. One record just past the head is accepted (an append that
 * has not advanced the head yet, or crashed before doing so: the next append heals it); two or
 * more are not, since every append advances the head to the last record before writing its own.
 */
export function verifyChain(records: readonly ChainedRecord[], head?: ChainHead | null): ChainProblem | null {
  const sorted = [...records].sort((a, b) => a.seq - b.seq);
  const stream = sorted[0]?.stream;
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  for (const record of sorted) {
    if (record.stream !== stream || !Number.isSafeInteger(record.seq) || record.seq < expectedSeq) {
      return { seq: record.seq, kind: 'misplaced', detail: `record ${record.stream}/${record.seq} is out of sequence` };
    }
    if (record.seq > expectedSeq) {
      const last = record.seq - 1;
      const which = last === expectedSeq ? `record ${expectedSeq} is` : `records ${expectedSeq}..${last} are`;
      return { seq: expectedSeq, kind: 'missing', detail: `${which} missing: deleted` };
    }
    if (hashRecord(record) !== record.hash) {
      return { seq: record.seq, kind: 'edited', detail: 'content does not match its hash: edited' };
    }
    if (record.prevHash !== prevHash) {
      return {
        seq: record.seq,
        kind: 'broken-link',
        detail: `prevHash is not the hash of record ${record.seq - 1}: inserted, replaced or reordered`,
      };
    }
    prevHash = record.hash;
    expectedSeq += 1;
  }
  const lastSeq = expectedSeq - 1;
  if (head === undefined) return null;
  if (head === null) {
    return lastSeq > 1
      ? { seq: lastSeq, kind: 'head-missing', detail: `${lastSeq} records but no head pointer: deleted` }
      : null;
  }
  if (head.seq > lastSeq) {
    return {
      seq: lastSeq + 1,
      kind: 'tail-missing',
      detail: `head pointer is at ${head.seq} but the last record is ${lastSeq}: tail deleted`,
    };
  }
  if (head.seq < lastSeq - 1) {
    return {
      seq: head.seq + 2,
      kind: 'beyond-head',
      detail: `records ${head.seq + 2}..${lastSeq} lie beyond the head pointer (${head.seq}): written outside the log`,
    };
  }
  const atHead = sorted[head.seq - 1];
  if (!atHead || atHead.hash !== head.hash) {
    return { seq: head.seq, kind: 'head-mismatch', detail: `hash differs from the head pointer's: replaced` };
  }
  return null;
}
