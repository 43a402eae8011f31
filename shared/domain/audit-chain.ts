/**
 * The audit hash chain (OPS-4), pure. Each record of a stream carries the SHA-256 of its own
 * canonical content and the hash of the record before it (`GENESIS_HASH` for the first), so an
 * edit, a deletion, an insertion or a reordering breaks the chain where it happened.
 *
 * Limits, by construction: the chain is not signed, so whoever may write the audit table could
 * append a well-formed record at the end; append-only IAM (SEC-2) is what prevents that. The
 * head pointer (kept outside the audit table) is what makes a deleted tail visible.
 *
 * Batches (PERF-2): a writer may append several records and move the head pointer once, at the
 * end (one head update per batch instead of one per record). Each record of such a batch names,
 * in its hashed `batch` field, the sequence number the head pointer was known to have reached
 * when the record was written (0 before the first head). So `verify` can tell:
 * - an unacknowledged batch (a writer between its records and its head update, or one that
 *   crashed there): records past the head pointer, each naming a head at or below it, at most
 *   `MAX_UNACKNOWLEDGED` records past the head they name: accepted;
 * - a deleted tail: the head pointer past the last record (`tail-missing`), as before;
 * - a head pointer moved back below a head that a stored record names (`head-behind`), or
 *   deleted while a record names one (`head-missing`);
 * - records appended past the head outside the log without the field: more than one is
 *   `beyond-head`, as before.
 * What a batch costs: until its head update lands, its records can be deleted from the end
 * without `verify` noticing (one record could before); the writer bounds that by
 * `MAX_UNACKNOWLEDGED` and the executor moves the head before each intent's invocation ends.
 *
 * Batch items (PERF-2): records decided at the same moment (a claim's `intent.accepted` and
 * `order.submitting`, an exchange answer's `order.sent` and `order.filled`) are stored in ONE
 * item with one conditional put (`attribute_not_exists`). Each record keeps its own `seq`,
 * `prevHash` and `hash` and names the head like any batched record (`batch`), so `verifyChain`
 * sees exactly the records single items would hold: an edit, a deletion (of an item or of a
 * record inside one), an insertion or a reordering breaks the chain as before, and checkpoints
 * (audit-checkpoint.ts) compare the same (seq, hash) pairs. The item layout
 * (adapters/aws/dynamodb-audit-item.ts): an item is keyed by the seq of its FIRST record, and the
 * next item's key is its LAST record's seq + 1. Why this prevents forks:
 * - the keys of a stream's items are 1, then each item's last seq + 1: every record belongs to
 *   exactly one item, and from any item's last record the next key is the key of the item that
 *   follows it, if there is one;
 * - a writer chains onto a LAST record only (its own last append, the head pointer, which only
 *   ever names the last record of an item, or the last record of the item it found holding its
 *   key), so it always targets the key that follows that record;
 * - two writers racing from the same predecessor therefore target the same key, whatever the
 *   sizes of their batches, and the conditional put lets exactly one of them win; the loser
 *   reads the winner's item, takes its last record and tries the key after it. A writer from an
 *   outdated predecessor collides with the item already stored after it in the same way.
 * So no two records can claim the same predecessor, and no record's seq is stored twice: a
 * second record with a seq already held (written outside the log) is `misplaced` in `verify`.
 */
import { hash } from 'node:crypto';
import { canonicalJson, plainCopy } from './canonical-json.js';

export { canonicalJson } from './canonical-json.js';

/** `prevHash` of the first record of every stream. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * Most records a batch may hold past the head its records name: a batching writer moves the
 * head pointer before it appends more. One invocation of the executor writes about five per
 * intent and stream, and moves the head at the end of each intent.
 */
export const MAX_UNACKNOWLEDGED = 32;

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
  /**
   * Written in a batch (one head update per batch): the sequence number the stream's head
   * pointer was known to have reached when this record was written. Absent on records whose
   * writer moved the head after each record.
   */
  readonly batch?: number;
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
  | 'head-missing'
  /** A record names a head pointer position past the current one: the pointer was moved back or replaced. */
  | 'head-behind';

