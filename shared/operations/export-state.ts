/**
 * Export and import of the stack's state (OPS-6, OPS-8). The export streams: orders and audit
 * records are read page by page and written one at a time, so memory stays bounded whatever the
 * table size. An import restores the account book (ledger and positions), the orders and the
 * audit records into a fresh stack, refusing to replace anything that exists.
 */
import { dec } from '../domain/money.js';
import type { AccountBook } from '../domain/account.js';
import type { FeeAmount } from '../domain/fees.js';
import type { OrderRecord } from '../domain/order.js';
import type { AuditRecord } from '../ports/audit-log.js';
import { ValidationError } from '../domain/errors.js';
import type { ExportSink, OperatorDeps, TimeWindow } from './ports.js';

export interface ExportSummary {
  readonly orders: number;
  readonly fills: number;
  readonly positions: number;
  readonly audit: number;
  readonly window: TimeWindow;
}

/** One execution of an order as a tax or portfolio tool reads it. */
export interface Fill {
  readonly time: string;
  readonly symbol: string;
  readonly side: string;
  readonly amount: string;
  readonly price: string;
  readonly cost: string;
  /** The fee in `feeCurrency`: the fill's only fee currency, or the first of several (all are in `fees`). */
  readonly fee: string;
  readonly feeCurrency: string;
  readonly fees: readonly FeeAmount[];
  readonly orderId: string;
  /** The exchange's trade id; absent where the exchange reported cumulative amounts only. */
  readonly tradeId?: string;
}

/** An order's fills: one per exchange trade where known, else one with the cumulative amounts. */
export function fillsOf(order: OrderRecord, quoteCurrency: string): Fill[] {
  const price = (amount: string, cost: string) => (dec(amount).isZero() ? '0' : dec(cost).div(amount).toSignificantDigits(20).toFixed());
  const fee = (fees: readonly FeeAmount[]) => ({ fee: fees[0]?.amount ?? '0', feeCurrency: fees[0]?.currency ?? quoteCurrency, fees });
  const base = { time: order.updatedAt, symbol: order.symbol, side: order.side, orderId: order.id };
  if (order.trades && order.trades.length > 0) {
    return order.trades.map((t) => ({ ...base, amount: t.amount, price: price(t.amount, t.cost), cost: t.cost, ...fee(t.fees), tradeId: t.id }));
  }
  if (dec(order.filled).isZero()) return [];
  return [{ ...base, amount: order.filled, price: price(order.filled, order.cost), cost: order.cost, ...fee(order.fees) }];
}

/**
 * 1. Stream the orders of the window: each to `orders`, its fills to `fills` and `trades`.
 * 2. Write the account book to `ledger` and each position to `positions` (the current state).
 * 3. Stream the audit records of the window to `audit`.
 */
export async function exportState(deps: Pick<OperatorDeps, 'config' | 'accounts' | 'exportSource'>, input: { readonly window: TimeWindow; readonly sink: ExportSink }): Promise<ExportSummary> {
  const { sink, window } = input;
  if (window.from && window.to && window.from >= window.to) throw new ValidationError(`--from ${window.from} must be before --to ${window.to}`);
  let orders = 0;
  let fills = 0;
  for await (const order of deps.exportSource.orders(window)) {
    await sink.write('orders', order as unknown as Record<string, unknown>);
    orders += 1;
    for (const fill of fillsOf(order, deps.config.quoteCurrency)) {
      await sink.write('fills', fill as unknown as Record<string, unknown>);
      await sink.write('trades', fill as unknown as Record<string, unknown>);
      fills += 1;
    }
  }
  const book = await deps.accounts.get(deps.config.quoteCurrency);
  let positions = 0;
  if (book) {
    await sink.write('ledger', book as unknown as Record<string, unknown>);
    for (const p of Object.values(book.positions)) {
      await sink.write('positions', p as unknown as Record<string, unknown>);
      positions += 1;
    }
  }
  let audit = 0;
  for await (const record of deps.exportSource.auditRecords(window)) {
    await sink.write('audit', record as unknown as Record<string, unknown>);
    audit += 1;
  }
  return { orders, fills, positions, audit, window };
}

/** What an import reads back: the streams an export wrote. */
export interface ImportSource {
  readonly ledger: AsyncIterable<AccountBook>;
  readonly orders: AsyncIterable<OrderRecord>;
  readonly audit: AsyncIterable<AuditRecord>;
}

/**
 * 1. Restore the account book (ledger and positions), refusing when the stack already has one.
 * 2. Restore each order and each audit record (same ids, same hashes: the chain still verifies).
 * 3. Point each audit stream's head at its last record.
 */
export async function importState(deps: Pick<OperatorDeps, 'importTarget'>, source: ImportSource): Promise<{ books: number; orders: number; audit: number }> {
  let books = 0;
  for await (const book of source.ledger) {
    await deps.importTarget.restoreBook(book);
    books += 1;
  }
  let orders = 0;
  for await (const order of source.orders) {
    await deps.importTarget.restoreOrder(order);
    orders += 1;
  }
  let audit = 0;
  // One entry per stream (a handful), not per record.
  const heads = new Map<string, { seq: number; hash: string }>();
  for await (const record of source.audit) {
    await deps.importTarget.restoreAuditRecord(record);
    const head = heads.get(record.stream);
    if (!head || record.seq > head.seq) heads.set(record.stream, { seq: record.seq, hash: record.hash });
    audit += 1;
  }
  for (const [stream, head] of heads) await deps.importTarget.restoreAuditHead(stream, head);
  return { books, orders, audit };
}
