/**
 * The exchange a backtest trades on: an `Exchange` whose market is the candles read so far and
 * whose fills follow the candles honestly (BT-2):
 * - market data: a decision at the close of candle t sees only candles closed by then; the
 *   ticker is the last close, its 24 h volume the sum of the candles of the last day;
 * - a market order fills at the NEXT candle's open, moved against the order by the slippage;
 * - a limit order fills when a later candle trades through its price (at the open when the
 *   candle opens through it);
 * - a fill takes at most `volumeShare` of the candle's volume; the rest waits for the next
 *   candle as a partial fill;
 * - a fill the balances cannot pay at its price (after a gap against the order) is cut to what
 *   they pay and the rest of the order canceled, with an `insufficient-funds` reason;
 * - fees are charged on every fill in the paper exchange's fee currencies (feeFor, EXE-12): the
 *   quote, the coin bought, or a third asset (BNB) valued at its last close in the data set or
 *   at a fixed price, falling back to the quote when the holding cannot pay.
 * It keeps the account's balances, so the reconciler's balance check runs against it as against
 * a real exchange. Nothing here decides what Tradewarden books: the executor and the reconciler
 * do that through their use cases.
 */
import { ExchangeRejectedError, ValidationError } from '../shared/domain/errors.js';
import type { Candle, DataSource, MarketRules, Ticker } from '../shared/domain/market.js';
import { add, cmp, Decimal, dec, isZero, min, str, sub, type DecimalString } from '../shared/domain/money.js';
import { normalizeFees, type FeeAmount } from '../shared/domain/fees.js';
import { roundAmount } from '../shared/domain/precision.js';
import { CandleMarket } from './candle-market.js';
import { applyDeltas, feeFor, tradeDeltas } from '../shared/adapters/paper/paper-settlement.js';
import type { Assets, Deltas } from '../shared/adapters/paper/paper-books.js';
import { VALUES_PER_CANDLE, VOLUME, type StepColumns } from './data/step-columns.js';
import type { Balance, Exchange, ExchangeOrder, PlaceOrderRequest } from '../shared/ports/exchange.js';

export interface VenueSettings {
  readonly quoteCurrency: string;
  readonly initialQuote: DecimalString;
  /** Fee per fill, as a fraction (0.001 = 0.1 %). */
  readonly feeRate: DecimalString;
  /** 'quote', 'base' or an asset code such as 'BNB' (as the paper exchange's feeAsset). */
  readonly feeAsset: string;
  /** Opening holding of a third fee asset. @default '0' */
  readonly initialFeeAsset?: DecimalString;
  /** Quote price of a third fee asset when the data set has no candles of it. */
  readonly feeAssetPrice?: DecimalString;
  /** Price move against a market order, as a fraction. */
  readonly slippage: DecimalString;
  /** Largest share of a candle's volume one order can take, as a fraction in (0, 1]. */
  readonly volumeShare: DecimalString;
  readonly timeframeMs: number;
  /** Candles kept per symbol: the strategies' longest lookback. */
  readonly lookback: number;
  readonly rules: Readonly<Record<string, MarketRules>>;
}

/** One fill the venue made, as the backtest reports it. */
export interface VenueFill {
  readonly time: number;
  readonly orderId: string;
  readonly symbol: string;
  readonly side: 'buy' | 'sell';
  readonly amount: DecimalString;
  readonly price: DecimalString;
  readonly cost: DecimalString;
  readonly fee: DecimalString;
  readonly feeCurrency: string;
  /** The fee's value in the quote currency at the fill. */
  readonly feeQuote: DecimalString;
}

/** A fill the venue refused or cut because the balances could not pay it (reason starts `insufficient-funds`). */
export interface VenueRefusal {
  readonly time: number;
  readonly orderId: string;
  readonly symbol: string;
  readonly side: 'buy' | 'sell';
  readonly reason: string;
}

interface VenueOrder {
  order: ExchangeOrder;
  /** Epoch ms it was placed: only candles that open at or after it can fill it. */
  readonly placedAt: number;
}

/** A fill the balances pay: its amount, cost and fee, its balance movements and the balances after them. */
interface Payable {
  readonly amount: DecimalString;
  readonly cost: DecimalString;
  readonly fee: FeeAmount;
  readonly deltas: Deltas;
  readonly after: Assets;
}

const NO_REFUSALS: readonly VenueRefusal[] = Object.freeze([]);
const NO_FILLS: readonly VenueFill[] = Object.freeze([]);
const REPORTED_DECIMALS = 8;
const NO_CANDLE = (): undefined => undefined;