export interface ChainProblem {
  /** The first sequence number at which the stream is broken. */
  readonly seq: number;
  readonly kind: ChainProblemKind;
  readonly detail: string;
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
    ...(record.batch === undefined ? {} : { batch: record.batch }),
  };
  return sha256(canonicalJson(content));
}

/**
 * Key names (compared without case, `_` or `-`) that hold credentials. `fencingToken` and a
 * lock's `token` are not secrets and are kept; bearer-style tokens are dropped.
 */
const SECRET_KEY = /secret|password|passwd|passphrase|privatekey|apikey|credential|(access|auth|refresh|session|bearer|api)token/;

/** Key names already tested (audited data uses few distinct ones); bounded all the same. */
const SECRET_KEY_CACHE = 4096;
const secretKeys = new Map<string, boolean>();

/** True when a data key names a credential that must never be audited (SEC-1). */
export function isSecretKey(key: string): boolean {
  let secret = secretKeys.get(key);
  if (secret === undefined) {
    secret = SECRET_KEY.test(key.toLowerCase().replace(/[_-]/g, ''));
    if (secretKeys.size >= SECRET_KEY_CACHE) secretKeys.clear();
    secretKeys.set(key, secret);
  }
  return secret;
}

/** True when `value` holds a credential-named key at any depth (what `redact` would drop). */
function holdsSecretKey(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(holdsSecretKey);
  if (value === null || typeof value !== 'object' || !isPlainObject(value)) return false;
  for (const key in value) if (Object.hasOwn(value, key) && (isSecretKey(key) || holdsSecretKey((value as Record<string, unknown>)[key]))) return true;
  return false;
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
  batch?: number,
): ChainedRecord {
  // One walk gives the data's canonical text and its plain copy (what JSON.parse of that text
  // gives). Data it leaves to the general rule (a credential-named key to drop, see `plainCopy`)
  // is written out, read back and, holding such a key, redacted and hashed as a whole.
  let copied = plainCopy(entry.data, isCopiedKey);
  let data: Record<string, unknown>;
  if (copied) data = copied.value as Record<string, unknown>;
  else {
    const text = canonicalJson(entry.data);
    const parsed = JSON.parse(text) as Record<string, unknown>;
    // Without a credential-named key the plain JSON is the data, and its canonical text is `text`.
    if (holdsSecretKey(parsed)) data = redact(parsed);
    else {
      data = parsed;
      copied = { text, value: parsed };
    }
  }
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
  return { ...content, hash: copied ? hashContent(content, copied.text) : hashRecord(content) };
}

/** Keys `sealRecord` copies as they are: any but a credential-named one (dropped by `redact`). */
function isCopiedKey(key: string): boolean {
  return !isSecretKey(key);
}

/** SHA-256 (hex) of `text` as UTF-8; the one-shot form, cheaper than a Hash object for a record. */
function sha256(text: string): string {
  return hash('sha256', text, 'hex');
}

/**
 * Seals `entries` as consecutive records after `prev` (a batch stored in one item): each record
 * is `sealRecord` of the one before, so the chain is the same as that of single appends.
 */
export function sealRecords(
  stream: string,
  prev: ChainHead | null,
  entries: readonly { readonly type: string; readonly correlationId?: string; readonly data: Readonly<Record<string, unknown>> }[],
  at: string,
  batch?: number,
): ChainedRecord[] {
  const records: ChainedRecord[] = [];
  let link = prev;
  for (const entry of entries) {
    const record = sealRecord(stream, link, entry, at, batch);
    records.push(record);
    link = record;
  }
  return records;
}

/**
 * `hashRecord(content)` when `dataText` is the canonical JSON of `content.data`: the same
 * canonical text of the content (members in sorted key order), built around the data's text.
 * Falls back to `hashRecord` for any field that is not of its declared type.
 */
