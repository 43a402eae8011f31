/**
 * Settlement of the paper exchange: how an order's balance movements (effects) reach the
 * balances exactly once without transactions, and what they are: the trade, the holds of a
 * resting order, and the fee in its currency.
 *
 * Exactly-once settlement. A balance movement is an *effect* with an id unique forever
 * (`<clientOrderId>#<n>`). It is settled in three single-item steps:
 * 1. decide: write the order with its new status and `pending = effect` (conditional on the
 *    order not existing, or on its version). From here on the order owns the effect.
 * 2. record: read the balances, THEN read the order; if the balances already hold an outcome
 *    for the effect, use it; if the order no longer has the effect pending, it is finished;
 *    else apply it (or refuse it, for a placement the funds no longer cover) and store the
 *    outcome in `outcomes`, in one write conditional on the version read.
 * 3. complete: clear `pending` on the order (status `rejected` if refused), conditional on its
 *    version; then drop the outcome from `outcomes` (conditional on the balances version).
 * Invariants:
 * - I1 an effect's outcome is decided once, by the balances write that first records it: two
 *   writers racing to record it write against the same version, so only one succeeds and the
 *   loser re-reads and finds the outcome;
 * - I2 `pending` on an order only moves forward (set once per effect id, cleared once), so
 *   once an order is seen without effect E, it never has E pending again;
 * - I3 an outcome is dropped from the balances only after the order was seen without the
 *   effect pending. A writer in step 2 reads the balances before the order, so if the outcome
 *   was already dropped when it read the balances, it sees the order without the effect (I2)
 *   and does nothing; if it was dropped later, the version changed and its write fails.
 * Any call that meets an order with a pending effect finishes it first, so a process that dies
 * between the steps leaves work that the next call completes exactly once.
 *
 * Fees (EXE-12), at the fee rate recorded on the order when it was placed, are charged in the
 * currency the `feeAsset` setting names:
 * - `quote`: in the quote currency;
 * - `base`: in the coin received, as Binance does without BNB: a buy receives its amount minus
 *   the fee, a sell pays its fee out of the quote it receives;
 * - an asset code (BNB): in that asset, the fee's quote value converted at the asset's price when
 *   the order is placed (rounded up to 8 decimals). A resting order holds that fee in `used`
 *   until it fills or is canceled. When the free holding cannot pay it (none held, or too
 *   little), the fee falls back to the quote currency, as Binance does when BNB runs out.
 */
import { ConcurrentModificationError } from '../../domain/errors.js';
import type { FeeAmount } from '../../domain/fees.js';
import { Decimal, add, cmp, dec, isNegative, mul, str, sub, type DecimalString } from '../../domain/money.js';
import type { Side } from '../../domain/order.js';
import { isConditionFailed, paperInternal, withIndexKeys, type Assets, type Deltas, type Effect, type OrderItem, type Outcome, type PaperBooks } from './paper-books.js';

const MAX_BACKOFF_MS = 40;

/** What fees are charged in, and at which rate. */
export interface FeeSettings {
  /** 'quote', 'base' or an asset code such as 'BNB'. */
  readonly feeAsset: string;
  /** Fee per fill as a fraction of its cost. */
  readonly feeRate: DecimalString;
}

/**
 * The fee of a fill, in the currency the settings name (see the module comment). `priceOf`
 * gives a third asset's quote price; `assets` are the balances the fee would be paid from.
 */
export function feeFor(
  settings: FeeSettings,
  fill: { readonly side: Side; readonly base: string; readonly quote: string; readonly amount: DecimalString; readonly cost: DecimalString },
  assets: Assets,
  priceOf: (asset: string) => DecimalString,
): FeeAmount {
  const { side, base, quote, amount, cost } = fill;
  const inQuote = { currency: quote, amount: mul(cost, settings.feeRate) };
  const asset = settings.feeAsset;
  if (asset === 'quote' || asset === quote) return inQuote;
  if (asset === 'base' || asset === base) return side === 'buy' ? { currency: base, amount: mul(amount, settings.feeRate) } : inQuote;
  const owed = str(dec(inQuote.amount).div(priceOf(asset)).toDecimalPlaces(8, Decimal.ROUND_UP));
  // Binance charges the quote when the fee asset cannot pay.
  return cmp(assets[asset]?.free ?? '0', owed) >= 0 ? { currency: asset, amount: owed } : inQuote;
}

/** The balances after `deltas`, or null when any free or used amount would go negative. */
export function applyDeltas(assets: Assets, deltas: Deltas): Assets | null {
  const next = { ...assets };
  for (const [asset, delta] of Object.entries(deltas)) {
    const before = next[asset] ?? { free: '0', used: '0' };
    const after = { free: add(before.free, delta.free), used: add(before.used, delta.used) };
    if (isNegative(after.free) || isNegative(after.used)) return null;
    next[asset] = after;
  }
  return next;
}

/** A trade paid from free balances: the cost or the amount each way, and the fee in its currency. */
export function tradeDeltas(side: Side, base: string, quote: string, amount: DecimalString, cost: DecimalString, fee: FeeAmount): Deltas {
  const trade: Array<[string, DecimalString, DecimalString]> =
    side === 'buy' ? [[quote, neg(cost), '0'], [base, amount, '0']] : [[base, neg(amount), '0'], [quote, cost, '0']];
  return deltasOf(...trade, [fee.currency, neg(fee.amount), '0']);
}

