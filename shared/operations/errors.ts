/**
 * Errors of the operator tools. Each says what is missing and what to run; none carries a stack
 * trace to the terminal.
 */
import { ErrorCode, TradewardenError, type TradewardenErrorOptions } from '../domain/errors.js';

/**
 * The stack a command targets cannot be found or reached: unknown stage, missing outputs file,
 * outputs lacking a key, no AWS credentials or region, the local state held by another process.
 */
export class StackUnavailableError extends TradewardenError {
  constructor(
    message: string,
    /** What to run to fix it. */
    readonly hint: string,
    options: TradewardenErrorOptions = {},
  ) {
    super(ErrorCode.StackUnavailable, `${message}; ${hint}`, false, { ...options, details: { hint, ...options.details } });
    this.name = 'StackUnavailableError';
  }
}

/** A destructive command was not confirmed; nothing was done. */
export class NotConfirmedError extends TradewardenError {
  constructor(what: string) {
    super(ErrorCode.NotConfirmed, `${what} was not confirmed; nothing was done (pass --yes to confirm without a prompt)`, false);
    this.name = 'NotConfirmedError';
  }
}
