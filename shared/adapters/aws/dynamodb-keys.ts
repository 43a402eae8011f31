/**
 * Key layout of the items the audit, lock, heartbeat and control adapters keep in the state
 * table, and the named condition clauses they share.
 *
 * State table (pk / sk):
 * - `AUDITHEAD#<stream>` / `HEAD`        head pointer of an audit stream: `seq`, `hash`
 * - `LOCK#<name>`        / `LOCK`        lease: `owner`, `expiresAt` (epoch ms), `token`
 * - `HEARTBEAT#<job>`    / `HEARTBEAT`   last start, success, failure, duration, outcome
 * - `CONTROL#PAUSE`      / `PAUSE`       kill switch: `paused`, `reason`, `author`, `since`, `until`, `version`
 * - `REPORT#<kind>`      / `LATEST`      latest report of a kind: `report` (map), `at`, `version`
 *
 * Audit table (stream / seq): immutable items, each one record or a batch of consecutive records
 * keyed by its first record's seq (dynamodb-audit-item.ts).
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
/** A head pointer only moves forward (`#seq` -> 'seq', `:seq` the new sequence). */
export const headIsBehind = `${keyDoesNotExist} OR #seq < :seq`;
/**
 * The lease is free: never taken, expired (a lease is valid strictly before `expiresAt`), or
 * held by the same owner (re-acquisition). `#expiresAt`, `#owner`, `:now`, `:owner`.
 */
export const leaseIsFree = `${keyDoesNotExist} OR #expiresAt <= :now OR #owner = :owner`;
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
