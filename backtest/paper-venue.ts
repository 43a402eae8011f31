/**
 * The paper exchange as a backtest's venue (BT-1): the very PaperExchange of `npm start`, its
 * matching and settlement unchanged, over in-memory books and a replayed market. It fills as
 * the paper exchange does: a market order at once at the ask (buy) or bid (sell) of the moment
 * it arrives, a limit order at its price when the market crosses it, fees in the quote, the base
 * coin or a third asset (EXE-12). This wrapper only watches the orders it returns, to report each
 * fill once (the report's trades); it decides nothing.
 */
import type { Candle, MarketRules, Ticker } from '../shared/domain/market.js';
import { feeDeltas, type FeeAmount } from '../shared/domain/fees.js';
import { dec, isZero, str, sub, type DecimalString } from '../shared/domain/money.js';
import { MemoryPaperStore } from '../shared/adapters/paper/memory-paper-store.js';
import { PaperExchange } from '../shared/adapters/paper/paper-exchange.js';
import type { Clock } from '../shared/ports/clock.js';
import type { Balance, Exchange, ExchangeOrder, PlaceOrderRequest } from '../shared/ports/exchange.js';
import type { VenueFill } from './candle-venue.js';
import type { StepColumns } from './data/step-columns.js';
import { ReplayMarket, type QuoteSource } from './replay-market.js';

export interface PaperVenueSettings {
  readonly quotes: QuoteSource;
  readonly quoteCurrency: string;
  readonly rules: Readonly<Record<string, MarketRules>>;
  readonly clock: Clock;
  readonly timeframeMs: number;
  readonly lookback: number;
  /** Fee per fill, as a fraction. */
  readonly feeRate: DecimalString;
  readonly feeAsset: string;
  readonly initialBalances: Readonly<Record<string, DecimalString>>;
}

interface Seen {
  readonly filled: DecimalString;
  readonly cost: DecimalString;
  readonly fees: readonly FeeAmount[];
}

export class PaperVenue implements Exchange {
  readonly id = 'backtest-paper';
  readonly source;
  readonly #paper: PaperExchange;
  readonly #market: ReplayMarket;
  readonly #clock: Clock;
  readonly #quotes: QuoteSource;
  readonly #quoteCurrency: string;
  readonly #seen = new Map<string, Seen>();
  #fills: VenueFill[] = [];

  constructor(settings: PaperVenueSettings) {
    this.#market = new ReplayMarket(settings.rules, settings.quotes, settings.timeframeMs, settings.lookback);
    this.#clock = settings.clock;
    this.#quotes = settings.quotes;
    this.#quoteCurrency = settings.quoteCurrency;
    this.#paper = new PaperExchange({
      books: (initial) => new MemoryPaperStore(initial),
      market: this.#market,
      clock: settings.clock,
      feeRate: settings.feeRate,
      feeAsset: settings.feeAsset,
      initialBalances: settings.initialBalances,
      symbols: Object.keys(settings.rules),
    });
    this.source = this.#paper.source;
  }

  /** Quote price of an asset at the moment: the last price of its market. */
  priceOf(asset: string): DecimalString {
    return this.#quotes.ticker(`${asset}/${this.#quoteCurrency}`, this.#clock.now()).last;
  }

  /** The candles of one step have closed: they become market data. Returns the fills not yet taken. */
  closeStep(_closeTime: number, candles: ReadonlyMap<string, Candle>): VenueFill[] {
    this.#market.add(candles);
    return this.takeFills();
  }

  /** `closeStep` for the step of `batch` whose candles are `start` up to `end` (exclusive); `names` are the symbols by index. */
  closeColumns(closeTime: number, batch: StepColumns, start: number, end: number, names: readonly string[]): VenueFill[] {
    const candles = new Map<string, Candle>();
    for (let k = start; k < end; k += 1) candles.set(names[batch.symbols[k]!]!, batch.candles[k]!);
    return this.closeStep(closeTime, candles);
  }

  /** The fills seen since the last call, in the order they happened. */
  takeFills(): VenueFill[] {
    const fills = this.#fills;
    this.#fills = [];
    return fills;
  }

  loadMarkets(): Promise<Readonly<Record<string, MarketRules>>> {
    return this.#paper.loadMarkets();
  }
  fetchTickers(symbols?: readonly string[]): Promise<Ticker[]> {
    return this.#paper.fetchTickers(symbols);
  }
  fetchCandles(symbol: string, limit: number): Promise<Candle[]> {
    return this.#paper.fetchCandles(symbol, limit);
  }
  async createOrder(request: PlaceOrderRequest): Promise<ExchangeOrder> {
    return this.#observe(await this.#paper.createOrder(request));
  }
  async fetchOrderByClientId(symbol: string, clientOrderId: string): Promise<ExchangeOrder | null> {
    const order = await this.#paper.fetchOrderByClientId(symbol, clientOrderId);
    return order && this.#observe(order);
  }
  async fetchOpenOrders(symbol?: string): Promise<ExchangeOrder[]> {
    return (await this.#paper.fetchOpenOrders(symbol)).map((o) => this.#observe(o));
  }
  async cancelOrder(symbol: string, clientOrderId: string): Promise<ExchangeOrder | null> {
    const order = await this.#paper.cancelOrder(symbol, clientOrderId);
    return order && this.#observe(order);
  }
  fetchBalances(): Promise<Readonly<Record<string, Balance>>> {
    return this.#paper.fetchBalances();
  }

  /** Records what `order` filled beyond what was seen of it before. */
  #observe(order: ExchangeOrder): ExchangeOrder {
    const before = this.#seen.get(order.clientOrderId) ?? { filled: '0', cost: '0', fees: [] };
    const amount = sub(order.filled, before.filled);
    if (isZero(amount) || dec(amount).isNegative()) return order;
    const cost = sub(order.cost, before.cost);
    const fee = feeDeltas(order.fees, before.fees);
    this.#seen.set(order.clientOrderId, { filled: order.filled, cost: order.cost, fees: order.fees });
    const price = str(dec(cost).div(amount));
    const rules = this.#market.rules(order.symbol);
    // One currency per fill on the paper exchange (quote, base or the third asset).
    const feeCurrency = fee[0]?.currency ?? rules.quote;
    const feeAmount = fee[0]?.amount ?? '0';
    const feeQuote = feeCurrency === rules.quote ? feeAmount : str(dec(feeAmount).times(feeCurrency === rules.base ? price : this.priceOf(feeCurrency)));
    this.#fills.push({
      time: this.#clock.now().getTime(),
      orderId: order.clientOrderId,
      symbol: order.symbol,
      side: order.side,
      amount,
      price,
      cost,
      fee: feeAmount,
      feeCurrency,
      feeQuote,
    });
    return order;
  }
}
