/**
 * The equity curve's value at every close, on numbers: cash plus positions and fee-asset holdings
 * at the last closes, as `equity` (shared/domain/account.ts) values the book. The book's parts
 * are read once per book version; each close then costs a few multiplications. The figures of
 * the report that come from the curve (drawdown, Sharpe, Sortino, exposure) are statistics, so
 * a double's rounding is immaterial there; the final equity and every booked amount stay decimal.
 */
import type { AccountBook } from '../../shared/domain/account.js';
import { dec, isZero } from '../../shared/domain/money.js';

interface Term {
  /** The price key: a symbol, or `ASSET/QUOTE` for a holding. */
  readonly key: string;
  readonly qty: number;
  /** The value when no price is known: the position's cost price times qty, the holding's basis. */
  readonly fallback: number;
  readonly perUnit: boolean;
}

export class EquityValuation {
  readonly #base: number;
  readonly #terms: readonly Term[];
  /** Whether any position is open (time in the market). */
  readonly exposed: boolean;

  constructor(readonly book: AccountBook) {
    this.#base = dec(book.available).plus(book.reserved).toNumber();
    const terms: Term[] = [];
    for (const p of Object.values(book.positions)) {
      if (!isZero(p.qty)) terms.push({ key: p.symbol, qty: Number(p.qty), fallback: Number(p.avgPrice), perUnit: true });
    }
    this.exposed = terms.length > 0;
    for (const h of Object.values(book.holdings ?? {})) terms.push({ key: `${h.asset}/${book.currency}`, qty: Number(h.qty), fallback: Number(h.basis), perUnit: false });
    this.#terms = terms;
  }

  /** Equity at `price(key)` (undefined: no price known for that market). */
  value(price: (key: string) => number | undefined): number {
    let value = this.#base;
    for (const t of this.#terms) {
      const p = price(t.key);
      value += p !== undefined ? t.qty * p : t.perUnit ? t.qty * t.fallback : t.fallback;
    }
    return value;
  }
}
