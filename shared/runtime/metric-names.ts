/**
 * Metric names, one place. Every function publishes in the `Tradewarden` namespace with the
 * Powertools `service` dimension set to its job name (scanner, executor, reconciler, health).
 * CloudWatch alarms and the dashboard (infra/) refer to these constants. Heartbeats are not among
 * them: a heartbeat is a successful invocation, which Lambda counts for free (Invocations - Errors).
 */
export const METRICS_NAMESPACE = 'Tradewarden';

export const MetricName = {
  Signals: 'Signals',
  IntentsSent: 'IntentsSent',
  ScanFailed: 'ScanFailed',
  StaleData: 'StaleData',
  /** Symbols a scan skipped because their candles could not be fetched (DATA-7). */
  SymbolsFailed: 'SymbolsFailed',
  /** Symbols a scan did not reach before its deadline or the rate budget; first next scan. */
  SymbolsUnreached: 'SymbolsUnreached',
  OrdersPlaced: 'OrdersPlaced',
  OrdersRejected: 'OrdersRejected',
  OrdersUnknown: 'OrdersUnknown',
  Fills: 'Fills',
  DuplicateDeliveries: 'DuplicateDeliveries',
  /** Executor: queue records that failed on their own error in a batch (redelivered). */
  RecordsFailed: 'RecordsFailed',
  /** Executor: records sent to the dead-letter queue because they can never succeed. */
  DeadLettered: 'DeadLettered',
  Equity: 'Equity',
  RealizedPnl: 'RealizedPnl',
  DriftQuote: 'DriftQuote',
  CircuitOpen: 'CircuitOpen',
  PauseAgeSeconds: 'PauseAgeSeconds',
  /** 0 = OK, 1 = DEGRADED, 2 = FAILING. */
  HealthStatus: 'HealthStatus',
  DlqDepth: 'DlqDepth',
  /** A domain event the audit log could not publish (the decision itself stands). */
  EventsNotPublished: 'EventsNotPublished',
  NotificationsSent: 'NotificationsSent',
  NotificationsDuplicate: 'NotificationsDuplicate',
  NotificationsFailed: 'NotificationsFailed',
} as const;
export type MetricName = (typeof MetricName)[keyof typeof MetricName];

/** Numeric encoding of the overall health status, for the HealthStatus metric and its alarm. */
export const HEALTH_STATUS_VALUE = { OK: 0, DEGRADED: 1, FAILING: 2 } as const;