export class CandleVenue implements Exchange {
  readonly id = 'backtest';
  readonly source: DataSource = 'exchange';
  readonly #settings: VenueSettings;
  /** The candles closed so far: what the market data calls see. */
  readonly #market: CandleMarket;
  readonly #orders = new Map<string, VenueOrder>();
  readonly #open = new Set<string>();
  readonly #balances = new Map<string, DecimalString>();
  #refusals: VenueRefusal[] = [];
  #now = 0;
  #sequence = 0;
  /** Price factors of market orders: 1 + slippage for a buy, 1 - slippage for a sell. */
  readonly #buyMove: Decimal;
  readonly #sellMove: Decimal;

  constructor(settings: VenueSettings) {
    for (const [name, value] of [['slippage', settings.slippage], ['feeRate', settings.feeRate]] as const) {
      if (dec(value).isNegative() || dec(value).gte(1)) throw new ValidationError(`${name} must be a fraction in [0, 1), got ${value}`);
    }
    if (!dec(settings.volumeShare).gt(0) || dec(settings.volumeShare).gt(1)) throw new ValidationError(`volume share must be in (0, 1], got ${settings.volumeShare}`);
    this.#settings = settings;
    this.#buyMove = dec('1').plus(settings.slippage);
    this.#sellMove = dec('1').minus(settings.slippage);
    this.#market = new CandleMarket(settings.timeframeMs, settings.lookback);
    this.#balances.set(settings.quoteCurrency, settings.initialQuote);
    if (settings.initialFeeAsset && !isZero(settings.initialFeeAsset)) this.#balances.set(settings.feeAsset, settings.initialFeeAsset);
  }

  /**
   * Quote price of an asset: the last close of its market in the data set, else the fixed
   * fee-asset price. @throws ValidationError when there is neither.
   */
  priceOf(asset: string): DecimalString {
    const last = this.#market.last(`${asset}/${this.#settings.quoteCurrency}`);
    if (last) return last.close;
    if (asset === this.#settings.feeAsset && this.#settings.feeAssetPrice) return this.#settings.feeAssetPrice;
    throw new ValidationError(`no price for ${asset}: add ${asset}/${this.#settings.quoteCurrency} candles to the data set or give the fee asset's price`);
  }

  /**
   * The candles of one step have closed at `closeTime`: fill what they trade through, then make
   * them visible to the scanner. Returns the fills.
   */
  closeStep(closeTime: number, candles: ReadonlyMap<string, Candle>): readonly VenueFill[] {
    const fills = this.#fill(closeTime, (symbol) => candles.get(symbol));
    candles.forEach(this.#closeOne);
    return fills;
  }

  /**
   * `closeStep` for the step of `batch` whose candles are `start` up to `end` (exclusive), with the
   * volumes the reader parsed; `names` are the symbols by index.
   */
  closeColumns(closeTime: number, batch: StepColumns, start: number, end: number, names: readonly string[]): readonly VenueFill[] {
    const { candles, symbols, values } = batch;
    const fills = this.#open.size > 0 ? this.#fill(closeTime, (symbol) => {
      for (let k = start; k < end; k += 1) if (names[symbols[k]!] === symbol) return candles[k];
      return undefined;
    }) : this.#fill(closeTime, NO_CANDLE);
    for (let k = start; k < end; k += 1) this.#market.close(names[symbols[k]!]!, candles[k]!, values[k * VALUES_PER_CANDLE + VOLUME]!);
    return fills;
  }

