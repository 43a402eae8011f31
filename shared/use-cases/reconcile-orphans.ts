/**
 * Orders on the exchange that the local books do not follow (REC-3): adopted when they carry our
 * client order id prefix, brought back when they ended locally too early (EXE-10), reported
 * otherwise.
 */
import { randomUUID } from 'node:crypto';
import { reserve } from '../domain/account.js';
import { LockHeldError } from '../domain/errors.js';
import { Decimal, dec, str } from '../domain/money.js';
import { acceptsEvent } from '../domain/order-aggregate.js';
import { adoptOrder } from '../domain/order-creation.js';
import { CLIENT_ORDER_ID_PREFIX, isTerminal, type OrderRecord } from '../domain/order.js';
import type { ExchangeOrder } from '../ports/exchange.js';
import { auditStream, commitOrderEvents } from './order-commit.js';
import { commitDeps } from './reconcile-order.js';
import { ADOPTED_STRATEGY, MAX_REPORTED_ORPHANS, type OrphanOrder, type ReconcileDeps, type ReconcileInput, type ReconcileReport } from './reconcile.js';

/**
 * Orders open on the exchange that the local books do not follow (REC-3): unknown locally, or
 * closed locally (declared lost, say) while the exchange still has them open. Unknown ones with
 * our client order id prefix are adopted; ended ones come back to life through the aggregate's
 * LateFill (EXE-10); the others are reported for a person to look at.
 */
export async function findOrphans(deps: ReconcileDeps, input: ReconcileInput): Promise<Pick<ReconcileReport, 'orphans' | 'adopted' | 'orphanOrders' | 'lateFills'>> {
  const open = await deps.exchange.fetchOpenOrders(input.symbol);
  let orphans = 0;
  let adopted = 0;
  let lateFills = 0;
  const orphanOrders: OrphanOrder[] = [];
  for (const remote of open) {
    if (input.window && (remote.timestamp < input.window.from.getTime() || remote.timestamp >= input.window.to.getTime())) continue;
    const local = await deps.orders.get(remote.clientOrderId);
    if (local && !isTerminal(local.state)) continue;
    let result: { adopted: boolean; note?: string; known?: boolean; revived?: boolean };
    if (local) result = await revive(deps, local, remote);
    else if (!remote.clientOrderId.startsWith(CLIENT_ORDER_ID_PREFIX)) result = { adopted: false, note: 'not placed by Tradewarden (no client order id prefix)' };
    else result = await adopt(deps, remote);
    if (result.revived) lateFills += 1;
    if (result.known) continue;
    orphans += 1;
    if (result.adopted) adopted += 1;
    if (orphanOrders.length < MAX_REPORTED_ORPHANS) {
      orphanOrders.push({
        clientOrderId: remote.clientOrderId,
        symbol: remote.symbol,
        side: remote.side,
        type: remote.type,
        amount: remote.amount,
        filled: remote.filled,
        ...(remote.price !== undefined ? { price: remote.price } : {}),
        adopted: result.adopted,
        ...(result.note ? { note: result.note } : {}),
      });
    }
  }
  return { orphans, adopted, orphanOrders, lateFills };
}

/** An order ended locally that the exchange has open: it lives again (LateFill), under its symbol lease. */
async function revive(deps: ReconcileDeps, local: OrderRecord, remote: ExchangeOrder): Promise<{ adopted: boolean; note?: string; known?: boolean; revived?: boolean }> {
  const note = { adopted: false, note: `closed locally as ${local.state} but open on the exchange` };
  if (!acceptsEvent(local.state, 'LateFill')) return note;
  const now = deps.clock.now();
  let lease;
  try {
    lease = await deps.locks.acquire(`symbol:${remote.symbol}`, `${deps.settings.owner}:${randomUUID()}`, deps.settings.lockLeaseMs, now);
  } catch (error) {
    if (error instanceof LockHeldError) return { ...note, note: `${note.note}; symbol busy: retried next run` };
    throw error;
  }
  try {
    const current = await deps.orders.get(local.id);
    if (!current || !isTerminal(current.state)) return { adopted: false, known: true };
    if (!acceptsEvent(current.state, 'LateFill')) return note;
    const next = await commitOrderEvents(commitDeps(deps), current, { type: 'LateFill', at: now, report: remote }, lease.token);
    // The exchange ended it (canceled, expired) and lists it open without a new fill: a stale
    // listing or a real discrepancy; a person looks.
    if (next === current) return note;
    return { adopted: false, known: true, revived: true };
  } finally {
    await deps.locks.release(lease);
  }
}

/**
 * Takes an orphan with our prefix into the local books, under its symbol lease: the order is
 * recorded as UNKNOWN with the exchange's view (the claim: a conditional create), a buy's
 * unfilled notional is reserved as far as the budget allows (the exchange holds those funds),
 * then the order is booked like any other (fills, state).
 */
export async function adopt(deps: ReconcileDeps, remote: ExchangeOrder): Promise<{ adopted: boolean; note?: string; known?: boolean }> {
  const now = deps.clock.now();
  let lease;
  try {
    lease = await deps.locks.acquire(`symbol:${remote.symbol}`, `${deps.settings.owner}:${randomUUID()}`, deps.settings.lockLeaseMs, now);
  } catch (error) {
    if (error instanceof LockHeldError) return { adopted: false, note: 'symbol busy: adoption retried next run' };
    throw error;
  }
  try {
    if (await deps.orders.get(remote.clientOrderId)) return { adopted: false, known: true };
    const quote = deps.settings.quoteCurrency;
    const book = await deps.accounts.get(quote);
    const unfilled = Decimal.max(dec(remote.amount).minus(remote.filled), 0);
    const wanted = remote.side === 'buy' && remote.price !== undefined ? unfilled.times(remote.price) : new Decimal(0);
    const toReserve = str(Decimal.min(wanted, dec(book?.available ?? '0')));
    const intentId = remote.clientOrderId.slice(CLIENT_ORDER_ID_PREFIX.length);
    const createdAt = Number.isFinite(remote.timestamp) && remote.timestamp > 0 ? new Date(remote.timestamp).toISOString() : now.toISOString();
    const record = adoptOrder(
      {
        id: remote.clientOrderId,
        intentId,
        correlationId: intentId,
        strategy: ADOPTED_STRATEGY,
        symbol: remote.symbol,
        side: remote.side,
        type: remote.type,
        amount: remote.amount,
        ...(remote.type === 'limit' && remote.price !== undefined ? { limitPrice: remote.price } : {}),
        reservedQuote: toReserve,
        fence: lease.token,
        reason: 'adopted: open on the exchange, unknown locally',
        createdAt,
      },
      now,
    );
    if (!(await deps.orders.create(record))) return { adopted: false, known: true };
    await deps.audit.append(
      auditStream(remote.symbol),
      { type: 'order.adopted', correlationId: intentId, data: { orderId: record.id, exchangeOrderId: remote.id, status: remote.status, amount: remote.amount, filled: remote.filled, reserved: toReserve } },
      now,
    );
    if (book) {
      await deps.accounts.update(quote, (b) =>
        reserve(b, { orderId: record.id, symbol: record.symbol, side: record.side, amount: str(Decimal.min(dec(toReserve), dec(b.available))) }, now),
      );
    }
    await commitOrderEvents(commitDeps(deps), record, { type: 'Reported', at: now, report: remote }, lease.token);
    const clipped = dec(toReserve).lt(wanted) ? `; reserved ${toReserve} of ${str(wanted)} ${quote} (budget short)` : '';
    return { adopted: true, note: `adopted${clipped}` };
  } finally {
    await deps.locks.release(lease);
  }
}
