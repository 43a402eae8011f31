/**
 * Maps ccxt's errors onto Tradewarden's three exchange outcomes (EXE-3, EXE-4):
 * - ExchangeTransientError: the request certainly created nothing; retry with backoff;
 * - ExchangeUnknownOutcomeError: a create or cancel may have reached the matching engine; look
 *   the order up by client order id, never re-send blindly;
 * - ExchangeRejectedError: the exchange answered no for good; record it, do not retry.
 *
 * ccxt's hierarchy already splits permanent (ExchangeError) from temporary (OperationFailed);
 * what it cannot say is whether a failed *mutation* reached the exchange, so that is decided
 * here per operation. Binance quirks (ARCHITECTURE.md): 418 and 429 come back as
 * DDoSProtection/RateLimitExceeded (refused: transient); an HTML 403 (WAF) or a non-JSON 400
 * comes back as ExchangeNotAvailable with the 4xx status in the message (refused before any
 * processing: transient); 5xx also comes back as ExchangeNotAvailable and 504 as RequestTimeout
 * (Binance: "execution status UNKNOWN", so unknown for a create); a duplicate client order id
 * comes back as InvalidOrder "Duplicate order sent." (reason `duplicate-client-order-id`).
 *
 * Standalone on purpose (the ccxt adapter calls it): no I/O, no state. Messages are cleaned of
 * request signatures and cut to a bounded length before they go into our errors (SEC-1).
 */
import {
  AccountSuspended,
  ArgumentsRequired,
  AuthenticationError,
  BadRequest,
  BadResponse,
  BadSymbol,
  BaseError,
  CancelPending,
  DDoSProtection,
  DuplicateOrderId,
  ExchangeError,
  ExchangeNotAvailable,
  InsufficientFunds,
  InvalidNonce,
  InvalidOrder,
  MarketClosed,
  NetworkError,
  NotSupported,
  OnMaintenance,
  OperationFailed,
  OperationRejected,
  OrderNotFound,
  PermissionDenied,
  RateLimitExceeded,
  RequestTimeout,
} from 'ccxt';
import {
  ExchangeRejectedError,
  ExchangeTransientError,
  ExchangeUnknownOutcomeError,
  TradewardenError,
} from '../../domain/errors.js';

/** Which kind of request failed: only a create or a cancel can have an unknown outcome. */
export type ExchangeOperation = 'create' | 'read' | 'cancel';

/** Stable reasons carried by ExchangeRejectedError (`reason`) and by the other two (`details.reason`). */
export const ExchangeErrorReason = {
  DuplicateClientOrderId: 'duplicate-client-order-id',
  OrderNotFound: 'order-not-found',
  InsufficientFunds: 'insufficient-funds',
  InvalidOrder: 'invalid-order',
  BadSymbol: 'bad-symbol',
  BadRequest: 'bad-request',
  InvalidArguments: 'invalid-arguments',
  Authentication: 'authentication',
  PermissionDenied: 'permission-denied',
  AccountSuspended: 'account-suspended',
  MarketClosed: 'market-closed',
  OperationRejected: 'operation-rejected',
  NotSupported: 'not-supported',
  ExchangeError: 'exchange-error',
  RateLimit: 'rate-limit',
  Maintenance: 'maintenance',
  ExchangeNotAvailable: 'exchange-not-available',
  ServerError: 'server-error',
  Timeout: 'timeout',
  InvalidNonce: 'invalid-nonce',
  Network: 'network',
  ConnectionRefused: 'connection-refused',
  BadResponse: 'bad-response',
  CancelPending: 'cancel-pending',
  OperationFailed: 'operation-failed',
  Unexpected: 'unexpected',
} as const;
export type ExchangeErrorReason = (typeof ExchangeErrorReason)[keyof typeof ExchangeErrorReason];

/** Longest exchange message kept in an error (an HTML error page can be many kilobytes). */
export const MAX_EXCHANGE_MESSAGE_LENGTH = 300;

/**
 * Transport failures that happen before a request leaves the machine (no connection, no
 * DNS): even a create cannot have reached the exchange. ccxt keeps the cause in the message.
 */
