/**
 * What the operator use cases need from a stack. Two transports provide it (operator/): the
 * embedded local stack, and a deployed stack found through its outputs. The use cases cannot
 * tell them apart, which is the point: one set of commands for both (OPS-7).
 */
import type { AccountStore } from '../ports/account-store.js';
import type { AuditLog } from '../ports/audit-log.js';
import type { Clock } from '../ports/clock.js';
import type { ControlStore } from '../ports/control-store.js';
import type { Exchange } from '../ports/exchange.js';
import type { HeartbeatStore } from '../ports/heartbeat-store.js';
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
  readonly health: HealthRunner;
  readonly deadLetters: DeadLetterRedrive;
}
