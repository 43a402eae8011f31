/**
 * The paper exchange: the Exchange port on the synthetic market, with its books in DynamoDB
 * (PAPER_TABLE) so that every Lambda container, restarts and the local stack share one state.
 *
 * Items:
 * - `ORDER#<clientOrderId>` / `ORDER`: one per client order id, never deleted (ids are unique
 *   forever). Open orders carry `openpk = 'OPEN'`, `opensk = '<symbol>#<clientOrderId>'`; an order
 *   that is not open but still has a balance effect to settle carries `openpk = 'UNSETTLED'`, so
 *   every unfinished settlement can be found through the sparse `paper-open-orders` index.
 * - `BALANCES` / `BALANCES`: `assets` (asset -> {free, used}, decimal strings), `outcomes`
 *   (effect id -> 'applied' | 'rejected', only for effects still being settled) and `version`.
 *   Created lazily from the initial balances; every write is conditional on `version`.
 *
 * Exactly-once settlement without transactions. A balance movement is an *effect* with an id
 * unique forever (`<clientOrderId>#<n>`). It is settled in three single-item steps:
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
 * Any call that meets an order with a pending effect finishes it first (createOrder on a
 * duplicate id, fetchOrderByClientId, fetchOpenOrders, cancelOrder, fetchBalances), so a
 * process that dies between the steps leaves work that the next call completes exactly once.
 *
 * Fills: market orders fill at once at the ask (buy) or bid (sell) at `clock.now()`; a limit
 * order that is marketable when placed fills at its limit price, otherwise it rests with its
 * funds moved from free to used, and fills at its limit price on the first call that observes
 * the market crossing it (buy: ask <= limit; sell: bid >= limit). Fees, at the fee rate recorded
 * on the order when it was placed, are charged in the currency `feeAsset` names (EXE-12):
 * - `quote`: in the quote currency;
 * - `base`: in the coin received, as Binance does without BNB: a buy receives its amount minus
 *   the fee, a sell pays its fee out of the quote it receives;
 * - an asset code (BNB): in that asset, the fee's quote value converted at the asset's price when
 *   the order is placed (rounded up to 8 decimals). A resting order holds that fee in `used`
 *   until it fills or is canceled. When the free holding cannot pay it, the fee falls back to
 *   the quote currency, as Binance does when BNB runs out.
 */
