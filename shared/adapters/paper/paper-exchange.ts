/**
 * The paper exchange: the Exchange port on a paper market (paper-market.ts: the synthetic market,
 * or the exchange's public market data, DATA-6), with its books in DynamoDB
 * (PAPER_TABLE) so that every Lambda container, restarts and the local stack share one state.
 * A backtest runs the same class over in-memory books (memory-paper-store.ts) and a replay of
 * the market (BT-1).
 * Three concepts, one file each:
 * - matching (paper-matching.ts): validity, prices, fills of market and resting limit orders
 *   (whole or partial, as far as the market traded through them), cancels;
 * - settlement (paper-settlement.ts): balance movements applied exactly once without
 *   transactions, and fees in the quote currency, the base coin or a third asset (EXE-12);
 * - store (paper-store.ts): the order and balances items and their conditional writes.
 * This class only sequences them per call. Any call that meets an order with a pending effect
 * finishes it first (createOrder on a duplicate id, fetchOrderByClientId, fetchOpenOrders,
 * cancelOrder, fetchBalances), so a process that dies mid-settlement leaves work that the next
 * call completes exactly once.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConfigError, ExchangeRejectedError } from '../../domain/errors.js';
import { ASSET_PATTERN, feeOf } from '../../domain/fees.js';
import type { Candle, DataSource, MarketRules, Ticker } from '../../domain/market.js';
import { UNSIGNED_DECIMAL_PATTERN, add, cmp, dec, str, type DecimalString } from '../../domain/money.js';
import type { Clock } from '../../ports/clock.js';
import type { Balance, Exchange, ExchangeOrder, PlaceOrderRequest } from '../../ports/exchange.js';
import { CLIENT_ORDER_ID_PATTERN, canceledOrder, filledOrder, placedOrder, quoteOrder, validateOrder } from './paper-matching.js';
import { SyntheticPaperMarket, isWellFormedSymbol, type MarketSource } from './paper-market.js';
import { PaperSettlement, applyDeltas, backoff, clientOrderIdOf, feeFor, paperConflict, type FeeSettings } from './paper-settlement.js';
import { OPEN_PARTITION, PaperStore, UNSETTLED_PARTITION, isConditionFailed, paperInternal, type OrderItem, type PaperBooks } from './paper-store.js';

export { PAPER_OPEN_ORDERS_INDEX } from './paper-store.js';

const DEFAULT_MAX_WRITE_ATTEMPTS = 25;

/**
 * A market computed on the spot: the synthetic market, or a backtest's replay of it (candles from
 * files, quotes of the moment). Prices leave it as decimal strings. The exchange's real market
 * data is a MarketSource instead (paper-market.ts, DATA-6).
 */
export interface PaperMarket {
  /** @throws ExchangeRejectedError `bad-symbol` for a symbol it does not trade. */
  rules(symbol: string): MarketRules;
  ticker(symbol: string, at: Date): Ticker;
  /** The `limit` most recent candles closed at `until`, oldest first. */
  candles(symbol: string, until: Date, limit: number): Candle[];
}

/**
 * Where the books live: a DynamoDB table (PAPER_TABLE), or any store with the same conditional
 * writes, made from the validated opening balances (`books`).
 */
export type PaperStorage =
  | { readonly doc: DynamoDBDocumentClient; readonly table: string }
  | { readonly books: (initialBalances: Readonly<Record<string, DecimalString>>) => PaperBooks };

export type PaperExchangeOptions = PaperStorage & {
  /**
   * Where prices, rules and limit fills come from: a market computed on the spot (synthetic or
   * replayed), or a market source such as the exchange's public data (DATA-6).
   */
  readonly market: PaperMarket | MarketSource;
  readonly clock: Clock;
  /** Fee per fill as a fraction of its cost, e.g. '0.001'. */
  readonly feeRate: DecimalString;
  /** What fees are charged in: 'quote', 'base' or an asset code such as 'BNB' (see paper-settlement.ts). @default 'quote' */
  readonly feeAsset?: string;
  /** Opening free balances per asset, e.g. { USDT: '10000' }; used once, when the books are first created. */
  readonly initialBalances: Readonly<Record<string, DecimalString>>;
  /** The watchlist; its quote currency is the one held assets are priced in. Orders may use any symbol the market lists. */
  readonly symbols: readonly string[];
  /** Attempts of one optimistic write before ConcurrentModificationError. @default 25 */
  readonly maxWriteAttempts?: number;
  /** What `source` reports to the scanner for a computed market; a market source reports its own. @default 'synthetic' */
  readonly source?: DataSource;
};

