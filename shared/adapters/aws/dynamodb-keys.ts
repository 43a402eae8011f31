/**
 * Key layout of the items the audit, lock, heartbeat and control adapters keep in the state
 * table, and the named condition clauses they share.
 *
 * State table (pk / sk):
 * - `AUDITHEAD#<stream>` / `HEAD`        head pointer of an audit stream: `seq`, `hash`; for a
 *                                        `symbol:` stream also the lease of the same name
 *                                        (`leaseKey`)
 * - `LOCK#<name>`        / `LOCK`        lease: `owner`, `expiresAt` (epoch ms), `token`
 * - `HEARTBEAT#<job>`    / `HEARTBEAT`   last start, success, failure, duration, outcome
 * - `CONTROL#PAUSE`      / `PAUSE`       kill switch: `paused`, `reason`, `author`, `since`, `until`, `version`
 * - `REPORT#<kind>`      / `LATEST`      latest report of a kind: `report` (map), `at`, `version`
 *
 * Audit table (stream / seq): one immutable item per record.
 */
import type { JobName } from '../../definitions/schedules.js';
import { AUDIT_HEADS_PARTITION } from '../../definitions/tables.js';
import type { ReportKind } from '../../ports/control-store.js';

/** A state-table primary key. */
export interface StateKey {
  readonly pk: string;
  readonly sk: string;
}

export const AUDIT_HEAD_PREFIX = 'AUDITHEAD#';
export const LOCK_PREFIX = 'LOCK#';
export const HEARTBEAT_PREFIX = 'HEARTBEAT#';
export const REPORT_PREFIX = 'REPORT#';

export function auditHeadKey(stream: string): StateKey {
  return { pk: `${AUDIT_HEAD_PREFIX}${stream}`, sk: 'HEAD' };
}

/** The keys of the sparse audit-heads index a head pointer carries (SEC-5). */
export function auditHeadIndexKeys(stream: string): { headpk: string; headsk: string } {
  return { headpk: AUDIT_HEADS_PARTITION, headsk: stream };
}

export function lockKey(name: string): StateKey {
  return { pk: `${LOCK_PREFIX}${name}`, sk: 'LOCK' };
}

/** Leases kept on the head item of the audit stream of the same name (`leaseKey`). */
export const HEAD_LEASE_PREFIX = 'symbol:';

/**
 * Where the lease `name` lives. A symbol's lease (`symbol:<SYMBOL>`) lives on the head item of
 * the symbol's audit stream (the same name: `order-commit.ts` `auditStream`), so that its holder
 * can give it back and move that stream's head in ONE conditional write (PERF-2: one request less
 * per executed intent). Every other lease has a `LOCK#` item of its own. The two sets of
 * attributes do not overlap: the lease's `owner`, `expiresAt`, `token`, `name`, `heldpk`; the
 * head's `seq`, `hash`, `stream`, `headpk`, `headsk`.
 */
export function leaseKey(name: string): StateKey {
  return name.startsWith(HEAD_LEASE_PREFIX) ? auditHeadKey(name) : lockKey(name);
}

/**
 * The update clauses that move a head pointer to `to` (`headIsBehind` is their condition), with
 * `headpk`/`headsk`, the keys of the sparse audit-heads index the checkpoint reads (SEC-5).
 * Shared by the audit log's own head update and the lease release that carries it.
 */
export function headMove(stream: string, to: { readonly seq: number; readonly hash: string }): { set: string; names: Record<string, string>; values: Record<string, unknown> } {
  return {
    set: '#seq = :seq, #hash = :hash, #stream = :stream, #headpk = :headpk, #headsk = :stream',
    names: { '#seq': 'seq', '#hash': 'hash', '#stream': 'stream', '#headpk': 'headpk', '#headsk': 'headsk' },
    values: { ':seq': to.seq, ':hash': to.hash, ':stream': stream, ':headpk': auditHeadIndexKeys(stream).headpk },
  };
}

export function heartbeatKey(job: JobName): StateKey {
  return { pk: `${HEARTBEAT_PREFIX}${job}`, sk: 'HEARTBEAT' };
}

export const PAUSE_KEY: StateKey = { pk: 'CONTROL#PAUSE', sk: 'PAUSE' };

export function reportKey(kind: ReportKind): StateKey {
  return { pk: `${REPORT_PREFIX}${kind}`, sk: 'LATEST' };
}

/** The audit table's key of one record. */
export function auditRecordKey(stream: string, seq: number): { stream: string; seq: number } {
  return { stream, seq };
}

// Named condition clauses. Placeholders: `#pk` -> 'pk', `#stream` -> 'stream'; the others are
// given next to each use.

/** The item does not exist yet (state table). */
export const keyDoesNotExist = 'attribute_not_exists(#pk)';
/** The audit record does not exist yet: the audit table only ever accepts new items. */
export const auditRecordDoesNotExist = 'attribute_not_exists(#stream)';
/**
 * A head pointer only moves forward (`#seq` -> 'seq', `:seq` the new sequence). "No head yet" is
 * the absence of `seq`, not of the item: a symbol stream's head item may hold only its lease.
 */
export const headIsBehind = 'attribute_not_exists(#seq) OR #seq < :seq';
/**
 * The lease is free: never taken (no expiry on the item, or no item), expired (a lease is valid
 * strictly before `expiresAt`), or held by the same owner (re-acquisition). `#expiresAt`,
 * `#owner`, `:now`, `:owner`. A released lease keeps `expiresAt` = 0.
 */
export const leaseIsFree = 'attribute_not_exists(#expiresAt) OR #expiresAt <= :now OR #owner = :owner';
/** The lease is still the one the caller holds. `#owner`, `#token`, `:owner`, `:token`. */
export const leaseIsCurrent = '#owner = :owner AND #token = :token';
/**
 * A write made under a lease is allowed: no newer fencing token has written this item
 * (RISK-7). `#fence` -> 'fence', `:fence` the caller's lease token. Writers also
 * `SET #fence = :fence` so the item remembers the newest token that wrote it.
 */
export const fenceAllows = '(attribute_not_exists(#fence) OR #fence <= :fence)';
/** The record is still at the version the writer read (`#version`, `:expectedVersion`). */
export const versionIs = '#version = :expectedVersion';
/** Time-stamped records only move forward in time (`#at`, `:at`, ISO-8601 strings compare in order). */
export const notNewerThan = (attribute: string, value: string): string =>
  `attribute_not_exists(${attribute}) OR ${attribute} <= ${value}`;
