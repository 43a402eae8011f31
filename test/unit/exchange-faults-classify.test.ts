/**
 * EXE-3 / EXE-4: classification of ccxt errors, with the messages ccxt really builds for Binance.
 */
import {
  AccountSuspended,
  ArgumentsRequired,
  AuthenticationError,
  BadRequest,
  BadResponse,
  BadSymbol,
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
  NullResponse,
  OnMaintenance,
  OperationFailed,
  OperationRejected,
  OrderNotFound,
  PermissionDenied,
  RateLimitExceeded,
  RequestTimeout,
} from 'ccxt';
import { describe, expect, it } from 'vitest';
import {
  ExchangeRejectedError,
  ExchangeTransientError,
  ExchangeUnknownOutcomeError,
  StorageError,
  type TradewardenError,
} from '../../shared/domain/errors.js';
import {
  classifyExchangeError,
  httpStatusOf,
  MAX_EXCHANGE_MESSAGE_LENGTH,
  sanitizeExchangeMessage,
  type ExchangeOperation,
} from '../../shared/adapters/exchange/classify-exchange-error.js';

const ORDER_URL = 'https://api.binance.com/api/v3/order';
const SIGNED = `${ORDER_URL}?symbol=BTCUSDT&side=BUY&type=MARKET&quantity=0.001&newClientOrderId=tw-abc&timestamp=1795240800000&recvWindow=10000&signature=3f1a9b0c77d2e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9`;
const OPERATIONS: readonly ExchangeOperation[] = ['create', 'read', 'cancel'];

type Expected = 'transient' | 'unknown' | { rejected: string };

function kindOf(error: TradewardenError): Expected {
  if (error instanceof ExchangeRejectedError) return { rejected: error.reason };
  if (error instanceof ExchangeUnknownOutcomeError) return 'unknown';
  if (error instanceof ExchangeTransientError) return 'transient';
  throw new Error(`unexpected class ${error.name}`);
}