import { createHash } from 'node:crypto';
import { GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { PAPER_TABLE } from '../../definitions/tables.js';
import {
  ConcurrentModificationError,
  ConfigError,
  ErrorCode,
  ExchangeRejectedError,
  TradewardenError,
} from '../../domain/errors.js';
import { ASSET_PATTERN, feeOf, type FeeAmount } from '../../domain/fees.js';
import type { Candle, MarketRules, Ticker } from '../../domain/market.js';
import { Decimal, UNSIGNED_DECIMAL_PATTERN, add, cmp, dec, isNegative, mul, str, sub, type DecimalString } from '../../domain/money.js';
import type { ExchangeOrderStatus, OrderType, Side } from '../../domain/order.js';
import type { Clock } from '../../ports/clock.js';
import type { Balance, Exchange, ExchangeOrder, PlaceOrderRequest } from '../../ports/exchange.js';
import type { SyntheticMarket } from './synthetic-market.js';

/** The sparse index of PAPER_TABLE on openpk/opensk. */
export const PAPER_OPEN_ORDERS_INDEX = PAPER_TABLE.indexes[0]?.indexName ?? 'paper-open-orders';
/** Index partitions: open orders, and orders that are not open but still settling. */
const OPEN_PARTITION = 'OPEN';
const UNSETTLED_PARTITION = 'UNSETTLED';
const ORDER_SK = 'ORDER';
const BALANCES_KEY = { pk: 'BALANCES', sk: 'BALANCES' } as const;
/** Binance's rule for client order ids; it also keeps '#' (our key separator) out. */
const CLIENT_ORDER_ID_PATTERN = /^[.A-Za-z0-9:/_-]{1,36}$/;
const DEFAULT_MAX_WRITE_ATTEMPTS = 25;
const MAX_BACKOFF_MS = 40;

const itemDoesNotExist = 'attribute_not_exists(pk)';
const versionUnchanged = '#version = :expected';

export interface PaperExchangeOptions {
  readonly doc: DynamoDBDocumentClient;
  /** Name of the table built from PAPER_TABLE. */
  readonly table: string;
  readonly market: SyntheticMarket;
  readonly clock: Clock;
  /** Fee per fill as a fraction of its cost, e.g. '0.001'. */
  readonly feeRate: DecimalString;
  /** What fees are charged in: 'quote', 'base' or an asset code such as 'BNB' (see the module comment). @default 'quote' */
  readonly feeAsset?: string;
  /** Opening free balances per asset, e.g. { USDT: '10000' }; used once, when the books are first created. */
  readonly initialBalances: Readonly<Record<string, DecimalString>>;
  /** The watchlist: the markets `loadMarkets` describes. Orders may use any well-formed symbol. */
  readonly symbols: readonly string[];
  /** Attempts of one optimistic write before ConcurrentModificationError. @default 25 */
  readonly maxWriteAttempts?: number;
}

/** A balance change per asset (signed decimal strings). */
type Deltas = Record<string, { free: DecimalString; used: DecimalString }>;

type EffectKind = 'place' | 'fill' | 'release';

/** One balance movement of one order; its id is unique forever. */
interface Effect {
  readonly id: string;
  readonly kind: EffectKind;
  /** Only a placement may be refused when the funds no longer cover it; anything else must apply. */
  readonly rejectable: boolean;
  readonly deltas: Deltas;
}

type Outcome = 'applied' | 'rejected';

interface OrderItem {
  readonly pk: string;
  readonly sk: string;
  readonly id: string;
  readonly clientOrderId: string;
  readonly symbol: string;
  readonly base: string;
  readonly quote: string;
  readonly side: Side;
  readonly type: OrderType;
  readonly status: ExchangeOrderStatus;
  readonly amount: DecimalString;
  /** Limit price, or the fill price of a market order. */
  readonly price?: DecimalString;
  readonly filled: DecimalString;
  readonly cost: DecimalString;
  /** Fees charged so far, per currency. */
  readonly fees: readonly FeeAmount[];
  /** Fee rate in force when the order was placed; its fills use it. */
  readonly feeRate: DecimalString;
  /** Funds held in `used` while the order rests. */
  readonly reserved?: { readonly asset: string; readonly amount: DecimalString };
  /** The fee a resting order pays when it fills, decided when it was placed. */
  readonly feeDue?: FeeAmount;
  /** A third-asset fee held in `used` while the order rests. */
  readonly feeHeld?: { readonly asset: string; readonly amount: DecimalString };
  readonly timestamp: number;
  /** Effects created so far; the next effect is number effectCount + 1. */
  readonly effectCount: number;
  readonly pending?: Effect;
  readonly version: number;
  readonly openpk?: string;
  readonly opensk?: string;
}

interface BalancesItem {
  readonly pk: string;
  readonly sk: string;
  readonly assets: Record<string, { free: DecimalString; used: DecimalString }>;
  readonly outcomes: Record<string, Outcome>;
  readonly version: number;
}

/** Paper trading against the synthetic market, with DynamoDB books. See the module comment for the invariants. */
export class PaperExchange implements Exchange {
  readonly id = 'paper';
  readonly source = 'synthetic' as const;

  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly market: SyntheticMarket;
  private readonly clock: Clock;
  private readonly feeRate: DecimalString;
  private readonly feeAsset: string;
  private readonly initialBalances: Readonly<Record<string, DecimalString>>;
  private readonly symbols: readonly string[];
  private readonly maxWriteAttempts: number;

  /** @throws ConfigError when the fee rate, a balance, a symbol or the attempt bound is invalid. */
  constructor(options: PaperExchangeOptions) {
    const issues: string[] = [];
    if (!UNSIGNED_DECIMAL_PATTERN.test(options.feeRate) || cmp(options.feeRate, '1') >= 0) {
      issues.push(`feeRate must be a decimal in [0, 1), got ${JSON.stringify(options.feeRate)}`);
    }
    const feeAsset = options.feeAsset ?? 'quote';
    if (feeAsset !== 'quote' && feeAsset !== 'base' && !ASSET_PATTERN.test(feeAsset)) issues.push(`feeAsset must be quote, base or an asset code, got ${JSON.stringify(feeAsset)}`);
    const initial: Record<string, DecimalString> = {};
    for (const [asset, amount] of Object.entries(options.initialBalances)) {
      if (!/^[A-Z0-9]{2,15}$/.test(asset)) issues.push(`initialBalances: bad asset ${JSON.stringify(asset)}`);
      else if (!UNSIGNED_DECIMAL_PATTERN.test(amount)) issues.push(`initialBalances.${asset} must be a non-negative decimal`);
      else initial[asset] = str(dec(amount));
    }
    for (const symbol of options.symbols) {
      try {
        options.market.rules(symbol);
      } catch {
        issues.push(`symbols: bad symbol ${JSON.stringify(symbol)}`);
      }
    }
    const attempts = options.maxWriteAttempts ?? DEFAULT_MAX_WRITE_ATTEMPTS;
    if (!Number.isInteger(attempts) || attempts < 1) issues.push('maxWriteAttempts must be a positive integer');
    if (issues.length > 0) throw new ConfigError(issues);
    this.doc = options.doc;
    this.table = options.table;
    this.market = options.market;
    this.clock = options.clock;
    this.feeRate = str(dec(options.feeRate));
    this.feeAsset = feeAsset;
    this.initialBalances = initial;
    this.symbols = [...options.symbols];
    this.maxWriteAttempts = attempts;
  }

  async loadMarkets(): Promise<Readonly<Record<string, MarketRules>>> {
    return Object.fromEntries(this.symbols.map((symbol) => [symbol, this.market.rules(symbol)]));
  }

  async fetchTickers(symbols: readonly string[] = this.symbols): Promise<Ticker[]> {
    const now = this.clock.now();
    return symbols.map((symbol) => this.market.ticker(symbol, now));
  }

  async fetchCandles(symbol: string, limit: number): Promise<Candle[]> {
    return this.market.candles(symbol, this.clock.now(), limit);
  }

  /**
   * Places an order. Primary course:
   * 1. validate it against the market rules;
   * 2. refuse a client order id that was ever used (after finishing that order's settlement);
   * 3. price it at `clock.now()` and check the free funds (nothing is written if they fall short);
   * 4. write the order with its placement effect pending, unless the id exists;
   * 5. settle the effect and return the order.
   * @throws ExchangeRejectedError `bad-symbol`, `invalid-order`, `duplicate-client-order-id` or
   *   `insufficient-funds` (also when a concurrent order took the funds between 3 and 5: the
   *   order is then recorded as `rejected`).
   */
  async createOrder(request: PlaceOrderRequest): Promise<ExchangeOrder> {
    const rules = this.validate(request);
    const existing = await this.getOrder(request.clientOrderId);
    if (existing) throw await this.duplicate(existing);

    const books = await this.readBalances();
    const order = this.place(request, rules, this.clock.now(), books.assets);
    if (applyDeltas(books.assets, order.pending?.deltas ?? {}) === null) throw insufficientFunds(request);

    try {
      await this.doc.send(new PutCommand({ TableName: this.table, Item: toItem(order), ConditionExpression: itemDoesNotExist }));
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      const winner = await this.getOrder(request.clientOrderId);
      if (!winner) throw internal(`order ${request.clientOrderId} exists but cannot be read`);
      throw await this.duplicate(winner);
    }
    const settled = await this.settle(order);
    if (settled.status === 'rejected') throw insufficientFunds(request);
    return toExchangeOrder(settled);
  }

  /** The order, after settling it and filling it if the market now crosses its limit; `null` when unknown. */
  async fetchOrderByClientId(symbol: string, clientOrderId: string): Promise<ExchangeOrder | null> {
    if (!CLIENT_ORDER_ID_PATTERN.test(clientOrderId)) return null;
    const order = await this.getOrder(clientOrderId);
    if (!order || order.symbol !== symbol) return null;
    return toExchangeOrder(await this.refresh(order));
  }

  /**
   * Open orders, optionally of one symbol, each re-read and refreshed (a crossed limit fills).
   * The index is eventually consistent in AWS: an order placed a moment ago may be missing.
   */
  async fetchOpenOrders(symbol?: string): Promise<ExchangeOrder[]> {
    const listed = await this.queryIndex(OPEN_PARTITION, symbol === undefined ? undefined : `${symbol}#`);
    const result: ExchangeOrder[] = [];
    for (const entry of listed) {
      const order = await this.getOrder(entry.clientOrderId);
      if (!order) continue;
      const current = await this.refresh(order);
      if (current.status === 'open' && (symbol === undefined || current.symbol === symbol)) result.push(toExchangeOrder(current));
    }
    return result;
  }

  /**
   * Cancels an open order and releases its funds. An order the market crosses now fills
   * instead (the cancel arrives too late), and a closed order is returned unchanged.
   * @returns `null` when the exchange has no such order.
   */
  async cancelOrder(symbol: string, clientOrderId: string): Promise<ExchangeOrder | null> {
    if (!CLIENT_ORDER_ID_PATTERN.test(clientOrderId)) return null;
    const order = await this.getOrder(clientOrderId);
    if (!order || order.symbol !== symbol) return null;
    const refreshed = await this.refresh(order);
    const canceled = await this.mutate(refreshed, (current) => (current.status === 'open' ? this.cancelled(current) : null));
    return toExchangeOrder(canceled);
  }

  /** Balances after finishing every pending settlement and filling every crossed limit order. */
  async fetchBalances(): Promise<Readonly<Record<string, Balance>>> {
    for (const entry of await this.queryIndex(UNSETTLED_PARTITION)) {
      const order = await this.getOrder(entry.clientOrderId);
      if (order) await this.settle(order);
    }
    for (const entry of await this.queryIndex(OPEN_PARTITION)) {
      const order = await this.getOrder(entry.clientOrderId);
      if (order) await this.refresh(order);
    }
    let books = await this.readBalances();
    // Outcomes left behind by a process that died after step 3 of a settlement.
    for (const effectId of Object.keys(books.outcomes)) {
      const order = await this.getOrder(clientOrderIdOf(effectId));
      if (order?.pending?.id === effectId) await this.settle(order);
      else await this.forgetOutcome(effectId);
    }
    books = await this.readBalances();
    return Object.fromEntries(
      Object.entries(books.assets).map(([asset, { free, used }]) => [asset, { free, used, total: add(free, used) }]),
    );
  }

  // --- placing and moving orders -------------------------------------------------------------

  /** @throws ExchangeRejectedError `bad-symbol` or `invalid-order`. */
  private validate(request: PlaceOrderRequest): MarketRules {
    const rules = this.market.rules(request.symbol);
    const invalid = (why: string): ExchangeRejectedError =>
      new ExchangeRejectedError(`invalid order ${request.clientOrderId}: ${why}`, 'invalid-order', {
        details: { clientOrderId: request.clientOrderId, symbol: request.symbol },
      });
    if (!CLIENT_ORDER_ID_PATTERN.test(request.clientOrderId)) throw invalid('client order id must match [.A-Za-z0-9:/_-]{1,36}');
    if (request.side !== 'buy' && request.side !== 'sell') throw invalid(`unknown side ${String(request.side)}`);
    if (request.type !== 'market' && request.type !== 'limit') throw invalid(`unknown type ${String(request.type)}`);
    if (!isPositiveDecimal(request.amount)) throw invalid('amount must be a positive decimal string');
    if (!dec(request.amount).mod(rules.amountStep).isZero()) throw invalid(`amount must be a multiple of ${rules.amountStep}`);
    if (rules.minAmount !== undefined && cmp(request.amount, rules.minAmount) < 0) throw invalid(`amount below ${rules.minAmount}`);
    if (rules.maxAmount !== undefined && cmp(request.amount, rules.maxAmount) > 0) throw invalid(`amount above ${rules.maxAmount}`);
    if (request.type === 'market') {
      if (request.limitPrice !== undefined) throw invalid('a market order has no limit price');
      return rules;
    }
    const limit = request.limitPrice;
    if (limit === undefined || !isPositiveDecimal(limit)) throw invalid('a limit order needs a positive limit price');
    if (!dec(limit).mod(rules.priceTick).isZero()) throw invalid(`limit price must be a multiple of ${rules.priceTick}`);
    if (rules.minPrice !== undefined && cmp(limit, rules.minPrice) < 0) throw invalid(`limit price below ${rules.minPrice}`);
    if (rules.maxPrice !== undefined && cmp(limit, rules.maxPrice) > 0) throw invalid(`limit price above ${rules.maxPrice}`);
    return rules;
  }

  /** The new order item with its placement effect pending. @throws ExchangeRejectedError `invalid-order` below the minimum notional. */
  private place(request: PlaceOrderRequest, rules: MarketRules, now: Date, assets: BalancesItem['assets']): OrderItem {
    const ticker = this.market.ticker(request.symbol, now);
    const buy = request.side === 'buy';
    const limit = request.limitPrice === undefined ? undefined : str(dec(request.limitPrice));
    const immediate = limit === undefined || (buy ? cmp(ticker.ask, limit) <= 0 : cmp(ticker.bid, limit) >= 0);
    const price = limit ?? (buy ? ticker.ask : ticker.bid);
    const cost = mul(request.amount, price);
    if (rules.minNotional !== undefined && cmp(cost, rules.minNotional) < 0) {
      throw new ExchangeRejectedError(`invalid order ${request.clientOrderId}: notional ${cost} below ${rules.minNotional}`, 'invalid-order', {
        details: { clientOrderId: request.clientOrderId, symbol: request.symbol },
      });
    }
    const { base, quote } = rules;
    const fee = this.feeFor(request.side, base, quote, str(dec(request.amount)), cost, now, assets);
    const common = {
      pk: orderPk(request.clientOrderId),
      sk: ORDER_SK,
      id: orderIdFor(request.clientOrderId),
      clientOrderId: request.clientOrderId,
      symbol: request.symbol,
      base,
      quote,
      side: request.side,
      type: request.type,
      amount: str(dec(request.amount)),
      price,
      feeRate: this.feeRate,
      timestamp: now.getTime(),
      effectCount: 1,
      version: 1,
    };
    const effectId = effectIdFor(request.clientOrderId, 1);
    if (immediate) {
      return withIndexKeys({
        ...common,
        status: 'closed',
        filled: common.amount,
        cost,
        fees: feeOf(fee.currency, fee.amount),
        pending: { id: effectId, kind: 'place', rejectable: true, deltas: tradeDeltas(request.side, base, quote, common.amount, cost, fee) },
      });
    }
    // A buy holds its cost, and a quote fee with it; a third-asset fee is held on its own.
    const reserved = buy ? { asset: quote, amount: fee.currency === quote ? add(cost, fee.amount) : cost } : { asset: base, amount: common.amount };
    const feeHeld = fee.currency !== quote && fee.currency !== base && !dec(fee.amount).isZero() ? { asset: fee.currency, amount: fee.amount } : undefined;
    const holds: Array<[string, DecimalString, DecimalString]> = [[reserved.asset, neg(reserved.amount), reserved.amount]];
    if (feeHeld) holds.push([feeHeld.asset, neg(feeHeld.amount), feeHeld.amount]);
    return withIndexKeys({
      ...common,
      status: 'open',
      filled: '0',
      cost: '0',
      fees: [],
      reserved,
      feeDue: fee,
      ...(feeHeld ? { feeHeld } : {}),
      pending: { id: effectId, kind: 'place', rejectable: true, deltas: deltasOf(...holds) },
    });
  }

  /** The fee of a fill, in the currency `feeAsset` names (see the module comment). */
  private feeFor(side: Side, base: string, quote: string, amount: DecimalString, cost: DecimalString, now: Date, assets: BalancesItem['assets']): FeeAmount {
    const inQuote = { currency: quote, amount: mul(cost, this.feeRate) };
    const asset = this.feeAsset;
    if (asset === 'quote' || asset === quote) return inQuote;
    if (asset === 'base' || asset === base) return side === 'buy' ? { currency: base, amount: mul(amount, this.feeRate) } : inQuote;
    const price = this.market.ticker(`${asset}/${quote}`, now).last;
    const owed = str(dec(inQuote.amount).div(price).toDecimalPlaces(8, Decimal.ROUND_UP));
    // Binance charges the quote when the fee asset cannot pay.
    return cmp(assets[asset]?.free ?? '0', owed) >= 0 ? { currency: asset, amount: owed } : inQuote;
  }

  /** Settles the order, then fills it at its limit if it rests and the market crosses it now. */
  private async refresh(order: OrderItem): Promise<OrderItem> {
    const settled = await this.settle(order);
    if (settled.status !== 'open') return settled;
    return this.mutate(settled, (current) => {
      if (current.status !== 'open') return null;
      return this.crossed(current) ? this.filled(current) : null;
    });
  }

  private crossed(order: OrderItem): boolean {
    if (order.price === undefined) return false;
    const ticker = this.market.ticker(order.symbol, this.clock.now());
    return order.side === 'buy' ? cmp(ticker.ask, order.price) <= 0 : cmp(ticker.bid, order.price) >= 0;
  }

  /** A resting order filled at its limit price: the reserve is consumed, the proceeds credited. */
  private filled(order: OrderItem): OrderItem {
    const price = order.price ?? '0';
    const reserved = order.reserved ?? { asset: order.side === 'buy' ? order.quote : order.base, amount: '0' };
    const cost = mul(order.amount, price);
    // Orders placed before fees were kept per currency owe a quote fee.
    const fee = order.feeDue ?? { currency: order.quote, amount: mul(cost, order.feeRate) };
    // Everything held goes back to free, and the trade is paid from free: the sum is what moves.
    const holds: Array<[string, DecimalString, DecimalString]> = [[reserved.asset, reserved.amount, neg(reserved.amount)]];
    if (order.feeHeld) holds.push([order.feeHeld.asset, order.feeHeld.amount, neg(order.feeHeld.amount)]);
    const trade = tradeDeltas(order.side, order.base, order.quote, order.amount, cost, fee);
    const deltas = deltasOf(...holds, ...Object.entries(trade).map(([asset, d]): [string, DecimalString, DecimalString] => [asset, d.free, d.used]));
    return this.next(order, 'fill', deltas, { status: 'closed', filled: order.amount, cost, fees: feeOf(fee.currency, fee.amount), feeDue: undefined, feeHeld: undefined });
  }

  /** A resting order canceled: its reserve goes back to free. */
  private cancelled(order: OrderItem): OrderItem {
    const holds: Array<[string, DecimalString, DecimalString]> = [];
    if (order.reserved) holds.push([order.reserved.asset, order.reserved.amount, neg(order.reserved.amount)]);
    if (order.feeHeld) holds.push([order.feeHeld.asset, order.feeHeld.amount, neg(order.feeHeld.amount)]);
    return this.next(order, 'release', deltasOf(...holds), { status: 'canceled', feeDue: undefined, feeHeld: undefined });
  }

  private next(order: OrderItem, kind: EffectKind, deltas: Deltas, change: Partial<OrderItem>): OrderItem {
    const effectCount = order.effectCount + 1;
    return withIndexKeys({
      ...order,
      ...change,
      reserved: undefined,
      effectCount,
      version: order.version + 1,
      pending: { id: effectIdFor(order.clientOrderId, effectCount), kind, rejectable: false, deltas },
    });
  }

  /**
   * Writes `decide(order)` conditional on the order's version, re-reading and re-deciding after
   * a lost race; settles what it wrote. `decide` returns null when there is nothing to do.
   */
  private async mutate(known: OrderItem, decide: (order: OrderItem) => OrderItem | null): Promise<OrderItem> {
    let order = known;
    for (let attempt = 1; ; attempt += 1) {
      const next = decide(order);
      if (next === null) return order;
      try {
        await this.putOrder(next, order.version);
        return await this.settle(next);
      } catch (error) {
        if (!isConditionFailed(error)) throw error;
        if (attempt >= this.maxWriteAttempts) throw conflict(`order ${order.clientOrderId}`, error);
      }
      await backoff(attempt);
      const fresh = await this.getOrder(known.clientOrderId);
      if (!fresh) throw internal(`order ${known.clientOrderId} disappeared`);
      order = await this.settle(fresh);
    }
  }

  // --- settlement (see the module comment) ---------------------------------------------------

  /** Finishes every pending effect of the order; returns the order with none pending. */
  private async settle(order: OrderItem): Promise<OrderItem> {
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
      const books = await this.readBalances();
      const known = books.outcomes[effect.id];
      if (known !== undefined) return known;
      // Read the order AFTER the balances (invariant I3).
      const order = await this.getOrder(clientOrderId);
      if (order?.pending?.id !== effect.id) return null;
      const assets = applyDeltas(books.assets, effect.deltas);
      if (assets === null && !effect.rejectable) {
        throw internal(`settling ${effect.id} would make a balance negative`, { effect: effect.id, deltas: effect.deltas });
      }
      const outcome: Outcome = assets === null ? 'rejected' : 'applied';
      try {
        await this.putBalances({ ...books, assets: assets ?? books.assets, outcomes: { ...books.outcomes, [effect.id]: outcome } });
        return outcome;
      } catch (error) {
        if (!isConditionFailed(error)) throw error;
        if (attempt >= this.maxWriteAttempts) throw conflict('balances', error);
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
        const fresh = await this.getOrder(known.clientOrderId);
        if (!fresh || fresh.pending?.id === effect.id) throw internal(`order ${known.clientOrderId} lost track of ${effect.id}`);
        return fresh;
      }
      const done = { ...order, pending: undefined, version: order.version + 1 };
      const next = withIndexKeys(outcome === 'applied' ? done : rejectedOrder(done));
      try {
        await this.putOrder(next, order.version);
        return next;
      } catch (error) {
        if (!isConditionFailed(error)) throw error;
        if (attempt >= this.maxWriteAttempts) throw conflict(`order ${order.clientOrderId}`, error);
      }
      await backoff(attempt);
      const fresh = await this.getOrder(known.clientOrderId);
      if (!fresh) throw internal(`order ${known.clientOrderId} disappeared`);
      order = fresh;
    }
  }

  /** Step 3b: drops the outcome of an effect that no order has pending any more (invariant I3). */
  private async forgetOutcome(effectId: string): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      const books = await this.readBalances();
      if (books.outcomes[effectId] === undefined) return;
      const outcomes = { ...books.outcomes };
      delete outcomes[effectId];
      try {
        await this.putBalances({ ...books, outcomes });
        return;
      } catch (error) {
        if (!isConditionFailed(error)) throw error;
        if (attempt >= this.maxWriteAttempts) throw conflict('balances', error);
      }
      await backoff(attempt);
    }
  }

  // --- storage -------------------------------------------------------------------------------

  private async getOrder(clientOrderId: string): Promise<OrderItem | null> {
    const result = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { pk: orderPk(clientOrderId), sk: ORDER_SK }, ConsistentRead: true }),
    );
    return (result.Item as OrderItem | undefined) ?? null;
  }

  private async putOrder(order: OrderItem, expectedVersion: number): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: toItem(order),
        ConditionExpression: versionUnchanged,
        ExpressionAttributeNames: { '#version': 'version' },
        ExpressionAttributeValues: { ':expected': expectedVersion },
      }),
    );
  }

  /** Reads the books, creating them from the initial balances on first use. */
  private async readBalances(): Promise<BalancesItem> {
    const result = await this.doc.send(new GetCommand({ TableName: this.table, Key: BALANCES_KEY, ConsistentRead: true }));
    if (result.Item) return result.Item as BalancesItem;
    const opening: BalancesItem = {
      ...BALANCES_KEY,
      assets: Object.fromEntries(Object.entries(this.initialBalances).map(([asset, free]) => [asset, { free, used: '0' }])),
      outcomes: {},
      version: 0,
    };
    try {
      await this.doc.send(new PutCommand({ TableName: this.table, Item: opening, ConditionExpression: itemDoesNotExist }));
      return opening;
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
    }
    const created = await this.doc.send(new GetCommand({ TableName: this.table, Key: BALANCES_KEY, ConsistentRead: true }));
    if (!created.Item) throw internal('the balances item exists but cannot be read');
    return created.Item as BalancesItem;
  }

  /** Writes `books` with the next version, conditional on the version it was read at. */
  private async putBalances(books: BalancesItem): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: { ...books, version: books.version + 1 },
        ConditionExpression: versionUnchanged,
        ExpressionAttributeNames: { '#version': 'version' },
        ExpressionAttributeValues: { ':expected': books.version },
      }),
    );
  }

  /** Client order ids in one partition of the sparse index (eventually consistent in AWS). */
  private async queryIndex(partition: string, sortPrefix?: string): Promise<Array<{ clientOrderId: string }>> {
    const found: Array<{ clientOrderId: string }> = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: PAPER_OPEN_ORDERS_INDEX,
          KeyConditionExpression: sortPrefix === undefined ? 'openpk = :p' : 'openpk = :p AND begins_with(opensk, :s)',
          ExpressionAttributeValues: sortPrefix === undefined ? { ':p': partition } : { ':p': partition, ':s': sortPrefix },
          ProjectionExpression: 'clientOrderId',
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of page.Items ?? []) found.push({ clientOrderId: String(item.clientOrderId) });
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return found;
  }

  /** Finishes the existing order's settlement, then returns the duplicate-id rejection to throw. */
  private async duplicate(existing: OrderItem): Promise<ExchangeRejectedError> {
    await this.settle(existing);
    return new ExchangeRejectedError(`client order id ${existing.clientOrderId} was already used`, 'duplicate-client-order-id', {
      details: { clientOrderId: existing.clientOrderId, symbol: existing.symbol },
    });
  }
}

