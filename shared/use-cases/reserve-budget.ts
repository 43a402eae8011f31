/**
 * The executor's reservation of an order's budget (EXE-7), with the risk limits of an entry
 * checked in the same conditional write of the account book (EXE-13, domain/entry-limits.ts).
 * `reserveBudget` writes only; its record (`reservedRecord`) is written by the caller, so that a
 * new order's record shares the append of the exchange's answer (send-order.ts, PERF-2).
 */
import { reserve, type AccountBook } from '../domain/account.js';
import { entryLimitBreach, isDust, type EntryLimits } from '../domain/entry-limits.js';
import { InsufficientBudgetError, RiskLimitError } from '../domain/errors.js';
import type { OrderRecord } from '../domain/order.js';
import type { AuditEntry } from '../ports/audit-log.js';
import type { ExecuteIntentDeps } from './execute-intent.js';
import { auditStream } from './order-commit.js';

type ReserveDeps = Pick<ExecuteIntentDeps, 'accounts' | 'audit' | 'clock' | 'entryLimits' | 'markets' | 'settings'>;

/**
 * What the executor already read in its first round trip: the entry limits in force and the
 * book. The write stays conditional on the book's version, so a book that changed since is read
 * again and checked again.
 */
export interface ReserveInputs {
  readonly limits?: Promise<EntryLimits>;
  readonly book?: Promise<AccountBook | null>;
}

/**
 * Reserves the order's budget. For an entry, the risk limits are checked on the same book the
 * reservation is computed from, and the store writes it conditional on that book's version: a
 * concurrent reservation makes the write fail and the check run again on the new book (EXE-13).
 * An order already in the book (a run that died after reserving) is not checked again.
 */
export type Reserved = { ok: true; book?: AccountBook } | { ok: false; reason: string };

export async function reserveBudget(deps: ReserveDeps, order: OrderRecord, known: ReserveInputs = {}): Promise<Reserved> {
  const entry = order.side === 'buy';
  const limits = entry ? (known.limits ? await known.limits : await deps.entryLimits()) : undefined;
  const rules = entry && deps.markets ? await deps.markets() : {};
  const book = known.book ? ((await known.book) ?? undefined) : undefined;
  let written: AccountBook;
  try {
    written = await deps.accounts.update(
      deps.settings.quoteCurrency,
      (book) => {
      if (book.orders[order.id]) return null;
      if (limits) {
        const breach = entryLimitBreach(book, { symbol: order.symbol, reserve: order.reservedQuote }, limits, (p) => isDust(p, rules[p.symbol], p.avgPrice));
        if (breach) throw new RiskLimitError(breach.limit, breach.reason, { details: { orderId: order.id, ...breach.details } });
      }
      return reserve(book, { orderId: order.id, symbol: order.symbol, side: order.side, amount: order.reservedQuote }, deps.clock.now());
      },
      book,
    );
  } catch (error) {
    if (error instanceof InsufficientBudgetError || error instanceof RiskLimitError) return { ok: false, reason: error.message };
    throw error;
  }
  // The book as written: the starting point of the fill's book write (one read less).
  return { ok: true, book: written };
}

/**
 * The reservation's record (`budget.reserved`). It follows the write, as its outcome is only
 * known then (AUDIT_ORDER): a claimed order's run appends it with the next records it writes (the
 * exchange's answer, or the order's closure: send-order.ts); a run that dies before leaves it to
 * the next delivery, which records it when it makes sure of the reservation or finds the order on
 * the exchange with its budget held (a crash may repeat the record, never lose it).
 */
export function reservedRecord(order: OrderRecord, quoteCurrency: string): AuditEntry {
  return { type: 'budget.reserved', correlationId: order.correlationId, data: { orderId: order.id, amount: order.reservedQuote, currency: quoteCurrency } };
}

/** Records the reservation on its own (the paths where no other record is decided with it). */
export async function auditReserved(deps: Pick<ExecuteIntentDeps, 'audit' | 'clock' | 'settings'>, order: OrderRecord): Promise<void> {
  await deps.audit.append(auditStream(order.symbol), reservedRecord(order, deps.settings.quoteCurrency), deps.clock.now());
}

/** Reserves and, when reserved, records it: for the paths where nothing else waits on the record. */
export async function reserveAndAudit(deps: ReserveDeps, order: OrderRecord, known: ReserveInputs = {}): Promise<Reserved> {
  const reserved = await reserveBudget(deps, order, known);
  if (reserved.ok) await auditReserved(deps, order);
  return reserved;
}