/** Paper trading against a paper market, with DynamoDB books. */
export class PaperExchange implements Exchange {
  readonly id = 'paper';
  /** The market's source (DATA-4): 'synthetic', or 'exchange' on real prices. */
  readonly source: DataSource;

  private readonly market: MarketSource;
  private readonly clock: Clock;
  private readonly fees: FeeSettings;
  private readonly symbols: readonly string[];
  private readonly maxWriteAttempts: number;
  private readonly store: PaperBooks;
  private readonly settlement: PaperSettlement;

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
    const computed = isComputed(options.market) ? options.market : undefined;
    for (const symbol of options.symbols) {
      if (!isWellFormedSymbol(symbol)) {
        issues.push(`symbols: bad symbol ${JSON.stringify(symbol)}`);
        continue;
      }
      try {
        computed?.rules(symbol);
      } catch {
        issues.push(`symbols: bad symbol ${JSON.stringify(symbol)}`);
      }
    }
    const attempts = options.maxWriteAttempts ?? DEFAULT_MAX_WRITE_ATTEMPTS;
    if (!Number.isInteger(attempts) || attempts < 1) issues.push('maxWriteAttempts must be a positive integer');
    if (issues.length > 0) throw new ConfigError(issues);
    this.market = computed ? new SyntheticPaperMarket(computed, options.symbols, options.source ?? 'synthetic') : (options.market as MarketSource);
    this.source = this.market.source;
    this.clock = options.clock;
    this.fees = { feeAsset, feeRate: str(dec(options.feeRate)) };
    this.symbols = [...options.symbols];
    this.maxWriteAttempts = attempts;
    this.store = 'books' in options ? options.books(initial) : new PaperStore(options.doc, options.table, initial);
    this.settlement = new PaperSettlement(this.store, attempts);
  }

  /**
   * The markets the paper market lists, and the market of every asset the paper account holds
   * (RISK-9): a position whose symbol left the watchlist keeps its rules and can be sold.
   */
  async loadMarkets(): Promise<Readonly<Record<string, MarketRules>>> {
    const listed = await this.market.markets();
    const held = (await this.heldSymbols()).filter((symbol) => listed[symbol] === undefined);
    if (held.length === 0) return listed;
    const more: Record<string, MarketRules> = {};
    for (const symbol of held) {
      try {
        more[symbol] = await this.market.rules(symbol);
      } catch (error) {
        // A holding the market does not list (delisted, or a fee asset) has no market to add.
        if (!(error instanceof ExchangeRejectedError)) throw error;
      }
    }
    return { ...listed, ...more };
  }

  /**
   * Tickers of `symbols`, in one request to the market. Without `symbols`: the watchlist and the
   * markets of every asset held (as an exchange lists every market, the pair list rule and the
   * positions off the watchlist, DATA-8, RISK-9).
   */
  async fetchTickers(symbols?: readonly string[]): Promise<Ticker[]> {
    const now = this.clock.now();
    if (symbols) return this.market.tickers(symbols, now);
    const listed = await this.market.tickers(undefined, now);
    const priced = new Set(listed.map((t) => t.symbol));
    const held = (await this.heldSymbols()).filter((symbol) => !priced.has(symbol));
    return held.length === 0 ? listed : [...listed, ...(await this.market.tickers(held, now))];
  }

  fetchCandles(symbol: string, limit: number): Promise<Candle[]> {
    return this.market.candles(symbol, this.clock.now(), limit);
  }

  /**
   * Places an order. Primary course:
   * 1. validate it against the market rules;
   * 2. refuse a client order id that was ever used (after finishing that order's settlement);
   * 3. price it at `clock.now()`, decide its fee, and check the free funds (nothing is written
   *    if they fall short);
   * 4. write the order with its placement effect pending, unless the id exists;
   * 5. settle the effect and return the order.
   * @throws ExchangeRejectedError `bad-symbol`, `invalid-order`, `duplicate-client-order-id` or
   *   `insufficient-funds` (also when a concurrent order took the funds between 3 and 5: the
   *   order is then recorded as `rejected`).
   */
  async createOrder(request: PlaceOrderRequest): Promise<ExchangeOrder> {
    const rules = await this.market.rules(request.symbol);
    validateOrder(request, rules);
    const existing = await this.store.getOrder(request.clientOrderId);
    if (existing) throw await this.duplicate(existing);

    const books = await this.store.readBalances();
    const now = this.clock.now();
    const quoted = quoteOrder(request, rules, await this.ticker(request.symbol, now));
    const feeAssetPrice = await this.feeAssetPrice(rules.quote, now);
    const fee = feeFor(this.fees, { side: request.side, base: rules.base, quote: rules.quote, amount: str(dec(request.amount)), cost: quoted.cost }, books.assets, () => feeAssetPrice ?? '0');
    const order = placedOrder(request, rules, quoted, fee, this.fees.feeRate, now);
    if (applyDeltas(books.assets, order.pending?.deltas ?? {}) === null) throw insufficientFunds(request);

    if (!(await this.store.createOrder(order))) {
      const winner = await this.store.getOrder(request.clientOrderId);
      if (!winner) throw paperInternal(`order ${request.clientOrderId} exists but cannot be read`);
      throw await this.duplicate(winner);
    }
    const settled = await this.settlement.settle(order);
    if (settled.status === 'rejected') throw insufficientFunds(request);
    return toExchangeOrder(settled);
  }

  /** The order, after settling it and filling it as far as the market traded through its limit; `null` when unknown. */
  async fetchOrderByClientId(symbol: string, clientOrderId: string): Promise<ExchangeOrder | null> {
    if (!CLIENT_ORDER_ID_PATTERN.test(clientOrderId)) return null;
    const order = await this.store.getOrder(clientOrderId);
    if (!order || order.symbol !== symbol) return null;
    return toExchangeOrder(await this.refresh(order));
  }

  /**
   * Open orders, optionally of one symbol, each re-read and refreshed (a limit the market traded through fills).
   * The index is eventually consistent in AWS: an order placed a moment ago may be missing.
   */
  async fetchOpenOrders(symbol?: string): Promise<ExchangeOrder[]> {
    const listed = await this.store.queryIndex(OPEN_PARTITION, symbol === undefined ? undefined : `${symbol}#`);
    const result: ExchangeOrder[] = [];
    for (const entry of listed) {
      const order = await this.store.getOrder(entry.clientOrderId);
      if (!order) continue;
      const current = await this.refresh(order);
      if (current.status === 'open' && (symbol === undefined || current.symbol === symbol)) result.push(toExchangeOrder(current));
    }
    return result;
  }

  /**
   * Cancels an open order and releases what it still holds. What the market traded through
   * before the cancel fills first (the cancel arrives too late for it), and a closed order is
   * returned unchanged.
   * @returns `null` when the exchange has no such order.
   */
  async cancelOrder(symbol: string, clientOrderId: string): Promise<ExchangeOrder | null> {
    if (!CLIENT_ORDER_ID_PATTERN.test(clientOrderId)) return null;
    const order = await this.store.getOrder(clientOrderId);
    if (!order || order.symbol !== symbol) return null;
    const refreshed = await this.refresh(order);
    const canceled = await this.mutate(refreshed, (current) => (current.status === 'open' ? canceledOrder(current) : null));
    return toExchangeOrder(canceled);
  }

  /** Balances after finishing every pending settlement and filling every limit order the market traded through. */
  async fetchBalances(): Promise<Readonly<Record<string, Balance>>> {
    for (const entry of await this.store.queryIndex(UNSETTLED_PARTITION)) {
      const order = await this.store.getOrder(entry.clientOrderId);
      if (order) await this.settlement.settle(order);
    }
    for (const entry of await this.store.queryIndex(OPEN_PARTITION)) {
      const order = await this.store.getOrder(entry.clientOrderId);
      if (order) await this.refresh(order);
    }
    let books = await this.store.readBalances();
    // Outcomes left behind by a process that died after step 3 of a settlement.
    for (const effectId of Object.keys(books.outcomes)) {
      const order = await this.store.getOrder(clientOrderIdOf(effectId));
      if (order?.pending?.id === effectId) await this.settlement.settle(order);
      else await this.settlement.forgetOutcome(effectId);
    }
    books = await this.store.readBalances();
    return Object.fromEntries(
      Object.entries(books.assets).map(([asset, { free, used }]) => [asset, { free, used, total: add(free, used) }]),
    );
  }

  /** Settles the order, then fills it at its limit as far as the market traded through it, if it rests. */
  private async refresh(order: OrderItem): Promise<OrderItem> {
    const settled = await this.settlement.settle(order);
    if (settled.status !== 'open') return settled;
    return this.mutate(settled, async (current) => {
      if (current.status !== 'open' || current.price === undefined) return null;
      const { filled, matchedUntil } = await this.market.match({ ...current, price: current.price }, this.clock.now());
      return cmp(filled, current.filled) > 0 ? filledOrder(current, filled, matchedUntil) : null;
    });
  }

  /** `<asset>/<quote>` of every asset the paper account holds, in the watchlist's quote currency. */
  private async heldSymbols(): Promise<string[]> {
    const quote = this.symbols[0]?.split('/')[1];
    if (quote === undefined) return [];
    // Read only: the scanner lists markets with this, and may read the paper books but not write them.
    return Object.entries(await this.store.peekAssets())
      .filter(([asset, { free, used }]) => asset !== quote && cmp(add(free, used), '0') > 0)
      .map(([asset]) => `${asset}/${quote}`)
      .filter(isWellFormedSymbol);
  }

  private async ticker(symbol: string, at: Date): Promise<Ticker> {
    const [ticker] = await this.market.tickers([symbol], at);
    if (!ticker) throw new ExchangeRejectedError(`no price for ${symbol}`, 'bad-symbol', { details: { symbol } });
    return ticker;
  }

  /** The quote price of a third fee asset (TW_PAPER_FEE_ASSET=BNB), when fees are charged in one. */
  private async feeAssetPrice(quote: string, at: Date): Promise<DecimalString | undefined> {
    const asset = this.fees.feeAsset;
    if (asset === 'quote' || asset === 'base' || asset === quote) return undefined;
    return (await this.ticker(`${asset}/${quote}`, at)).last;
  }

  /**
   * Writes `decide(order)` conditional on the order's version, re-reading and re-deciding after
   * a lost race; settles what it wrote. `decide` returns null when there is nothing to do.
   */
  private async mutate(known: OrderItem, decide: (order: OrderItem) => OrderItem | null | Promise<OrderItem | null>): Promise<OrderItem> {
    let order = known;
    for (let attempt = 1; ; attempt += 1) {
      const next = await decide(order);
      if (next === null) return order;
      try {
        await this.store.putOrder(next, order.version);
        return await this.settlement.settle(next);
      } catch (error) {
        if (!isConditionFailed(error)) throw error;
        if (attempt >= this.maxWriteAttempts) throw paperConflict(`order ${order.clientOrderId}`, error);
      }
      await backoff(attempt);
      const fresh = await this.store.getOrder(known.clientOrderId);
      if (!fresh) throw paperInternal(`order ${known.clientOrderId} disappeared`);
      order = await this.settlement.settle(fresh);
    }
  }

  /** Finishes the existing order's settlement, then returns the duplicate-id rejection to throw. */
  private async duplicate(existing: OrderItem): Promise<ExchangeRejectedError> {
    await this.settlement.settle(existing);
    return new ExchangeRejectedError(`client order id ${existing.clientOrderId} was already used`, 'duplicate-client-order-id', {
      details: { clientOrderId: existing.clientOrderId, symbol: existing.symbol },
    });
  }
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

function insufficientFunds(request: PlaceOrderRequest): ExchangeRejectedError {
  return new ExchangeRejectedError(`insufficient funds for order ${request.clientOrderId}`, 'insufficient-funds', {
    details: { clientOrderId: request.clientOrderId, symbol: request.symbol, side: request.side },
  });
}

/** A market computed on the spot (synchronous rules and tickers), not a MarketSource. */
function isComputed(market: PaperMarket | MarketSource): market is PaperMarket {
  return typeof (market as Partial<MarketSource>).match !== 'function';
}