/** The balances after `deltas`, or null when any free or used amount would go negative. */
function applyDeltas(assets: BalancesItem['assets'], deltas: Deltas): BalancesItem['assets'] | null {
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
function tradeDeltas(side: Side, base: string, quote: string, amount: DecimalString, cost: DecimalString, fee: FeeAmount): Deltas {
  const trade: Array<[string, DecimalString, DecimalString]> =
    side === 'buy' ? [[quote, neg(cost), '0'], [base, amount, '0']] : [[base, neg(amount), '0'], [quote, cost, '0']];
  return deltasOf(...trade, [fee.currency, neg(fee.amount), '0']);
}

/** Builds deltas from [asset, free, used] triples, merging repeated assets. */
function deltasOf(...changes: Array<[string, DecimalString, DecimalString]>): Deltas {
  const deltas: Deltas = {};
  for (const [asset, free, used] of changes) {
    const before = deltas[asset] ?? { free: '0', used: '0' };
    deltas[asset] = { free: add(before.free, free), used: add(before.used, used) };
  }
  return deltas;
}

/** Index keys follow the state: open orders under OPEN, other orders still settling under UNSETTLED. */
function withIndexKeys(order: OrderItem): OrderItem {
  const partition = order.status === 'open' ? OPEN_PARTITION : order.pending ? UNSETTLED_PARTITION : undefined;
  return partition === undefined
    ? { ...order, openpk: undefined, opensk: undefined }
    : { ...order, openpk: partition, opensk: `${order.symbol}#${order.clientOrderId}` };
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

function toExchangeOrder(order: OrderItem): ExchangeOrder {
  return {
    id: order.id,
    clientOrderId: order.clientOrderId,
    symbol: order.symbol,
    side: order.side,
    type: order.type,
    status: order.status,
    amount: order.amount,
    ...(order.price !== undefined ? { price: order.price } : {}),
    filled: order.filled,
    cost: order.cost,
    // Orders stored before fees were kept per currency carry one quote amount.
    fees: order.fees ?? feeOf(order.quote, (order as OrderItem & { fee?: DecimalString }).fee ?? '0'),
    timestamp: order.timestamp,
  };
}

/** Drops undefined attributes: the document client refuses them unless told otherwise. */
function toItem(order: OrderItem): Record<string, unknown> {
  return Object.fromEntries(Object.entries(order).filter(([, value]) => value !== undefined));
}

function orderPk(clientOrderId: string): string {
  return `ORDER#${clientOrderId}`;
}

/** Deterministic exchange order id: the same client order id always maps to the same id. */
function orderIdFor(clientOrderId: string): string {
  return `P${createHash('sha256').update(clientOrderId).digest('hex').slice(0, 16)}`;
}

function effectIdFor(clientOrderId: string, n: number): string {
  return `${clientOrderId}#${n}`;
}

function clientOrderIdOf(effectId: string): string {
  return effectId.slice(0, effectId.lastIndexOf('#'));
}

function neg(value: DecimalString): DecimalString {
  return sub('0', value);
}

function isPositiveDecimal(value: string): boolean {
  return UNSIGNED_DECIMAL_PATTERN.test(value) && !dec(value).isZero();
}

function isConditionFailed(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

function insufficientFunds(request: PlaceOrderRequest): ExchangeRejectedError {
  return new ExchangeRejectedError(`insufficient funds for order ${request.clientOrderId}`, 'insufficient-funds', {
    details: { clientOrderId: request.clientOrderId, symbol: request.symbol, side: request.side },
  });
}

function conflict(what: string, cause: unknown): ConcurrentModificationError {
  return new ConcurrentModificationError(`paper exchange: ${what} kept changing under a conditional write`, { cause });
}

/** A broken invariant of the paper books: never retried blindly. */
function internal(message: string, details: Record<string, unknown> = {}): TradewardenError {
  return new TradewardenError(ErrorCode.Internal, `paper exchange: ${message}`, false, { details });
}

/** Jittered pause before retrying a lost conditional write. */
async function backoff(attempt: number): Promise<void> {
  const ms = Math.random() * Math.min(MAX_BACKOFF_MS, 2 ** attempt);
  await new Promise((resolve) => setTimeout(resolve, ms));
}
