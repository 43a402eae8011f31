/**
 * ccxt's unified structures as the domain's (markets, tickers, orders with their trades and
 * fees), numbers as exact decimal strings (ccxt's `numberToString`, exact for the up to 15
 * significant digits exchanges send). Fees stay per currency as charged (EXE-12).
 */
import type { Exchange as CcxtClient, Market as CcxtMarket, Order as CcxtOrder, Ticker as CcxtTicker } from 'ccxt';
import { ValidationError } from '../../domain/errors.js';
import { ASSET_PATTERN, normalizeFees, type FeeAmount } from '../../domain/fees.js';
import type { MarketRules, Ticker } from '../../domain/market.js';
import { dec, str, type DecimalString } from '../../domain/money.js';
import type { ExchangeOrderStatus, OrderTrade, OrderType } from '../../domain/order.js';
import type { Clock } from '../../ports/clock.js';
import type { ExchangeOrder } from '../../ports/exchange.js';

/** ccxt precision modes (ccxt/js/src/base/functions/number.js). */
const DECIMAL_PLACES = 2;
const TICK_SIZE = 4;

export class CcxtMapping {
  readonly #client: CcxtClient;
  readonly #clock: Clock;

  /** `clock`: the time of an order the exchange reports without one. */
  constructor(client: CcxtClient, clock: Clock) {
    this.#client = client;
    this.#clock = clock;
  }

  /** Active spot markets with usable precision, as MarketRules; only `symbols` when given. */
  toRules(markets: Record<string, CcxtMarket>, symbols: ReadonlySet<string> | undefined): Readonly<Record<string, MarketRules>> {
    const result: Record<string, MarketRules> = {};
    for (const market of Object.values(markets)) {
      if (!market || !market.spot || market.active === false) continue;
      if (symbols && !symbols.has(market.symbol)) continue;
      const amountStep = this.step(market.precision.amount);
      const priceTick = this.step(market.precision.price);
      if (!amountStep || !priceTick) continue;
      const limit = (value: number | undefined): { value?: DecimalString } => (typeof value === 'number' && value > 0 ? { value: this.decimal(value) } : {});
      const rule = (key: keyof MarketRules, value: number | undefined) => {
        const v = limit(value).value;
        return v === undefined ? {} : { [key]: v };
      };
      result[market.symbol] = {
        symbol: market.symbol,
        base: market.base,
        quote: market.quote,
        amountStep,
        priceTick,
        ...rule('minAmount', market.limits.amount?.min),
        ...rule('maxAmount', market.limits.amount?.max),
        ...rule('minPrice', market.limits.price?.min),
        ...rule('maxPrice', market.limits.price?.max),
        ...rule('minNotional', market.limits.cost?.min),
        ...rule('maxNotional', market.limits.cost?.max),
      };
    }
    return result;
  }

