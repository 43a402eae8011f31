/**
 * The scanner's view of what is committed and in flight (RISK-4, EXE-13, RISK-9): exposure that
 * grows as a scan accepts entries, and the entries still waiting in the queue.
 */
import { clientOrderIdFor, isTerminal } from '../domain/order.js';
import { add, type DecimalString } from '../domain/money.js';
import { pendingEntryBlocks, type Exposure, type PendingEntry } from '../domain/protections.js';
import { CLOCK_SKEW_ALLOWANCE_MS } from '../domain/timing.js';
import type { OrderStore } from '../ports/order-store.js';

/**
 * The pending entries that still block their symbol (see pendingEntryBlocks). `counted`: the
 * entry's order has not been claimed yet (or, without an order store, the book holds no buy of
 * the symbol), so its quote is not in the book and is counted as exposure here.
 */
export async function livePendingEntries(
  deps: { readonly orders?: Pick<OrderStore, 'get'> },
  stored: Readonly<Record<string, PendingEntry>>,
  now: Date,
  slot: string,
): Promise<Record<string, PendingEntry & { counted: boolean }>> {
  const live: Record<string, PendingEntry & { counted: boolean }> = {};
  for (const [symbol, entry] of Object.entries(stored)) {
    // This slot's own entries, from an earlier attempt of this scan: decided again below.
    if (entry.slot === slot) continue;
    const order = deps.orders ? await deps.orders.get(clientOrderIdFor(entry.intentId)) : undefined;
    const ended = order ? isTerminal(order.state) : false;
    if (!pendingEntryBlocks(entry, now, CLOCK_SKEW_ALLOWANCE_MS, ended)) continue;
    live[symbol] = { ...entry, counted: deps.orders ? !order : true };
  }
  return live;
}

/**
 * Exposure that grows as this scan accepts entries, so later symbols see earlier ones. Kept in
 * private mutable copies: an entry costs one decimal addition, not a copy of every symbol.
 */
export function mutableExposure(initial: Exposure): Exposure & { add(symbol: string, quote: DecimalString): void; markBuying(symbol: string): void } {
  const bySymbol: Record<string, DecimalString> = { ...initial.bySymbol };
  const buying = new Set(initial.buying);
  let openPositions = initial.openPositions;
  let total = initial.total;
  return {
    get openPositions() {
      return openPositions;
    },
    bySymbol,
    get total() {
      return total;
    },
    buying,
    selling: initial.selling,
    add(symbol, quote) {
      if (bySymbol[symbol] === undefined) openPositions += 1;
      bySymbol[symbol] = add(bySymbol[symbol] ?? '0', quote);
      total = add(total, quote);
      buying.add(symbol);
    },
    markBuying(symbol) {
      buying.add(symbol);
    },
  };
}
