/**
 * Fees per currency (EXE-12). An exchange charges a fill's fee in the quote currency, in the
 * coin bought (Binance without BNB), or in a third asset (BNB). A fee is therefore a list of
 * amounts, one per currency, never one number converted to quote at the edge: converting a
 * base-coin fee to quote leaves the position holding coins the account does not have.
 *
 * Amounts are cumulative per order, like the fill itself, so booking takes the difference to
 * what was booked before (`feeDeltas`) and a repeated report books nothing.
 */
import { ValidationError } from './errors.js';
import { DECIMAL_PATTERN, Decimal, canonical, dec, str, type DecimalString } from './money.js';

/** One currency's part of a fee. `amount` is usually >= 0; a negative amount is a rebate. */
export interface FeeAmount {
  readonly currency: string;
  readonly amount: DecimalString;
}

/** An asset code as exchanges spell it (`USDT`, `BTC`, `BNB`, `1000SATS`). */
export const ASSET_PATTERN = /^[A-Z0-9]{2,15}$/;

/**
 * One entry per currency, zero amounts dropped, sorted by currency: the canonical form that is
 * stored and compared.
 * @throws ValidationError when a currency or an amount is malformed.
 */
export function normalizeFees(fees: readonly FeeAmount[]): FeeAmount[] {
  // The usual report: one currency's fee, already in canonical form (as `str` writes it): its own
  // total, so it is kept as it is, without a sum.
  if (fees.length === 1) {
    const only = fees[0]!;
    if (ASSET_PATTERN.test(only.currency) && DECIMAL_PATTERN.test(only.amount) && canonical(only.amount) === only.amount) {
      return only.amount === '0' ? [] : [{ currency: only.currency, amount: only.amount }];
    }
  }
  const totals = new Map<string, Decimal>();
  for (const fee of fees) {
    if (!ASSET_PATTERN.test(fee.currency)) throw new ValidationError(`fee currency ${JSON.stringify(fee.currency)} is not an asset code`, ['fees', 'currency']);
    if (!DECIMAL_PATTERN.test(fee.amount)) throw new ValidationError(`fee amount ${JSON.stringify(fee.amount)} is not a decimal`, ['fees', 'amount']);
    totals.set(fee.currency, (totals.get(fee.currency) ?? new Decimal(0)).plus(dec(fee.amount)));
  }
  return [...totals.entries()]
    .filter(([, amount]) => !amount.isZero())
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([currency, amount]) => ({ currency, amount: str(amount) }));
}

/** The fee charged in `currency` ('0' when none). */
export function feeIn(fees: readonly FeeAmount[], currency: string): DecimalString {
  // Normalized fees hold one canonical amount per currency: that amount is the total.
  let match: FeeAmount | undefined;
  let matches = 0;
  for (const fee of fees) {
    if (fee.currency !== currency) continue;
    match = fee;
    matches += 1;
  }
  if (matches === 0) return '0';
  if (matches === 1 && DECIMAL_PATTERN.test(match!.amount) && canonical(match!.amount) === match!.amount) return match!.amount;
  let total = new Decimal(0);
  for (const fee of fees) if (fee.currency === currency) total = total.plus(dec(fee.amount));
  return str(total);
}

/** A fee in one currency, or no fee at all when the amount is zero. */
export function feeOf(currency: string, amount: DecimalString): FeeAmount[] {
  return dec(amount).isZero() ? [] : [{ currency, amount: str(dec(amount)) }];
}

/** What `reported` adds to `booked`, per currency (cumulative amounts; zero differences dropped). */
export function feeDeltas(reported: readonly FeeAmount[], booked: readonly FeeAmount[]): FeeAmount[] {
  if (booked.length === 0) return normalizeFees(reported);
  return normalizeFees([...reported, ...booked.map((fee) => ({ currency: fee.currency, amount: str(dec(fee.amount).neg()) }))]);
}
