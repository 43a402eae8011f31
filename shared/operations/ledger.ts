/**
 * The operator's view of the book and changes to it (REC-6, REC-7): `ops ledger show | deposit |
 * withdraw | rebase`. Every change:
 * 1. validates the input before it reads anything (asset code, plain positive decimal amount, a
 *    reason for a rebase): bad input is a coded VALIDATION_FAILED and changes nothing;
 * 2. reads the book and computes the next one (domain/ledger.ts); an impossible change (more
 *    than is free, cash below what orders reserve) is a coded error and changes nothing;
 * 3. audits the change on the account stream (before the write, as every decision is);
 * 4. writes the book conditional on the version it read, once: a book that changed in between
 *    (a fill, another operator) refuses the write with CONCURRENT_MODIFICATION; run it again.
 *
 * A deposit or a withdrawal moves money between Tradewarden's budget and outside the exchange:
 * the exchange's balance moves with the book, the external baseline stays. A rebase states what
 * Tradewarden holds of an asset and records the baseline again from the exchange: use it to move
 * money between the budget and the rest of the account, or to correct the book.
 */
import type { AccountBook } from '../domain/account.js';
import { checkBook } from '../domain/account.js';
import { ErrorCode, StorageError, TradewardenError, ValidationError } from '../domain/errors.js';
import { bookHolding, depositToBook, ledgerAmount, ledgerAsset, rebaseBook, withBaselines, withdrawFromBook } from '../domain/ledger.js';
import { dec, str, UNSIGNED_DECIMAL_PATTERN, type DecimalString } from '../domain/money.js';
import { accountStream } from '../use-cases/reconcile-balances.js';
import type { OperatorDeps } from './ports.js';

type LedgerDeps = Pick<OperatorDeps, 'config' | 'clock' | 'accounts' | 'exchange' | 'audit'>;

/** The book as `ops ledger show` prints it. */
export interface LedgerView {
  readonly currency: string;
  readonly version: number;
  readonly total: DecimalString;
  readonly available: DecimalString;
  readonly reserved: DecimalString;
  readonly committed: DecimalString;
  readonly holdings: Readonly<Record<string, DecimalString>>;
  readonly positions: Readonly<Record<string, DecimalString>>;
  /** External baseline per tracked asset (REC-7). */
  readonly baselines: Readonly<Record<string, DecimalString>>;
  readonly driftMode: string;
  readonly opened?: AccountBook['opened'];
  readonly updatedAt: string;
}

export type LedgerChangeKind = 'deposit' | 'withdraw' | 'rebase';

export interface LedgerChangeInput {
  readonly kind: LedgerChangeKind;
  readonly asset: string;
  /** As typed by the operator. */
  readonly amount: string;
  readonly author: string;
  /** Required for a rebase. */
  readonly reason?: string;
}

export interface LedgerChangeResult {
  readonly kind: LedgerChangeKind;
  readonly asset: string;
  readonly amount: DecimalString;
  readonly before: DecimalString;
  readonly after: DecimalString;
  readonly baseline?: DecimalString;
  readonly version: number;
}

export async function showLedger(deps: LedgerDeps): Promise<LedgerView> {
  const book = await readBook(deps);
  return {
    currency: book.currency,
    version: book.version,
    total: book.total,
    available: book.available,
    reserved: book.reserved,
    committed: book.committed,
    holdings: Object.fromEntries(Object.entries(book.holdings ?? {}).map(([asset, h]) => [asset, h.qty])),
    positions: Object.fromEntries(Object.entries(book.positions).filter(([, p]) => !dec(p.qty).isZero()).map(([symbol, p]) => [symbol, p.qty])),
    baselines: book.baselines ?? {},
    driftMode: deps.config.driftMode,
    ...(book.opened ? { opened: book.opened } : {}),
    updatedAt: book.updatedAt,
  };
}

export async function changeLedger(deps: LedgerDeps, input: LedgerChangeInput): Promise<LedgerChangeResult> {
  // 1. Input first: nothing is read for a bad command.
  const asset = ledgerAsset(input.asset);
  const amount = ledgerAmount(input.amount, `${input.kind} amount`, { allowZero: input.kind === 'rebase' });
  if (input.kind === 'rebase' && (input.reason === undefined || input.reason.trim().length === 0)) throw new ValidationError('rebase needs --reason "..."', ['reason']);

  // 2. Read and compute.
  const book = await readBook(deps);
  const at = deps.clock.now();
  const quote = book.currency;
  const price = asset === quote ? undefined : await priceOf(deps, asset, quote);
  let next: AccountBook;
  if (input.kind === 'deposit') next = depositToBook(book, asset, amount, price, at);
  else if (input.kind === 'withdraw') next = withdrawFromBook(book, asset, amount, at);
  else {
    next = rebaseBook(book, asset, amount, price, at);
    const balances = await deps.exchange.fetchBalances();
    next = withBaselines(next, Object.fromEntries(Object.entries(balances).map(([a, b]) => [a, b.total])), [asset], at);
  }
  const problems = checkBook(next);
  if (problems.length > 0) throw new ValidationError(`the ${input.kind} would unbalance the book: ${problems.join('; ')}`, problems);
  const result: LedgerChangeResult = {
    kind: input.kind,
    asset,
    amount,
    before: str(bookHolding(book, asset)),
    after: str(bookHolding(next, asset)),
    ...(input.kind === 'rebase' ? { baseline: next.baselines?.[asset] ?? '0' } : {}),
    version: book.version + 1,
  };

  // 3. Audit, then 4. the conditional write on the version read.
  await deps.audit.append(
    accountStream(quote),
    { type: `ledger.${input.kind}`, data: { ...result, fromVersion: book.version, author: input.author, ...(input.reason ? { reason: input.reason } : {}), total: next.total } },
    at,
  );
  await deps.accounts.update(quote, (current) => {
    if (current.version !== book.version) {
      throw new TradewardenError(ErrorCode.ConcurrentModification, `the book changed since it was read (version ${book.version}, now ${current.version}): nothing written, run the command again`, true, {
        details: { expectedVersion: book.version, version: current.version },
      });
    }
    return next;
  });
  return result;
}

async function readBook(deps: LedgerDeps): Promise<AccountBook> {
  const book = await deps.accounts.get(deps.config.quoteCurrency);
  if (!book) throw new StorageError(`no ${deps.config.quoteCurrency} book yet: it opens on the first executor or reconciler run`, { details: { currency: deps.config.quoteCurrency } });
  return book;
}

async function priceOf(deps: LedgerDeps, asset: string, quote: string): Promise<DecimalString | undefined> {
  const [ticker] = await deps.exchange.fetchTickers([`${asset}/${quote}`]);
  return ticker && UNSIGNED_DECIMAL_PATTERN.test(ticker.last) && dec(ticker.last).gt(0) ? ticker.last : undefined;
}