  /** Fills the open orders that this step's candles (by symbol) trade through. */
  #fill(closeTime: number, candleOf: (symbol: string) => Candle | undefined): readonly VenueFill[] {
    this.#now = closeTime;
    let fills: VenueFill[] | undefined;
    if (this.#open.size > 0) for (const id of [...this.#open]) {
      const entry = this.#orders.get(id)!;
      const candle = candleOf(entry.order.symbol);
      if (!candle || candle.openTime < entry.placedAt) continue;
      const fill = this.#match(entry, candle);
      if (fill) (fills ??= []).push(fill);
    }
    return fills ?? NO_FILLS;
  }

  /** One candle of a step is market data now (forEach: no entry pair made per candle). */
  readonly #closeOne = (candle: Candle, symbol: string): void => this.#market.close(symbol, candle, Number(candle.volume));

  /** Fills happen only when candles close (closeStep), never on arrival: nothing to take. */
  takeFills(): VenueFill[] {
    return [];
  }

  get openOrders(): number {
    return this.#open.size;
  }

  balance(asset: string): DecimalString {
    return this.#balances.get(asset) ?? '0';
  }

  async loadMarkets(): Promise<Readonly<Record<string, MarketRules>>> {
    return this.#settings.rules;
  }

  async fetchTickers(symbols: readonly string[]): Promise<Ticker[]> {
    const out: Ticker[] = [];
    for (const symbol of symbols) {
      const ticker = this.tickerOf(symbol);
      // The port's callers get plain data, as from any exchange adapter.
      if (ticker) out.push({ symbol: ticker.symbol, bid: ticker.bid, ask: ticker.ask, last: ticker.last, volume: ticker.volume, timestamp: ticker.timestamp });
    }
    return out;
  }

  /**
   * The ticker `fetchTickers` gives for `symbol` now, for the scan gate (it asks every step; its
   * volume is a getter, made when first read); undefined when its candle is missing at this step (a gap).
   */
  tickerOf(symbol: string): Ticker | undefined {
    return this.#market.tickerAt(symbol, this.#now);
  }

  async fetchCandles(symbol: string, limit: number): Promise<Candle[]> {
    return this.#market.window(symbol, limit);
  }

  async createOrder(request: PlaceOrderRequest): Promise<ExchangeOrder> {
    const rules = this.#settings.rules[request.symbol];
    if (!rules) throw new ExchangeRejectedError(`unknown symbol ${request.symbol}`, 'bad-symbol');
    if (this.#orders.has(request.clientOrderId)) throw new ExchangeRejectedError(`duplicate client order id ${request.clientOrderId}`, 'duplicate');
    const last = this.#market.last(request.symbol);
    if (!last) throw new ExchangeRejectedError(`no market for ${request.symbol} yet`, 'bad-symbol');
    // The funds must cover the whole order at the last price (a limit buy at its limit), fee included.
    const price = request.type === 'limit' && request.limitPrice ? request.limitPrice : str(dec(last.close).times(request.side === 'buy' ? this.#buyMove : this.#sellMove));
    const cost = str(dec(request.amount).times(price));
    const assets = this.#assets();
    const fee = this.#fee(request.side, rules.base, request.amount, cost, assets);
    if (applyDeltas(assets, tradeDeltas(request.side, rules.base, rules.quote, request.amount, cost, fee)) === null) {
      const short = request.side === 'buy' ? this.#settings.quoteCurrency : rules.base;
      throw new ExchangeRejectedError(`insufficient ${short} for ${request.side} ${request.amount} ${request.symbol}`, 'insufficient-funds');
    }
    this.#sequence += 1;
    const order: ExchangeOrder = {
      id: `bt-${this.#sequence}`,
      clientOrderId: request.clientOrderId,
      symbol: request.symbol,
      side: request.side,
      type: request.type,
      status: 'open',
      amount: request.amount,
      ...(request.limitPrice ? { price: request.limitPrice } : {}),
      filled: '0',
      cost: '0',
      fees: [],
      timestamp: this.#now,
    };
    this.#orders.set(order.clientOrderId, { order, placedAt: this.#now });
    this.#open.add(order.clientOrderId);
    return order;
  }

  async fetchOrderByClientId(_symbol: string, clientOrderId: string): Promise<ExchangeOrder | null> {
    return this.#orders.get(clientOrderId)?.order ?? null;
  }

  async fetchOpenOrders(symbol?: string): Promise<ExchangeOrder[]> {
    return [...this.#open].map((id) => this.#orders.get(id)!.order).filter((o) => symbol === undefined || o.symbol === symbol);
  }

  async cancelOrder(_symbol: string, clientOrderId: string): Promise<ExchangeOrder | null> {
    const entry = this.#orders.get(clientOrderId);
    if (!entry) return null;
    if (this.#open.delete(clientOrderId)) entry.order = { ...entry.order, status: 'canceled' };
    return entry.order;
  }

  async fetchBalances(): Promise<Readonly<Record<string, Balance>>> {
    const out: Record<string, Balance> = {};
    for (const [asset, total] of this.#balances) out[asset] = { free: total, used: '0', total };
    return out;
  }

  #match(entry: VenueOrder, candle: Candle): VenueFill | null {
    const { order } = entry;
    const s = this.#settings;
    let price: DecimalString;
    if (order.type === 'market') {
      price = str(dec(candle.open).times(order.side === 'buy' ? this.#buyMove : this.#sellMove));
    } else {
      const limit = order.price!;
      const through = order.side === 'buy' ? cmp(candle.low, limit) <= 0 : cmp(candle.high, limit) >= 0;
      if (!through) return null;
      price = order.side === 'buy' ? min(candle.open, limit) : str(dec(candle.open).gt(limit) ? dec(candle.open) : dec(limit));
    }
    const remaining = sub(order.amount, order.filled);
    const cap = str(dec(candle.volume).times(s.volumeShare));
    const rules = s.rules[order.symbol]!;
    // The balances must pay the fill at its price: after a gap against the order since it was
    // placed they may not. The fill is then cut to what they pay (in whole amount steps) and the
    // rest of the order is canceled, as an exchange expires what it cannot fill.
    const wanted = min(remaining, cap);
    if (isZero(wanted) || dec(wanted).isNegative()) return null;
    const paid = this.#payable(order.side, rules, wanted, price);
    if (!paid) {
      this.#cancelUnpaid(entry, `insufficient-funds: the balances cannot pay ${order.side} ${wanted} ${order.symbol} at ${price}`);
      return null;
    }
    const { amount, cost, fee } = paid;
    // The balances the payability check computed: the fill's deltas applied (nothing is held in `used`).
    for (const asset of Object.keys(paid.deltas)) this.#balances.set(asset, paid.after[asset]!.free);
    const filled = add(order.filled, amount);
    const done = cmp(filled, order.amount) >= 0;
    entry.order = { ...order, filled, cost: add(order.cost, cost), fees: normalizeFees([...order.fees, fee]), status: done ? 'closed' : 'open' };
    if (done) this.#open.delete(order.clientOrderId);
    else if (cmp(amount, wanted) < 0) this.#cancelUnpaid(entry, `insufficient-funds: the balances paid ${amount} of ${wanted} ${order.symbol} at ${price}; the rest of the order is canceled`);
    const feeQuote = fee.currency === s.quoteCurrency ? fee.amount : str(dec(fee.amount).times(fee.currency === rules.base ? price : this.priceOf(fee.currency)));
    return { time: this.#now, orderId: order.clientOrderId, symbol: order.symbol, side: order.side, amount, price, cost, fee: fee.amount, feeCurrency: fee.currency, feeQuote };
  }

  /**
   * The largest part of `wanted` (in whole amount steps) the balances pay at `price`, fee
   * included, with its cost and fee (exchanges report cost to 8 decimals, a fee rounded up); null
   * when not even one step is paid.
   */
  #payable(side: 'buy' | 'sell', rules: MarketRules, wanted: DecimalString, price: DecimalString): Payable | null {
    // The balances do not move while the parts are tried: read once.
    const assets = this.#assets();
    const at = (amount: DecimalString): Payable | null => {
      const cost = str(dec(amount).times(price).toDecimalPlaces(REPORTED_DECIMALS));
      const fee = this.#fee(side, rules.base, amount, cost, assets);
      const deltas = tradeDeltas(side, rules.base, rules.quote, amount, cost, fee);
      const after = applyDeltas(assets, deltas);
      return after === null ? null : { amount, cost, fee, deltas, after };
    };
    const whole = at(wanted);
    if (whole) return whole;
    // What the paying balance covers, fee at its rate on top, rounded down to the step; then one
    // step less at a time while rounding of the fee still leaves it short.
    const rate = dec(this.#settings.feeRate);
    const limit = side === 'buy' ? dec(this.balance(rules.quote)).div(dec(price).times(rate.plus(1))) : dec(this.balance(rules.base));
    let amount = dec(roundAmount(str(Decimal.min(limit, wanted)), rules.amountStep));
    for (let tries = 0; amount.gt(0) && tries < 3; tries += 1) {
      const part = at(str(amount));
      if (part) return part;
      amount = amount.minus(rules.amountStep);
    }
    return null;
  }

  /** Ends an order the balances cannot pay, keeping what it filled; the reason goes to the report. */
  #cancelUnpaid(entry: VenueOrder, reason: string): void {
    entry.order = { ...entry.order, status: 'canceled' };
    this.#open.delete(entry.order.clientOrderId);
    this.#refusals.push({ time: this.#now, orderId: entry.order.clientOrderId, symbol: entry.order.symbol, side: entry.order.side, reason });
  }

  /** Fills refused or cut because the balances could not pay them, since the last call. */
  takeRefusals(): readonly VenueRefusal[] {
    // Most steps refuse nothing: no new list for them.
    if (this.#refusals.length === 0) return NO_REFUSALS;
    const out = this.#refusals;
    this.#refusals = [];
    return out;
  }

  /** The fee of a fill in the paper exchange's currency rules; exchanges report it to 8 decimals, rounded up. */
  #fee(side: 'buy' | 'sell', base: string, amount: DecimalString, cost: DecimalString, assets: Assets): FeeAmount {
    const s = this.#settings;
    const fee = feeFor(s, { side, base, quote: s.quoteCurrency, amount, cost }, assets, (asset) => this.priceOf(asset));
    return { currency: fee.currency, amount: str(dec(fee.amount).toDecimalPlaces(REPORTED_DECIMALS, Decimal.ROUND_UP)) };
  }

  /** The balances as the paper exchange's settlement reads them (nothing held in `used` here). */
  #assets(): Assets {
    const assets: Assets = {};
    for (const [asset, total] of this.#balances) assets[asset] = { free: total, used: '0' };
    return assets;
  }
}
