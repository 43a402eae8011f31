/**
 * The book's relation to the real account (REC-6, REC-7), pure: how the book opens from the
 * exchange's balances within a budget, and the operator's changes to it (deposit, withdraw,
 * rebase). Each returns the next book; the store writes it conditional on the version read.
 *
 * The external baseline: what the exchange holds of a tracked asset that is not Tradewarden's
 * (the owner's other coins, another deployment's budget), recorded when the book opens and
 * whenever the operator rebases. The drift check expects the exchange to hold the book plus the
 * baseline (domain/drift.ts), so holdings that are none of Tradewarden's business are no drift.
 */
import type { AccountBook } from './account.js';
import { depositHolding, openBook } from './account.js';
import { InsufficientBudgetError, ValidationError } from './errors.js';
import { ASSET_PATTERN } from './fees.js';
import { Decimal, UNSIGNED_DECIMAL_PATTERN, dec, str, type DecimalString } from './money.js';
import { LEDGER_SCALE } from './position.js';

/** Budget per asset (`TW_BUDGET=USDT:1000,BNB:0.5`). */
export type Budget = Readonly<Record<string, DecimalString>>;

/** Largest amount a ledger command accepts: anything above is a typo, not a deposit (SEC-4). */
export const MAX_LEDGER_AMOUNT = '1000000000000';

/**
 * Parses `ASSET:amount,...`.
 * @throws ValidationError naming the bad entry.
 */
export function parseBudget(text: string): Budget {
  const budget: Record<string, DecimalString> = {};
  for (const entry of text.split(',').map((e) => e.trim()).filter((e) => e.length > 0)) {
    const [asset, amount, ...rest] = entry.split(':');
    if (asset === undefined || amount === undefined || rest.length > 0 || !ASSET_PATTERN.test(asset)) {
      throw new ValidationError(`budget entry ${JSON.stringify(entry)} must look like USDT:1000`, ['budget']);
    }
    if (Object.hasOwn(budget, asset)) throw new ValidationError(`budget names ${asset} twice`, ['budget']);
    budget[asset] = ledgerAmount(amount, `budget of ${asset}`, { allowZero: false });
  }
  if (Object.keys(budget).length === 0) throw new ValidationError('budget is empty: use ASSET:amount pairs such as USDT:1000', ['budget']);
  return budget;
}

/**
 * An amount typed by an operator: a plain non-negative decimal (no sign, exponent, NaN or
 * Infinity), not above MAX_LEDGER_AMOUNT, and positive unless `allowZero`.
 * @throws ValidationError
 */
export function ledgerAmount(text: string, what: string, options: { allowZero: boolean }): DecimalString {
  if (!UNSIGNED_DECIMAL_PATTERN.test(text) || text.length > 40) throw new ValidationError(`${what} must be a non-negative decimal such as 100 or 0.5, got ${JSON.stringify(text)}`, ['amount']);
  const value = dec(text);
  if (!options.allowZero && value.isZero()) throw new ValidationError(`${what} must be greater than zero`, ['amount']);
  if (value.gt(MAX_LEDGER_AMOUNT)) throw new ValidationError(`${what} must not exceed ${MAX_LEDGER_AMOUNT}`, ['amount']);
  return str(value);
}

/** @throws ValidationError unless `asset` is an asset code. */
export function ledgerAsset(asset: string): string {
  if (!ASSET_PATTERN.test(asset)) throw new ValidationError(`asset must be an asset code such as USDT or BNB, got ${JSON.stringify(asset)}`, ['asset']);
  return asset;
}

/** What opening the book took from the account, for the audit record. */
export interface Opening {
  readonly at: string;
  /** `exchange`: from the exchange's balances (live, or paper with a budget); `configured`: the paper opening balance. */
  readonly source: 'exchange' | 'configured';
  /** The budget it was limited to; absent: the whole free balance. */
  readonly budget?: Budget;
  /** What each asset opened with. */
  readonly amounts: Readonly<Record<string, DecimalString>>;
  /** Budgets above the free balance, opened with the free balance instead. */
  readonly capped?: readonly string[];
}