/** [description, error, expected for create, read, cancel] */
const CASES: readonly [string, unknown, Expected, Expected, Expected][] = [
  // Rate limits and bans: refused, nothing created.
  ['418 IP ban (DDoSProtection)', new DDoSProtection(`binance 418 I'm a teapot {"code":-1003,"msg":"Way too much request weight used; IP banned until 1795240900000."}`), 'transient', 'transient', 'transient'],
  ['429 too many requests (DDoSProtection)', new DDoSProtection('binance 429 Too Many Requests {"code":-1003,"msg":"Too much request weight used"}'), 'transient', 'transient', 'transient'],
  ['-1015 too many new orders (RateLimitExceeded)', new RateLimitExceeded('binance {"code":-1015,"msg":"Too many new orders; current limit is 50 orders per 10 SECOND."}'), 'transient', 'transient', 'transient'],
  ['maintenance (OnMaintenance)', new OnMaintenance('binance System is under maintenance.'), 'transient', 'transient', 'transient'],
  ['-1021 timestamp outside recvWindow (InvalidNonce)', new InvalidNonce('binance {"code":-1021,"msg":"Timestamp for this request is outside of the recvWindow."}'), 'transient', 'transient', 'transient'],
  // Binance quirks routed through ExchangeNotAvailable: 4xx refused at the edge, 5xx unknown.
  ['HTML 403 from the WAF', new ExchangeNotAvailable(`binance POST ${SIGNED} 403 Forbidden <html><head><title>403 Forbidden</title></head><body>Request blocked</body></html>`), 'transient', 'transient', 'transient'],
  ['non-JSON 400 (empty body)', new ExchangeNotAvailable(`binance POST ${ORDER_URL} 400 Bad Request `), 'transient', 'transient', 'transient'],
  ['502 bad gateway', new ExchangeNotAvailable(`binance POST ${ORDER_URL} 502 Bad Gateway <html>bad gateway</html>`), 'unknown', 'transient', 'unknown'],
  ['503 service unavailable', new ExchangeNotAvailable(`binance GET ${ORDER_URL} 503 Service Unavailable {"code":-1008,"msg":"Server is currently overloaded"}`), 'unknown', 'transient', 'unknown'],
  ['ExchangeNotAvailable without a status', new ExchangeNotAvailable('binance exchange not available'), 'unknown', 'transient', 'unknown'],
  ['504 gateway timeout (RequestTimeout)', new RequestTimeout(`binance POST ${ORDER_URL} 504 Gateway Time-out `), 'unknown', 'transient', 'unknown'],
  ['client-side timeout (RequestTimeout)', new RequestTimeout(`binance POST ${ORDER_URL} request timed out (10000 ms)`), 'unknown', 'transient', 'unknown'],
  ['-1007 backend timeout (RequestTimeout)', new RequestTimeout('binance {"code":-1007,"msg":"Timeout waiting for response from backend server. Send status unknown; execution status unknown."}'), 'unknown', 'transient', 'unknown'],
  // Transport: refused before sending is transient even for a create; a reset may be after.
  ['connection refused', new NetworkError(`binance POST ${ORDER_URL} fetch failed: connect ECONNREFUSED 13.32.1.1:443`), 'transient', 'transient', 'transient'],
  ['DNS failure', new NetworkError(`binance POST ${ORDER_URL} fetch failed: getaddrinfo ENOTFOUND api.binance.com`), 'transient', 'transient', 'transient'],
  ['connection reset', new NetworkError(`binance POST ${ORDER_URL} fetch failed: read ECONNRESET`), 'unknown', 'transient', 'unknown'],
  ['bad response', new BadResponse('binance returned an unparseable body'), 'unknown', 'transient', 'unknown'],
  ['null response', new NullResponse('binance returned null'), 'unknown', 'transient', 'unknown'],
  ['-1006 execution status unknown (OperationFailed)', new OperationFailed('binance {"code":-1006,"msg":"An unexpected response was received from the message bus. Execution status unknown."}'), 'unknown', 'transient', 'unknown'],
  ['cancel pending', new CancelPending('binance cancel pending'), 'unknown', 'transient', 'unknown'],
  // Permanent answers.
  ['duplicate client order id (InvalidOrder "Duplicate")', new InvalidOrder('binance {"code":-2010,"msg":"Duplicate order sent."}'), { rejected: 'duplicate-client-order-id' }, { rejected: 'duplicate-client-order-id' }, { rejected: 'duplicate-client-order-id' }],
  ['DuplicateOrderId', new DuplicateOrderId('binance duplicate'), { rejected: 'duplicate-client-order-id' }, { rejected: 'duplicate-client-order-id' }, { rejected: 'duplicate-client-order-id' }],
  ['insufficient balance', new InsufficientFunds('binance Account has insufficient balance for requested action.'), { rejected: 'insufficient-funds' }, { rejected: 'insufficient-funds' }, { rejected: 'insufficient-funds' }],
  ['below minimum notional (InvalidOrder)', new InvalidOrder('binance {"code":-1013,"msg":"Filter failure: NOTIONAL"}'), { rejected: 'invalid-order' }, { rejected: 'invalid-order' }, { rejected: 'invalid-order' }],
  ['lot size (InvalidOrder)', new InvalidOrder('binance order amount should be evenly divisible by lot size {"code":-1013,"msg":"Filter failure: LOT_SIZE"}'), { rejected: 'invalid-order' }, { rejected: 'invalid-order' }, { rejected: 'invalid-order' }],
  ['unknown order (OrderNotFound)', new OrderNotFound('binance {"code":-2013,"msg":"Order does not exist."}'), { rejected: 'order-not-found' }, { rejected: 'order-not-found' }, { rejected: 'order-not-found' }],
  ['bad symbol', new BadSymbol('binance does not have market symbol FOO/USDT'), { rejected: 'bad-symbol' }, { rejected: 'bad-symbol' }, { rejected: 'bad-symbol' }],
  ['bad request', new BadRequest('binance {"code":-1102,"msg":"Mandatory parameter was not sent"}'), { rejected: 'bad-request' }, { rejected: 'bad-request' }, { rejected: 'bad-request' }],
  ['arguments required', new ArgumentsRequired('binance createOrder() requires a price argument for a limit order'), { rejected: 'invalid-arguments' }, { rejected: 'invalid-arguments' }, { rejected: 'invalid-arguments' }],
  ['invalid API key (AuthenticationError)', new AuthenticationError('binance {"code":-2014,"msg":"API-key format invalid."}'), { rejected: 'authentication' }, { rejected: 'authentication' }, { rejected: 'authentication' }],
  ['permission denied', new PermissionDenied('binance {"code":-2015,"msg":"Invalid API-key, IP, or permissions for action."}'), { rejected: 'permission-denied' }, { rejected: 'permission-denied' }, { rejected: 'permission-denied' }],
  ['account suspended', new AccountSuspended('binance account suspended'), { rejected: 'account-suspended' }, { rejected: 'account-suspended' }, { rejected: 'account-suspended' }],
  ['market closed', new MarketClosed('binance market closed'), { rejected: 'market-closed' }, { rejected: 'market-closed' }, { rejected: 'market-closed' }],
  ['operation rejected', new OperationRejected('binance {"code":-2011,"msg":"Unknown order sent."}'), { rejected: 'operation-rejected' }, { rejected: 'operation-rejected' }, { rejected: 'operation-rejected' }],
  ['not supported', new NotSupported('binance fetchOrder() is not supported'), { rejected: 'not-supported' }, { rejected: 'not-supported' }, { rejected: 'not-supported' }],
  ['generic ExchangeError', new ExchangeError('binance {"code":-9999,"msg":"Something new"}'), { rejected: 'exchange-error' }, { rejected: 'exchange-error' }, { rejected: 'exchange-error' }],
  // Not ccxt at all.
  ['a TypeError from a bug', new TypeError("Cannot read properties of undefined (reading 'id')"), 'unknown', 'transient', 'unknown'],
  ['a thrown string', 'boom', 'unknown', 'transient', 'unknown'],
  ['a raw ECONNREFUSED', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:443'), { code: 'ECONNREFUSED' }), 'transient', 'transient', 'transient'],
];

describe('Function: classifyExchangeError', () => {
  for (const [name, error, create, read, cancel] of CASES) {
    it(`classifies ${name}`, () => {
      const expected = { create, read, cancel };
      for (const operation of OPERATIONS) {
        const classified = classifyExchangeError(error, operation);
        expect(kindOf(classified), `${name} on ${operation}`).toEqual(expected[operation]);
        expect(classified.retryable).toBe(!(classified instanceof ExchangeRejectedError));
        expect(classified.details).toMatchObject({ operation });
        expect(classified.cause).toBeInstanceOf(Error);
      }
    });
  }

  it('never calls a failed create simply transient unless the request certainly did not leave or was refused', () => {
    const refusedOrNotSent = new Set(['rate-limit', 'maintenance', 'invalid-nonce', 'exchange-not-available', 'connection-refused']);
    for (const [name, error] of CASES) {
      const classified = classifyExchangeError(error, 'create');
      if (classified instanceof ExchangeTransientError) expect(refusedOrNotSent.has(String(classified.details.reason)), name).toBe(true);
    }
  });

  it('passes a Tradewarden error through unchanged', () => {
    const original = new StorageError('table unavailable');
    expect(classifyExchangeError(original, 'create')).toBe(original);
  });

  it('keeps the HTTP status and the ccxt class in the details', () => {
    const classified = classifyExchangeError(new ExchangeNotAvailable(`binance POST ${ORDER_URL} 502 Bad Gateway x`), 'create');
    expect(classified.details).toMatchObject({ httpStatus: 502, errorClass: 'ExchangeNotAvailable', reason: 'server-error' });
  });

  it('removes request signatures from messages and causes, and bounds their length', () => {
    const classified = classifyExchangeError(new ExchangeNotAvailable(`binance POST ${SIGNED} 403 Forbidden <html>${'x'.repeat(5000)}</html>`), 'create');
    for (const text of [classified.message, (classified.cause as Error).message, JSON.stringify(classified.toJSON())]) {
      expect(text).not.toContain('3f1a9b0c77d2e4f5');
      expect(text).toContain('signature=***');
    }
    expect(classified.message.length).toBeLessThanOrEqual(MAX_EXCHANGE_MESSAGE_LENGTH + 3);
    expect(sanitizeExchangeMessage('a  b\n c')).toBe('a b c');
  });

  it('reads the status ccxt puts in messages raised from HTTP codes, and nothing else', () => {
    expect(httpStatusOf(`binance POST ${ORDER_URL} 403 Forbidden <html>`)).toBe(403);
    expect(httpStatusOf('binance {"code":-1013,"msg":"Filter failure: NOTIONAL"}')).toBeUndefined();
  });
});
