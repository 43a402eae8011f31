/**
 * The error catalogue. Every error Tradewarden raises has a stable `code` (used in logs,
 * metrics and invoke output) and a `retryable` flag that maps directly onto the delivery
 * decision: retryable errors are rethrown so the queue redelivers (and eventually
 * dead-letters); permanent ones are recorded and acknowledged.
 */

export const ErrorCode = {
  ConfigInvalid: 'CONFIG_INVALID',
  ConfigUnknownSetting: 'CONFIG_UNKNOWN_SETTING',
  ValidationFailed: 'VALIDATION_FAILED',
  IntentExpired: 'INTENT_EXPIRED',
  IllegalTransition: 'ILLEGAL_TRANSITION',
  ConcurrentModification: 'CONCURRENT_MODIFICATION',
  InsufficientBudget: 'INSUFFICIENT_BUDGET',
  /** An entry would break a risk limit (open positions, exposure per symbol or in total). */
  RiskLimitReached: 'RISK_LIMIT_REACHED',
  LockHeld: 'LOCK_HELD',
  LockLost: 'LOCK_LOST',
  TradingPaused: 'TRADING_PAUSED',
  ExchangeTransient: 'EXCHANGE_TRANSIENT',
  ExchangeUnknownOutcome: 'EXCHANGE_UNKNOWN_OUTCOME',
  ExchangeRejected: 'EXCHANGE_REJECTED',
  ExchangeOrderNotFound: 'EXCHANGE_ORDER_NOT_FOUND',
  MarketDataInvalid: 'MARKET_DATA_INVALID',
  /** The exchange's market data could not be fetched (paper on real prices, DATA-6): nothing trades, nothing falls back to synthetic data. */
  MarketDataUnreachable: 'MARKET_DATA_UNREACHABLE',
  SyntheticDataRefused: 'SYNTHETIC_DATA_REFUSED',
  StorageFailed: 'STORAGE_FAILED',
  AuditChainBroken: 'AUDIT_CHAIN_BROKEN',
  NotificationFailed: 'NOTIFICATION_FAILED',
  BacktestDataInvalid: 'BACKTEST_DATA_INVALID',
  /** The stack an operator command targets cannot be found or reached (stage, outputs, credentials, local lock). */
  StackUnavailable: 'STACK_UNAVAILABLE',
  /** A destructive operator command was not confirmed. */
  NotConfirmed: 'NOT_CONFIRMED',
  /** A deployed function invoked ad hoc reported an error (its type and message are carried). */
  FunctionFailed: 'FUNCTION_FAILED',
  Internal: 'INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface TradewardenErrorOptions {
  cause?: unknown;
  details?: Record<string, unknown>;
}

/** Base of every error: stable code, retryable flag, cause and structured details. */
export class TradewardenError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, retryable: boolean, options: TradewardenErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TradewardenError';
    this.code = code;
    this.retryable = retryable;
    this.details = options.details ?? {};
  }

  /** The shape printed by `npm run invoke` and logged: never includes the cause's secrets. */
  toJSON(): { name: string; code: ErrorCode; message: string; retryable: boolean; details: Record<string, unknown> } {
    return { name: this.name, code: this.code, message: this.message, retryable: this.retryable, details: this.details };
  }
}

/** A configuration value is missing or invalid; names each bad field. */
export class ConfigError extends TradewardenError {
  constructor(readonly issues: readonly string[]) {
    super(ErrorCode.ConfigInvalid, `invalid configuration: ${issues.join('; ')}`, false, { details: { issues } });
    this.name = 'ConfigError';
  }
}

/**
 * A `TW_*` environment variable that is no setting (CFG-3): a typo, or a setting of another
 * version. Silently ignoring it would run with a value the operator did not choose.
 */
export class UnknownSettingError extends TradewardenError {
  constructor(readonly unknown: ReadonlyArray<{ readonly name: string; readonly closest: string }>) {
    super(
      ErrorCode.ConfigUnknownSetting,
      `unknown setting${unknown.length > 1 ? 's' : ''}: ${unknown.map((u) => `${u.name} (did you mean ${u.closest}?)`).join('; ')}`,
      false,
      { details: { unknown } },
    );
    this.name = 'UnknownSettingError';
  }
}

/** Input (event, payload, command argument) failed its schema. Never retryable: a poison message. */
export class ValidationError extends TradewardenError {
  constructor(message: string, readonly issues: readonly string[] = [], options: TradewardenErrorOptions = {}) {
    super(ErrorCode.ValidationFailed, message, false, { ...options, details: { issues, ...options.details } });
    this.name = 'ValidationError';
  }
}

/** An event the order aggregate does not accept in the order's current state (order-aggregate.ts). */
export class IllegalTransitionError extends TradewardenError {
  constructor(state: string, event: string, details: Record<string, unknown> = {}) {
    super(ErrorCode.IllegalTransition, `illegal order event ${event} in state ${state}`, false, { details: { state, event, ...details } });
    this.name = 'IllegalTransitionError';
  }
}

