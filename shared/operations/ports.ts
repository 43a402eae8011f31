/**
 * What the operator use cases need from a stack. Two transports provide it (operator/): the
 * embedded local stack, and a deployed stack found through its outputs. The use cases cannot
 * tell them apart, which is the point: one set of commands for both (OPS-7).
 */
import type { AccountBook } from '../domain/account.js';
import type { OrderRecord } from '../domain/order.js';
import type { AccountStore } from '../ports/account-store.js';
import type { AuditCheckpointStore } from '../ports/audit-checkpoints.js';
import type { AuditLog, AuditRecord } from '../ports/audit-log.js';
import type { Clock } from '../ports/clock.js';
import type { ControlStore } from '../ports/control-store.js';
import type { CancelExchange, Exchange } from '../ports/exchange.js';
import type { HeartbeatStore } from '../ports/heartbeat-store.js';
import type { LockService } from '../ports/lock-service.js';
import type { OrderStore } from '../ports/order-store.js';
import type { RiskStateStore, TunablesStore } from '../ports/tunables-store.js';
import type { Config } from '../runtime/config.js';
import type { HealthReport } from '../use-cases/check-health.js';
import type { ScanSettings } from '../use-cases/scan-market.js';

/** Runs the health check now, as the scheduled health function would (it records its heartbeat and report). */
export interface HealthRunner {
  run(): Promise<HealthReport>;
}

/** What a redrive did. */
export interface RedriveResult {
  /**
   * `move-task`: SQS moves the messages asynchronously (the console's "Start DLQ redrive").
   * `client-move`: this process received, re-sent and deleted each message.
   */
  readonly method: 'move-task' | 'client-move';
  /** Messages moved (client-move only: a move task reports progress on its own). */
  readonly redriven?: number;
  readonly taskHandle?: string;
}

/** Moves dead-lettered execution intents back to the execution queue (OPS-2). */
export interface DeadLetterRedrive {
  redrive(): Promise<RedriveResult>;
}

/** The ports and settings every operator use case takes. */
export interface OperatorDeps {
  /** The stack's own configuration (what its functions run with). */
  readonly config: Config;
  /** The scanner's defaults under this configuration (tunables override them). */
  readonly scanDefaults: ScanSettings;
  readonly clock: Clock;
  readonly control: ControlStore;
  /** The tunables record and the scanner's risk memory (its last-slot marker). */
  readonly tunables: TunablesStore & RiskStateStore;
  readonly audit: AuditLog;
  readonly orders: OrderStore;
  readonly accounts: AccountStore;
  readonly heartbeats: HeartbeatStore;
  readonly exchange: Exchange;
  /** The exchange calls of cancels, not blocked by the circuit breaker (EXE-15). */
  readonly cancelExchange: CancelExchange;
  /** The symbol leases, which cancels take like every other writer of an order (RISK-7). */
  readonly locks: LockService;
  readonly health: HealthRunner;
  readonly deadLetters: DeadLetterRedrive;
  readonly exportSource: ExportSource;
  readonly importTarget: ImportTarget;
  /**
   * The audit checkpoints (SEC-5): the stack's Object Lock bucket, or the local directory.
   * Absent when the stack has none (a stack deployed before them): verify then checks the chain alone and says so.
   */
  readonly checkpoints?: AuditCheckpointStore;
}

/** A half-open time window [from, to) in ISO-8601; an absent end is open. */
export interface TimeWindow {
  readonly from?: string;
  readonly to?: string;
}

/** Reads the stack's records page by page, so an export never holds a table in memory. */
export interface ExportSource {
  /** Orders created in the window, oldest first. */
  orders(window: TimeWindow): AsyncIterable<OrderRecord>;
  /** Audit records written in the window. */
  auditRecords(window: TimeWindow): AsyncIterable<AuditRecord>;
}

/** The export's named record streams (orders, fills, positions, ledger, audit, trades). */
export type ExportStream = 'orders' | 'fills' | 'positions' | 'ledger' | 'audit' | 'trades';

/** Where exported records go, one at a time (files: JSON Lines, and CSV for trades). */
export interface ExportSink {
  write(stream: ExportStream, record: Readonly<Record<string, unknown>>): Promise<void>;
}

/** Restores exported records into a fresh stack; each write refuses to replace an existing record. */
export interface ImportTarget {
  restoreBook(book: AccountBook): Promise<void>;
  restoreOrder(order: OrderRecord): Promise<void>;
  restoreAuditRecord(record: AuditRecord): Promise<void>;
  /** Points a stream's head at its last restored record, so appends continue the chain. */
  restoreAuditHead(stream: string, head: { readonly seq: number; readonly hash: string }): Promise<void>;
}
