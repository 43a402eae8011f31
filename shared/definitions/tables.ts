/**
 * The DynamoDB tables, described once. The CDK stack and the embedded local stack both build
 * their tables from these definitions, so local and deployed key schemas cannot drift apart.
 */

/** One key attribute. */
export interface KeyDefinition {
  readonly name: string;
  readonly type: 'S' | 'N';
}

/** A global secondary index, projected ALL. */
export interface IndexDefinition {
  readonly indexName: string;
  readonly partitionKey: KeyDefinition;
  readonly sortKey?: KeyDefinition;
}

/** A table: its logical id (stable: never rename it), keys, indexes and TTL attribute. */
export interface TableDefinition {
  /** Construct id in CDK and the suffix of the local table name. Never rename: it is stateful. */
  readonly logicalId: string;
  readonly partitionKey: KeyDefinition;
  readonly sortKey?: KeyDefinition;
  readonly indexes: readonly IndexDefinition[];
  /** Attribute DynamoDB TTL uses for clean-up only; correctness never depends on it. */
  readonly ttlAttribute?: string;
  /** Stateful tables are retained and deletion-protected when deployed. */
  readonly stateful: boolean;
}

/** Index of the state table that lists orders by creation time (every order has it). */
export const ORDERS_BY_TIME_INDEX = 'orders-by-time';
/** Sparse index of the state table: non-terminal orders (partition OPEN) and ended orders watched for a late fill (WATCH) carry its keys. */
export const OPEN_ORDERS_INDEX = 'open-orders';

/**
 * Sparse index of the state table: only held locks carry its partition key (`heldpk`), set on
 * acquisition and removed on release, sorted by lease expiry. Health finds locks held past their
 * lease with one Query whose cost depends on the locks held, never on the orders stored.
 */
export const HELD_LOCKS_INDEX = 'held-locks';

/**
 * Sparse index of the state table: only the audit log's head pointers carry its keys (`headpk`,
 * the one partition AUDIT_HEADS_PARTITION, and `headsk`, the stream). The audit checkpoint
 * (SEC-5) reads every stream's head with one Query whose cost depends on the streams, never on
 * the orders stored.
 */
export const AUDIT_HEADS_INDEX = 'audit-heads';
export const AUDIT_HEADS_PARTITION = 'AUDITHEAD';

/** Orders, account book, locks, control, heartbeats, circuit and reports. */
export const STATE_TABLE: TableDefinition = {
  logicalId: 'StateTable',
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  indexes: [
    {
      indexName: ORDERS_BY_TIME_INDEX,
      partitionKey: { name: 'gsi1pk', type: 'S' },
      sortKey: { name: 'gsi1sk', type: 'S' },
    },
    {
      indexName: OPEN_ORDERS_INDEX,
      partitionKey: { name: 'openpk', type: 'S' },
      sortKey: { name: 'opensk', type: 'S' },
    },
    {
      indexName: HELD_LOCKS_INDEX,
      partitionKey: { name: 'heldpk', type: 'S' },
      sortKey: { name: 'expiresAt', type: 'N' },
    },
    {
      indexName: AUDIT_HEADS_INDEX,
      partitionKey: { name: 'headpk', type: 'S' },
      sortKey: { name: 'headsk', type: 'S' },
    },
  ],
  ttlAttribute: 'expiresAtEpoch',
  stateful: true,
};

/** Append-only, hash-chained audit records: pk = stream, sk = zero-padded sequence. */
export const AUDIT_TABLE: TableDefinition = {
  logicalId: 'AuditTable',
  partitionKey: { name: 'stream', type: 'S' },
  sortKey: { name: 'seq', type: 'N' },
  indexes: [],
  stateful: true,
};

/**
 * Powertools Idempotency persistence layout (partition key `id`, TTL `expiration`). No function
 * writes it any more (the executor's order record answers duplicates and refuses changed content:
 * INTENT_FINGERPRINT); the stateful table stays so that a deployed stack does not lose it on update.
 */
export const IDEMPOTENCY_TABLE: TableDefinition = {
  logicalId: 'IdempotencyTable',
  partitionKey: { name: 'id', type: 'S' },
  indexes: [],
  ttlAttribute: 'expiration',
  stateful: true,
};

/** The paper exchange's own books (paper mode only). */
export const PAPER_TABLE: TableDefinition = {
  logicalId: 'PaperExchangeTable',
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  indexes: [
    {
      indexName: 'paper-open-orders',
      partitionKey: { name: 'openpk', type: 'S' },
      sortKey: { name: 'opensk', type: 'S' },
    },
  ],
  stateful: true,
};

export const TABLES = [STATE_TABLE, AUDIT_TABLE, IDEMPOTENCY_TABLE, PAPER_TABLE] as const;