export interface OpenFromBalancesInput {
  readonly quoteCurrency: string;
  readonly budget?: Budget;
  /** Free balance per asset. */
  readonly free: Readonly<Record<string, DecimalString>>;
  /** Assets the exchange lists (its balance assets and its markets' bases and quotes). */
  readonly listed: ReadonlySet<string>;
  /** Quote price of each non-quote budget asset (`BNB` -> price in the quote currency). */
  readonly prices: Readonly<Record<string, DecimalString>>;
  readonly at: Date;
}

/**
 * The book a first start opens from the exchange (REC-6): each budget asset at its budget, or at
 * the free balance when that is smaller; without a budget, the whole free quote balance. Assets
 * other than the quote currency become holdings at their price now. Baselines are recorded
 * separately (`withBaselines`), from the totals.
 * @throws ValidationError for a budget asset the exchange does not list, a budget without the
 * quote currency, or a non-quote asset without a price.
 */
export function openFromBalances(input: OpenFromBalancesInput): { book: AccountBook; opening: Opening } {
  const { quoteCurrency, budget } = input;
  if (budget) {
    const unlisted = Object.keys(budget).filter((asset) => !input.listed.has(asset));
    if (unlisted.length > 0) throw new ValidationError(`budget for ${unlisted.join(', ')}: the exchange does not list ${unlisted.length > 1 ? 'them' : 'it'}`, unlisted.map((a) => `budget: ${a}`));
    if (budget[quoteCurrency] === undefined) throw new ValidationError(`the budget must name the quote currency ${quoteCurrency}`, ['budget']);
  }
  const wanted: Record<string, DecimalString> = budget ? { ...budget } : { [quoteCurrency]: input.free[quoteCurrency] ?? '0' };
  const amounts: Record<string, DecimalString> = {};
  const capped: string[] = [];
  for (const [asset, amount] of Object.entries(wanted)) {
    const free = dec(input.free[asset] ?? '0');
    if (dec(amount).gt(free)) capped.push(asset);
    amounts[asset] = str(Decimal.min(dec(amount), free));
  }
  const at = input.at;
  let book = openBook(quoteCurrency, amounts[quoteCurrency] ?? '0', at);
  for (const [asset, qty] of Object.entries(amounts)) {
    if (asset === quoteCurrency || dec(qty).isZero()) continue;
    const price = input.prices[asset];
    if (price === undefined) throw new ValidationError(`no ${asset}/${quoteCurrency} price to value the ${asset} budget`, [`budget: ${asset}`]);
    book = depositHolding(book, asset, qty, price, at);
  }
  const opening: Opening = { at: at.toISOString(), source: 'exchange', ...(budget ? { budget } : {}), amounts, ...(capped.length > 0 ? { capped } : {}) };
  return { book: { ...book, opened: opening }, opening };
}

/** What the book holds of `asset`: cash for the quote currency, else positions of `<ASSET>/<QUOTE>` plus the holding. */
export function bookHolding(book: AccountBook, asset: string): Decimal {
  if (asset === book.currency) return dec(book.available).plus(book.reserved);
  let qty = new Decimal(0);
  for (const [symbol, position] of Object.entries(book.positions)) {
    if (symbol === `${asset}/${book.currency}`) qty = qty.plus(position.qty);
  }
  const held = book.holdings?.[asset];
  return held ? qty.plus(held.qty) : qty;
}

/**
 * Records, for each of `assets`, the external baseline: what the exchange holds beyond the book
 * (never below zero: a book above the exchange is drift, not a negative baseline).
 */
export function withBaselines(book: AccountBook, totals: Readonly<Record<string, DecimalString>>, assets: readonly string[], at: Date): AccountBook {
  const baselines: Record<string, DecimalString> = { ...(book.baselines ?? {}) };
  for (const asset of assets) baselines[asset] = str(Decimal.max(0, dec(totals[asset] ?? '0').minus(bookHolding(book, asset))));
  return { ...book, baselines, updatedAt: at.toISOString() };
}

/**
 * Money the operator adds to Tradewarden's budget (it is on the exchange now): quote as cash,
 * another asset as a holding at `price`.
 */