/** A conditional write lost a race: somebody else changed the record. Retryable. */
export class ConcurrentModificationError extends TradewardenError {
  constructor(message: string, options: TradewardenErrorOptions = {}) {
    super(ErrorCode.ConcurrentModification, message, true, options);
    this.name = 'ConcurrentModificationError';
  }
}

/** The budget cannot cover a reservation. Permanent for the intent at hand. */
export class InsufficientBudgetError extends TradewardenError {
  constructor(message: string, options: TradewardenErrorOptions = {}) {
    super(ErrorCode.InsufficientBudget, message, false, options);
    this.name = 'InsufficientBudgetError';
  }
}

/**
 * An entry would break a risk limit (EXE-13). Permanent for the intent at hand: the order is
 * recorded REJECTED with the limit's name (`limit`).
 */
export class RiskLimitError extends TradewardenError {
  readonly limit: string;
  constructor(limit: string, message: string, options: TradewardenErrorOptions = {}) {
    super(ErrorCode.RiskLimitReached, `risk limit ${limit}: ${message}`, false, { ...options, details: { limit, ...options.details } });
    this.name = 'RiskLimitError';
    this.limit = limit;
  }
}

/** Another owner holds the lease. Retryable: the message comes back after its visibility timeout. */
export class LockHeldError extends TradewardenError {
  constructor(name: string, options: TradewardenErrorOptions = {}) {
    super(ErrorCode.LockHeld, `lock ${name} is held by another owner`, true, { ...options, details: { lock: name, ...options.details } });
    this.name = 'LockHeldError';
  }
}

/** A write under a lock was refused because a newer fencing token exists. */
export class LockLostError extends TradewardenError {
  constructor(name: string, options: TradewardenErrorOptions = {}) {
    super(ErrorCode.LockLost, `lock ${name} was lost to a newer holder`, true, { ...options, details: { lock: name, ...options.details } });
    this.name = 'LockLostError';
  }
}

/** Trading is paused (or the pause state cannot be read: fail closed). */
export class TradingPausedError extends TradewardenError {
  constructor(reason: string, options: TradewardenErrorOptions = {}) {
    super(ErrorCode.TradingPaused, `trading is paused: ${reason}`, true, options);
    this.name = 'TradingPausedError';
  }
}

/** A storage read or write failed for a reason other than a lost condition. Retryable. */
export class StorageError extends TradewardenError {
  constructor(message: string, options: TradewardenErrorOptions = {}) {
    super(ErrorCode.StorageFailed, message, true, options);
    this.name = 'StorageError';
  }
}

/** Market data failed validation or could not be obtained. */
export class MarketDataError extends TradewardenError {
  constructor(message: string, retryable: boolean, options: TradewardenErrorOptions = {}) {
    super(ErrorCode.MarketDataInvalid, message, retryable, options);
    this.name = 'MarketDataError';
  }
}

/**
 * The exchange's public market data could not be fetched (network, DNS, timeout, maintenance):
 * the paper exchange on real prices (DATA-6) then trades nothing and never falls back to
 * synthetic data (DATA-4). Retryable: the next scan or delivery tries again.
 */
export class MarketDataUnreachableError extends TradewardenError {
  constructor(message: string, options: TradewardenErrorOptions = {}) {
    super(ErrorCode.MarketDataUnreachable, message, true, options);
    this.name = 'MarketDataUnreachableError';
  }
}

/** Exchange error that is safe to retry: the request certainly did not create anything. */
export class ExchangeTransientError extends TradewardenError {
  constructor(message: string, options: TradewardenErrorOptions = {}) {
    super(ErrorCode.ExchangeTransient, message, true, options);
    this.name = 'ExchangeTransientError';
  }
}

/**
 * The request may have reached the exchange (timeout, connection reset after send, 5xx):
 * the order's outcome is unknown and must be looked up, never blindly retried (EXE-3).
 */
export class ExchangeUnknownOutcomeError extends TradewardenError {
  constructor(message: string, options: TradewardenErrorOptions = {}) {
    super(ErrorCode.ExchangeUnknownOutcome, message, true, options);
    this.name = 'ExchangeUnknownOutcomeError';
  }
}

/** The exchange refused the request for good (invalid order, funds, symbol, auth). */
export class ExchangeRejectedError extends TradewardenError {
  constructor(message: string, readonly reason: string, options: TradewardenErrorOptions = {}) {
    super(ErrorCode.ExchangeRejected, message, false, { ...options, details: { reason, ...options.details } });
    this.name = 'ExchangeRejectedError';
  }
}

/** Node network failures: the store (or another service) could not be reached. */
const NETWORK_ERROR_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * Wraps anything unexpected so callers always see a coded error. AWS SDK service errors (they
 * carry `$metadata`) and network failures become STORAGE_FAILED: the invocation failed because
 * state could not be read or written (HLT-5).
 */
export function toTradewardenError(error: unknown): TradewardenError {
  if (error instanceof TradewardenError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : '';
  const isSdk = typeof error === 'object' && error !== null && '$metadata' in error;
  if (isSdk || NETWORK_ERROR_CODES.has(code)) {
    const name = error instanceof Error ? error.name : 'Error';
    return new StorageError(`${name}: ${message}`, { cause: error });
  }
  return new TradewardenError(ErrorCode.Internal, message, true, { cause: error });
}
