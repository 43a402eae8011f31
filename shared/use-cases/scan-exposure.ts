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
export function mutableExposure(initial: Exposure): MutableExposure {
  return new MutableExposure(initial);
}

/** `mutableExposure`'s record: one object per scan, its accessors shared by all (no closures made per scan). */
export class MutableExposure implements Exposure {
  readonly bySymbol: Record<string, DecimalString>;
  readonly buying: Set<string>;
  readonly selling: ReadonlySet<string>;
  #openPositions: number;
  #total: DecimalString;

  constructor(initial: Exposure) {
    this.bySymbol = { ...initial.bySymbol };
    this.buying = new Set(initial.buying);
    this.selling = initial.selling;
    this.#openPositions = initial.openPositions;
    this.#total = initial.total;
  }

  get openPositions(): number {
    return this.#openPositions;
  }

  get total(): DecimalString {
    return this.#total;
  }

  add(symbol: string, quote: DecimalString): void {
    if (this.bySymbol[symbol] === undefined) this.#openPositions += 1;
    this.bySymbol[symbol] = add(this.bySymbol[symbol] ?? '0', quote);
    this.#total = add(this.#total, quote);
    this.buying.add(symbol);
  }

  markBuying(symbol: string): void {
    this.buying.add(symbol);
  }
}