function hashContent(content: AuditContent, dataText: string): string {
  const { stream, seq, at, type, correlationId, prevHash, batch } = content;
  if (typeof stream !== 'string' || typeof at !== 'string' || typeof type !== 'string' || typeof prevHash !== 'string' || !Number.isFinite(seq)) return hashRecord(content);
  if ((correlationId !== undefined && typeof correlationId !== 'string') || (batch !== undefined && !Number.isFinite(batch))) return hashRecord(content);
  let text = `{"at":${JSON.stringify(at)}`;
  if (batch !== undefined) text += `,"batch":${JSON.stringify(batch)}`;
  if (correlationId !== undefined) text += `,"correlationId":${JSON.stringify(correlationId)}`;
  text += `,"data":${dataText},"prevHash":${JSON.stringify(prevHash)},"seq":${JSON.stringify(seq)},"stream":${JSON.stringify(stream)},"type":${JSON.stringify(type)}}`;
  return sha256(text);
}

/**
 * Checks one stream and returns its first problem, or null when it is intact.
 *
 * `head` is the stream's head pointer: pass `undefined` to check the records alone, `null` when
 * the stream has no head pointer (read as a head at 0 for records written in batches). Past the
 * head, one record is accepted (an append that has not advanced the head yet, or crashed before
 * doing so: the next append heals it), and so is an unacknowledged batch: records that each name
 * a head at or below the current one and lie at most `MAX_UNACKNOWLEDGED` past it. A second
 * record past the head without a `batch` is not accepted: every writer that does not batch
 * advances the head to the last record before writing its own.
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
    if (record.batch !== undefined && (!Number.isSafeInteger(record.batch) || record.batch < 0 || record.batch >= record.seq)) {
      return { seq: record.seq, kind: 'misplaced', detail: `record ${record.seq} names head ${String(record.batch)}, which is not before it` };
    }
    if (record.batch !== undefined && record.seq - record.batch > MAX_UNACKNOWLEDGED) {
      return {
        seq: record.seq,
        kind: 'beyond-head',
        detail: `record ${record.seq} lies ${record.seq - record.batch} records past the head it names (${record.batch}), more than a batch (${MAX_UNACKNOWLEDGED}): written outside the log`,
      };
    }
    prevHash = record.hash;
    expectedSeq += 1;
  }
  const lastSeq = expectedSeq - 1;
  if (head === undefined) return null;
  // The highest head position a stored record names: the pointer reached it before that record.
  const named = sorted.reduce<ChainedRecord | undefined>((best, r) => (r.batch !== undefined && r.batch > (best?.batch ?? -1) ? r : best), undefined);
  if (head === null) {
    if (named && (named.batch ?? 0) > 0) {
      return { seq: named.seq, kind: 'head-missing', detail: `record ${named.seq} names head ${String(named.batch)} but there is no head pointer: deleted` };
    }
    return pastHead(sorted, 0, lastSeq) ? { seq: lastSeq, kind: 'head-missing', detail: `${lastSeq} records but no head pointer: deleted` } : null;
  }
  if (head.seq > lastSeq) {
    return {
      seq: lastSeq + 1,
      kind: 'tail-missing',
      detail: `head pointer is at ${head.seq} but the last record is ${lastSeq}: tail deleted`,
    };
  }
  if (named && (named.batch ?? 0) > head.seq) {
    return {
      seq: named.seq,
      kind: 'head-behind',
      detail: `record ${named.seq} was written when the head pointer was at ${String(named.batch)}, but it is at ${head.seq}: moved back or replaced`,
    };
  }
  const beyond = pastHead(sorted, head.seq, lastSeq);
  if (beyond) {
    return {
      seq: beyond.seq,
      kind: 'beyond-head',
      detail: `records ${head.seq + 2}..${lastSeq} lie beyond the head pointer (${head.seq}): written outside the log`,
    };
  }
  if (head.seq === 0) return null;
  const atHead = sorted[head.seq - 1];
  if (!atHead || atHead.hash !== head.hash) {
    return { seq: head.seq, kind: 'head-mismatch', detail: `hash differs from the head pointer's: replaced` };
  }
  return null;
}

/**
 * The first record past `headSeq` that neither is the one record an unacknowledged append may
 * leave nor belongs to a batch, or undefined. (`sorted` is a verified, gap-free chain.)
 */
function pastHead(sorted: readonly ChainedRecord[], headSeq: number, lastSeq: number): ChainedRecord | undefined {
  for (let seq = headSeq + 2; seq <= lastSeq; seq += 1) {
    const record = sorted[seq - 1];
    if (record && record.batch === undefined) return record;
  }
  return undefined;
}