export function depositToBook(book: AccountBook, asset: string, amount: DecimalString, price: DecimalString | undefined, at: Date): AccountBook {
  if (asset === book.currency) {
    return { ...book, total: str(dec(book.total).plus(amount)), available: str(dec(book.available).plus(amount)), updatedAt: at.toISOString() };
  }
  assertNoPosition(book, asset, 'deposit');
  if (price === undefined) throw new ValidationError(`no ${asset}/${book.currency} price to value the deposit`, ['asset']);
  return depositHolding(book, asset, amount, price, at);
}

/**
 * Money the operator takes out of Tradewarden's budget: quote from available cash (reserved cash
 * belongs to orders in flight), another asset from its holding with its share of the basis.
 * @throws InsufficientBudgetError when the book does not have that much free.
 */
export function withdrawFromBook(book: AccountBook, asset: string, amount: DecimalString, at: Date): AccountBook {
  const value = dec(amount);
  if (asset === book.currency) {
    if (dec(book.available).lt(value)) throw new InsufficientBudgetError(`available ${book.available} ${asset} < ${amount}: nothing withdrawn`, { details: { available: book.available, requested: amount } });
    return { ...book, total: str(dec(book.total).minus(value)), available: str(dec(book.available).minus(value)), updatedAt: at.toISOString() };
  }
  assertNoPosition(book, asset, 'withdraw');
  const held = book.holdings?.[asset];
  if (!held || dec(held.qty).lt(value)) throw new InsufficientBudgetError(`the book holds ${held?.qty ?? '0'} ${asset} < ${amount}: nothing withdrawn`, { details: { held: held?.qty ?? '0', requested: amount } });
  const basis = dec(held.basis).times(value).div(held.qty).toDecimalPlaces(LEDGER_SCALE, Decimal.ROUND_HALF_EVEN);
  return {
    ...book,
    total: str(dec(book.total).minus(basis)),
    committed: str(dec(book.committed).minus(basis)),
    holdings: { ...(book.holdings ?? {}), [asset]: { ...held, qty: str(dec(held.qty).minus(value)), basis: str(dec(held.basis).minus(basis)) } },
    updatedAt: at.toISOString(),
  };
}

/**
 * Sets what the book holds of `asset` to `amount` (a correction the operator states with a
 * reason): quote cash through `available` (reserved cash stays with its orders, and the total
 * moves with it), another asset's holding at `price` like a deposit or a withdrawal. An asset held as a position is corrected by trading, not here: its amount
 * must equal the position (then only the baseline is recorded again).
 * @throws ValidationError when the correction is impossible (cash below what orders reserve).
 */
export function rebaseBook(book: AccountBook, asset: string, amount: DecimalString, price: DecimalString | undefined, at: Date): AccountBook {
  const target = dec(amount);
  if (asset === book.currency) {
    if (target.lt(book.reserved)) throw new ValidationError(`cannot rebase ${asset} to ${amount}: ${book.reserved} is reserved by orders in flight`, ['amount']);
    const delta = target.minus(dec(book.available).plus(book.reserved));
    return { ...book, total: str(dec(book.total).plus(delta)), available: str(dec(book.available).plus(delta)), updatedAt: at.toISOString() };
  }
  const position = book.positions[`${asset}/${book.currency}`];
  if (position && !dec(position.qty).isZero()) {
    if (!bookHolding(book, asset).eq(target)) throw new ValidationError(`${asset} is held as a position of ${position.qty}: close or trade it; rebase ${asset} only to its amount ${str(bookHolding(book, asset))} (to record the baseline again)`, ['asset']);
    return book;
  }
  const held = book.holdings?.[asset] ?? { asset, qty: '0', basis: '0', realizedPnl: '0' };
  const delta = target.minus(held.qty);
  if (delta.isZero()) return book;
  if (delta.gt(0)) {
    if (price === undefined) throw new ValidationError(`no ${asset}/${book.currency} price to value the rebase`, ['asset']);
    return depositHolding(book, asset, str(delta), price, at);
  }
  return withdrawFromBook(book, asset, str(delta.neg()), at);
}

function assertNoPosition(book: AccountBook, asset: string, what: string): void {
  const position = book.positions[`${asset}/${book.currency}`];
  if (position && !dec(position.qty).isZero()) throw new ValidationError(`cannot ${what} ${asset}: it is held as the position ${position.symbol}; trade it instead`, ['asset']);
}