  /** A market precision as a step: TICK_SIZE gives the step itself, DECIMAL_PLACES a digit count. */
  private step(precision: number | undefined): DecimalString | undefined {
    if (typeof precision !== 'number' || !Number.isFinite(precision) || precision <= 0) return undefined;
    if (this.#client.precisionMode === TICK_SIZE) return this.decimal(precision);
    if (this.#client.precisionMode === DECIMAL_PLACES && Number.isInteger(precision)) return str(dec('10').pow(-precision));
    return undefined;
  }

  toTicker(symbol: string, t: CcxtTicker): Ticker {
    // Missing or non-finite values become '' so market validation rejects them with a reason.
    return {
      symbol,
      bid: this.decimalOrEmpty(t.bid),
      ask: this.decimalOrEmpty(t.ask),
      last: this.decimalOrEmpty(t.last ?? t.close),
      volume: this.decimalOrEmpty(t.baseVolume),
      ...(typeof t.quoteVolume === 'number' && Number.isFinite(t.quoteVolume) ? { quoteVolume: this.decimal(t.quoteVolume) } : {}),
      timestamp: typeof t.timestamp === 'number' ? t.timestamp : Number.NaN,
    };
  }

  /** `knownClientOrderId`: the id the order was sent or looked up with (a Binance cancel answers with a new one). */
  toOrder(o: CcxtOrder, knownClientOrderId: string | undefined): ExchangeOrder {
    const symbol = o.symbol ?? '';
    const filled = typeof o.filled === 'number' ? o.filled : 0;
    const average = typeof o.average === 'number' && o.average > 0 ? o.average : undefined;
    const cost = typeof o.cost === 'number' ? this.decimal(o.cost) : average !== undefined ? str(dec(this.decimal(filled)).times(this.decimal(average))) : '0';
    const price = average ?? (typeof o.price === 'number' && o.price > 0 ? o.price : undefined);
    return {
      id: String(o.id),
      clientOrderId: knownClientOrderId ?? o.clientOrderId ?? '',
      symbol,
      side: o.side === 'sell' ? 'sell' : 'buy',
      type: toOrderType(o.type),
      status: toStatus(o.status),
      amount: this.decimal(typeof o.amount === 'number' ? o.amount : filled),
      ...(price === undefined ? {} : { price: this.decimal(price) }),
      filled: this.decimal(filled),
      cost,
      fees: this.feesOf(o),
      timestamp: typeof o.timestamp === 'number' ? o.timestamp : this.#clock.now().getTime(),
      ...this.tradesOf(o),
    };
  }

  /**
   * The order's trades where ccxt lists them (Binance: the `fills` of an order response), by
   * exchange trade id, so a trade reported twice is counted once (EXE-11). A trade without an
   * id makes the list unusable for that: then only the cumulative amounts are reported.
   */
  private tradesOf(o: CcxtOrder): { trades?: OrderTrade[] } {
    const listed = Array.isArray(o.trades) ? o.trades : [];
    if (listed.length === 0) return {};
    const trades: OrderTrade[] = [];
    for (const t of listed) {
      if (t.id === undefined || t.id === null || String(t.id) === '' || typeof t.amount !== 'number') return {};
      const price = typeof t.price === 'number' && t.price > 0 ? t.price : undefined;
      const cost = typeof t.cost === 'number' ? this.decimal(t.cost) : price !== undefined ? str(dec(this.decimal(t.amount)).times(this.decimal(price))) : '0';
      trades.push({ id: String(t.id), amount: this.decimal(t.amount), cost, fees: this.feesOf(t as unknown as CcxtOrder) });
    }
    return { trades };
  }

  /**
   * The order's fees, one amount per currency as charged (EXE-12): Binance charges the bought
   * coin, the quote or BNB; converting them to quote here would leave the position holding coins
   * the account never received.
   */
  private feesOf(o: CcxtOrder): FeeAmount[] {
    // ccxt fills `fees` (one per currency, summed over the trades) next to `fee`; its Order type only declares `fee`.
    const all = (o as CcxtOrder & { fees?: CcxtOrder['fee'][] }).fees;
    const charged = all && all.length > 0 ? all : o.fee ? [o.fee] : [];
    const fees: FeeAmount[] = [];
    for (const fee of charged) {
      if (typeof fee?.cost !== 'number' || !Number.isFinite(fee.cost) || fee.cost === 0) continue;
      if (typeof fee.currency !== 'string' || !ASSET_PATTERN.test(fee.currency)) {
        throw new ValidationError(`order ${String(o.id)} reports a fee of ${fee.cost} in an unknown currency ${JSON.stringify(fee.currency)}`, ['fees']);
      }
      fees.push({ currency: fee.currency, amount: this.decimal(fee.cost) });
    }
    return normalizeFees(fees);
  }

  decimal(value: number | string | undefined): DecimalString {
    const text = typeof value === 'number' ? this.#client.numberToString(value) : String(value ?? '0');
    return str(dec(text));
  }

  private decimalOrEmpty(value: number | undefined): DecimalString {
    return typeof value === 'number' && Number.isFinite(value) ? this.decimal(value) : '';
  }
}

function toStatus(status: string | undefined): ExchangeOrderStatus {
  switch (status) {
    case 'closed':
    case 'canceled':
    case 'rejected':
    case 'expired':
      return status;
    case 'cancelled':
      return 'canceled';
    default:
      // 'open' and anything unparsed: treat as still live; the reconciler refreshes it.
      return 'open';
  }
}

function toOrderType(type: string | undefined): OrderType {
  return type === 'market' ? 'market' : 'limit';
}