const NOT_SENT_PATTERN = /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ConnectionRefused|DNSError|FailedToOpenSocket|UND_ERR_CONNECT_TIMEOUT/;
/** The HTTP status ccxt puts in the message of an error raised from a status code: "<id> <METHOD> <url> <status> <reason> <body>". */
const HTTP_STATUS_PATTERN = /\s(?:GET|POST|PUT|DELETE|PATCH)\s+\S+\s+(\d{3})\s/;
const DUPLICATE_PATTERN = /duplicate/i;
const SIGNATURE_PATTERN = /(signature|apiKey|api_key|X-MBX-APIKEY)=([^&\s"']+)/gi;

/** Removes request signatures and keys from an exchange message and bounds its length. */
export function sanitizeExchangeMessage(message: string): string {
  const clean = message.replace(SIGNATURE_PATTERN, '$1=***').replace(/\s+/g, ' ').trim();
  return clean.length > MAX_EXCHANGE_MESSAGE_LENGTH ? `${clean.slice(0, MAX_EXCHANGE_MESSAGE_LENGTH)}...` : clean;
}

/** The HTTP status in a ccxt message raised from a status code, if any. */
export function httpStatusOf(message: string): number | undefined {
  const match = HTTP_STATUS_PATTERN.exec(message);
  return match?.[1] ? Number(match[1]) : undefined;
}

type Outcome = { kind: 'transient' | 'unknown'; reason: ExchangeErrorReason } | { kind: 'rejected'; reason: ExchangeErrorReason };

/** A mutation whose request may have been processed: unknown; a read: simply retry. */
function mayHaveReached(operation: ExchangeOperation, reason: ExchangeErrorReason): Outcome {
  return { kind: operation === 'read' ? 'transient' : 'unknown', reason };
}

/** Permanent answers, most specific class first (OrderNotFound and DuplicateOrderId are InvalidOrders). */
function permanent(error: ExchangeError, message: string): Outcome {
  const R = ExchangeErrorReason;
  if (error instanceof DuplicateOrderId) return { kind: 'rejected', reason: R.DuplicateClientOrderId };
  if (error instanceof OrderNotFound) return { kind: 'rejected', reason: R.OrderNotFound };
  if (error instanceof InvalidOrder) return { kind: 'rejected', reason: DUPLICATE_PATTERN.test(message) ? R.DuplicateClientOrderId : R.InvalidOrder };
  if (error instanceof InsufficientFunds) return { kind: 'rejected', reason: R.InsufficientFunds };
  if (error instanceof BadSymbol) return { kind: 'rejected', reason: R.BadSymbol };
  if (error instanceof BadRequest) return { kind: 'rejected', reason: R.BadRequest };
  if (error instanceof ArgumentsRequired) return { kind: 'rejected', reason: R.InvalidArguments };
  if (error instanceof PermissionDenied) return { kind: 'rejected', reason: R.PermissionDenied };
  if (error instanceof AccountSuspended) return { kind: 'rejected', reason: R.AccountSuspended };
  if (error instanceof AuthenticationError) return { kind: 'rejected', reason: R.Authentication };
  if (error instanceof MarketClosed) return { kind: 'rejected', reason: R.MarketClosed };
  if (error instanceof OperationRejected) return { kind: 'rejected', reason: R.OperationRejected };
  if (error instanceof NotSupported) return { kind: 'rejected', reason: R.NotSupported };
  return { kind: 'rejected', reason: R.ExchangeError };
}

/** Temporary failures: refused ones are transient; ones a mutation may have survived are unknown. */
function temporary(error: OperationFailed, message: string, operation: ExchangeOperation): Outcome {
  const R = ExchangeErrorReason;
  // The exchange refused the request before processing it (ban, rate limit, maintenance, clock).
  if (error instanceof DDoSProtection || error instanceof RateLimitExceeded) return { kind: 'transient', reason: R.RateLimit };
  if (error instanceof OnMaintenance) return { kind: 'transient', reason: R.Maintenance };
  if (error instanceof InvalidNonce) return { kind: 'transient', reason: R.InvalidNonce };
  if (error instanceof RequestTimeout) return mayHaveReached(operation, R.Timeout);
  if (error instanceof ExchangeNotAvailable) {
    const status = httpStatusOf(message);
    // 4xx (WAF HTML 403, non-JSON 400, 404/405/409/410/451): refused at the edge.
    if (status !== undefined && status >= 400 && status < 500) return { kind: 'transient', reason: R.ExchangeNotAvailable };
    // 5xx, or no status to tell: the request may have been executed.
    return mayHaveReached(operation, status !== undefined ? R.ServerError : R.ExchangeNotAvailable);
  }
  if (error instanceof NetworkError) {
    if (NOT_SENT_PATTERN.test(message)) return { kind: 'transient', reason: R.ConnectionRefused };
    return mayHaveReached(operation, R.Network);
  }
  if (error instanceof BadResponse) return mayHaveReached(operation, R.BadResponse);
  if (error instanceof CancelPending) return mayHaveReached(operation, R.CancelPending);
  // Binance -1000/-1001/-1006 ("execution status unknown") and anything else temporary.
  return mayHaveReached(operation, R.OperationFailed);
}

/**
 * Classifies an error raised by a ccxt call (or anything else thrown around it).
 * An error that is already a TradewardenError is returned unchanged. Anything that is not a
 * ccxt error (a TypeError from a bug, an AbortError) is treated like a network failure: a read
 * may be retried; a create or cancel has an unknown outcome, the safe side of EXE-3.
 */
export function classifyExchangeError(error: unknown, operation: ExchangeOperation): TradewardenError {
  if (error instanceof TradewardenError) return error;
  const raw = error instanceof Error ? error.message : String(error);
  const message = sanitizeExchangeMessage(raw);
  const errorClass = error instanceof Error ? error.name : typeof error;
  let outcome: Outcome;
  if (error instanceof ExchangeError) outcome = permanent(error, raw);
  else if (error instanceof OperationFailed) outcome = temporary(error, raw, operation);
  else if (error instanceof BaseError) outcome = mayHaveReached(operation, ExchangeErrorReason.Unexpected);
  else outcome = NOT_SENT_PATTERN.test(raw) ? { kind: 'transient', reason: ExchangeErrorReason.ConnectionRefused } : mayHaveReached(operation, ExchangeErrorReason.Unexpected);

  const status = httpStatusOf(raw);
  const details = { operation, errorClass, reason: outcome.reason, ...(status !== undefined ? { httpStatus: status } : {}) };
  // The cause keeps the class and the cleaned message, not the raw one: handlers log causes.
  const cause = Object.assign(new Error(message), { name: errorClass });
  const options = { cause, details };
  switch (outcome.kind) {
    case 'rejected':
      return new ExchangeRejectedError(message, outcome.reason, options);
    case 'unknown':
      return new ExchangeUnknownOutcomeError(message, options);
    case 'transient':
      return new ExchangeTransientError(message, options);
    default: {
      const exhaustive: never = outcome;
      return exhaustive;
    }
  }
}