/** Builds deltas from [asset, free, used] triples, merging repeated assets. */
export function deltasOf(...changes: Array<[string, DecimalString, DecimalString]>): Deltas {
  const deltas: Deltas = {};
  for (const [asset, free, used] of changes) {
    const before = deltas[asset] ?? { free: '0', used: '0' };
    deltas[asset] = { free: add(before.free, free), used: add(before.used, used) };
  }
  return deltas;
}

export function neg(value: DecimalString): DecimalString {
  return sub('0', value);
}

export function effectIdFor(clientOrderId: string, n: number): string {
  return `${clientOrderId}#${n}`;
}

export function clientOrderIdOf(effectId: string): string {
  return effectId.slice(0, effectId.lastIndexOf('#'));
}

export function paperConflict(what: string, cause: unknown): ConcurrentModificationError {
  return new ConcurrentModificationError(`paper exchange: ${what} kept changing under a conditional write`, { cause });
}

/** Jittered pause before retrying a lost conditional write. */
export async function backoff(attempt: number): Promise<void> {
  const ms = Math.random() * Math.min(MAX_BACKOFF_MS, 2 ** attempt);
  await new Promise((resolve) => setTimeout(resolve, ms));
}

/** A placement the funds no longer covered: nothing filled, nothing held; a market order keeps no price. */
function rejectedOrder(order: OrderItem): OrderItem {
  return {
    ...order,
    status: 'rejected',
    filled: '0',
    cost: '0',
    fees: [],
    reserved: undefined,
    feeDue: undefined,
    feeHeld: undefined,
    price: order.type === 'limit' ? order.price : undefined,
  };
}

/** Steps 2 and 3 of the settlement (see the module comment) over one paper store. */
export class PaperSettlement {
  constructor(
    private readonly store: PaperBooks,
    /** Attempts of one optimistic write before ConcurrentModificationError. */
    private readonly maxWriteAttempts: number,
  ) {}

  /** Finishes every pending effect of the order; returns the order with none pending. */
  async settle(order: OrderItem): Promise<OrderItem> {
    let current = order;
    while (current.pending) {
      const effect = current.pending;
      const outcome = await this.recordOutcome(current.clientOrderId, effect);
      current = await this.completeOrder(current, effect, outcome);
      await this.forgetOutcome(effect.id);
    }
    return current;
  }

  /**
   * Step 2: the outcome of `effect`, recording it (and applying it) if nobody has. Returns
   * `null` when the order no longer has the effect pending (finished by someone else).
   */
  private async recordOutcome(clientOrderId: string, effect: Effect): Promise<Outcome | null> {
    for (let attempt = 1; ; attempt += 1) {
      const books = await this.store.readBalances();
      const known = books.outcomes[effect.id];
      if (known !== undefined) return known;
      // Read the order AFTER the balances (invariant I3).
      const order = await this.store.getOrder(clientOrderId);
      if (order?.pending?.id !== effect.id) return null;
      const assets = applyDeltas(books.assets, effect.deltas);
      if (assets === null && !effect.rejectable) {
        throw paperInternal(`settling ${effect.id} would make a balance negative`, { effect: effect.id, deltas: effect.deltas });
      }
      const outcome: Outcome = assets === null ? 'rejected' : 'applied';
      try {
        await this.store.putBalances({ ...books, assets: assets ?? books.assets, outcomes: { ...books.outcomes, [effect.id]: outcome } });
        return outcome;
      } catch (error) {
        if (!isConditionFailed(error)) throw error;
        if (attempt >= this.maxWriteAttempts) throw paperConflict('balances', error);
      }
      await backoff(attempt);
    }
  }

  /** Step 3a: clears the effect from the order (marking it rejected if refused). Returns the current order. */
  private async completeOrder(known: OrderItem, effect: Effect, outcome: Outcome | null): Promise<OrderItem> {
    let order = known;
    for (let attempt = 1; ; attempt += 1) {
      if (order.pending?.id !== effect.id) return order;
      if (outcome === null) {
        // recordOutcome saw the effect finished; a stale copy only needs re-reading.
        const fresh = await this.store.getOrder(known.clientOrderId);
        if (!fresh || fresh.pending?.id === effect.id) throw paperInternal(`order ${known.clientOrderId} lost track of ${effect.id}`);
        return fresh;
      }
      const done = { ...order, pending: undefined, version: order.version + 1 };
      const next = withIndexKeys(outcome === 'applied' ? done : rejectedOrder(done));
      try {
        await this.store.putOrder(next, order.version);
        return next;
      } catch (error) {
        if (!isConditionFailed(error)) throw error;
        if (attempt >= this.maxWriteAttempts) throw paperConflict(`order ${order.clientOrderId}`, error);
      }
      await backoff(attempt);
      const fresh = await this.store.getOrder(known.clientOrderId);
      if (!fresh) throw paperInternal(`order ${known.clientOrderId} disappeared`);
      order = fresh;
    }
  }

  /** Step 3b: drops the outcome of an effect that no order has pending any more (invariant I3). */
  async forgetOutcome(effectId: string): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      const books = await this.store.readBalances();
      if (books.outcomes[effectId] === undefined) return;
      const outcomes = { ...books.outcomes };
      delete outcomes[effectId];
      try {
        await this.store.putBalances({ ...books, outcomes });
        return;
      } catch (error) {
        if (!isConditionFailed(error)) throw error;
        if (attempt >= this.maxWriteAttempts) throw paperConflict('balances', error);
      }
      await backoff(attempt);
    }
  }
}
