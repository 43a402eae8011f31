/** Errors of the backtest's input data: each names the file and the line. */
import { ErrorCode, TradewardenError } from '../../shared/domain/errors.js';

/** A row, a file or a data set that cannot be backtested; no report is written. */
export class BacktestDataError extends TradewardenError {
  constructor(readonly file: string, readonly line: number, reason: string) {
    super(ErrorCode.BacktestDataInvalid, `${file}${line > 0 ? `:${line}` : ''}: ${reason}`, false, { details: { file, line, reason } });
    this.name = 'BacktestDataError';
  }
}
