/**
 * Round trips from fills: a trade opens with the first buy of a flat symbol and closes with the
 * sell that leaves the position empty (or dust). Its PnL is what the account actually gained:
 * sell proceeds minus buy costs minus every fee valued in quote at its fill.
 */
import { Decimal, add, dec, div, isZero, mul, str, sub, type DecimalString } from '../../shared/domain/money.js';

export interface BookedFill {
  /** Epoch ms. */
  readonly time: number;
  readonly symbol: string;
  /** The strategy or protection whose intent placed the order. */
  readonly strategy: string;
  readonly side: 'buy' | 'sell';
  /** Base amount filled (gross, before a base-coin fee). */
  readonly amount: DecimalString;
  /** Quote amount filled. */
  readonly cost: DecimalString;
  /** Every fee of the fill valued in quote at the fill price. */
  readonly feeQuote: DecimalString;
  /** The position's base quantity after this fill was booked. */
  readonly positionAfter: DecimalString;
}

export interface Trade {
  readonly symbol: string;
  readonly entryStrategy: string;
  readonly exitStrategy: string | null;
  readonly entryTime: string;
  readonly exitTime: string | null;
  readonly entryPrice: DecimalString;
  readonly exitPrice: DecimalString | null;
  /** Base bought. */
  readonly amount: DecimalString;
  readonly pnl: DecimalString;
  readonly fees: DecimalString;
  readonly returnPercent: number;
  /** Still open at the end of the run: PnL counts the remainder at the last close. */
  readonly open: boolean;
}

/** A trade being booked; its sums are kept as decimals (the same sums `add` makes, without a text per fill). */
interface OpenTrade {
  entryStrategy: string;
  exitStrategy: string | null;
  entryTime: number;
  lastExit: number | null;
  bought: Decimal;
  buyCost: Decimal;
  sold: Decimal;
  sellProceeds: Decimal;
  fees: Decimal;
}

const ZERO = new Decimal(0);

export class TradeBook {
  readonly #open = new Map<string, OpenTrade>();
  readonly #closed: Trade[] = [];

  /** @param dustQty the quantity at or below which a position counts as closed, per symbol. */
  constructor(private readonly isFlat: (symbol: string, qty: DecimalString) => boolean = (_s, qty) => isZero(qty)) {}

  book(fill: BookedFill): void {
    let trade = this.#open.get(fill.symbol);
    if (!trade) {
      if (fill.side === 'sell') return; // selling what was held before the run: not a trade of this run
      trade = { entryStrategy: fill.strategy, exitStrategy: null, entryTime: fill.time, lastExit: null, bought: ZERO, buyCost: ZERO, sold: ZERO, sellProceeds: ZERO, fees: ZERO };
      this.#open.set(fill.symbol, trade);
    }
    trade.fees = trade.fees.plus(dec(fill.feeQuote));
    if (fill.side === 'buy') {
      trade.bought = trade.bought.plus(dec(fill.amount));
      trade.buyCost = trade.buyCost.plus(dec(fill.cost));
    } else {
      trade.sold = trade.sold.plus(dec(fill.amount));
      trade.sellProceeds = trade.sellProceeds.plus(dec(fill.cost));
      trade.exitStrategy = fill.strategy;
      trade.lastExit = fill.time;
    }
    if (fill.side === 'sell' && this.isFlat(fill.symbol, fill.positionAfter)) {
      this.#closed.push(toTrade(fill.symbol, trade, '0', false));
      this.#open.delete(fill.symbol);
    }
  }

  /** Closed trades, then the open ones valued at `lastPrices`. */
  trades(lastPrices: ReadonlyMap<string, DecimalString>, positions: ReadonlyMap<string, DecimalString>): Trade[] {
    const open = [...this.#open.entries()].map(([symbol, t]) => toTrade(symbol, t, mul(positions.get(symbol) ?? '0', lastPrices.get(symbol) ?? '0'), true));
    return [...this.#closed, ...open];
  }
}

function toTrade(symbol: string, trade: OpenTrade, remainderValue: DecimalString, open: boolean): Trade {
  const t = { ...trade, bought: str(trade.bought), buyCost: str(trade.buyCost), sold: str(trade.sold), sellProceeds: str(trade.sellProceeds), fees: str(trade.fees) };
  const pnl = sub(add(t.sellProceeds, remainderValue), add(t.buyCost, t.fees));
  return {
    symbol,
    entryStrategy: t.entryStrategy,
    exitStrategy: t.exitStrategy,
    entryTime: new Date(t.entryTime).toISOString(),
    exitTime: open || t.lastExit === null ? null : new Date(t.lastExit).toISOString(),
    entryPrice: isZero(t.bought) ? '0' : round(div(t.buyCost, t.bought)),
    exitPrice: isZero(t.sold) ? null : round(div(t.sellProceeds, t.sold)),
    amount: t.bought,
    pnl: round(pnl),
    fees: round(t.fees),
    returnPercent: isZero(t.buyCost) ? 0 : Number(str(dec(pnl).div(t.buyCost).times(100).toDecimalPlaces(4))),
    open,
  };
}

/** Report precision for derived quote amounts (prices and PnL): 8 decimals, half-even. */
export function round(value: DecimalString): DecimalString {
  return str(dec(value).toDecimalPlaces(8));
}

export interface TradeTotals {
  readonly trades: number;
  readonly wins: number;
  readonly winRate: number;
  /** Gross profit over gross loss; null when no trade lost. */
  readonly profitFactor: number | null;
  readonly pnl: DecimalString;
  readonly fees: DecimalString;
}

export function tradeTotals(trades: readonly Trade[]): TradeTotals {
  // Summed as decimals, written once: the same sums as adding the texts one by one.
  let grossProfit = ZERO;
  let grossLoss = ZERO;
  let fees = ZERO;
  let pnl = ZERO;
  let wins = 0;
  for (const t of trades) {
    const tradePnl = dec(t.pnl);
    pnl = pnl.plus(tradePnl);
    fees = fees.plus(dec(t.fees));
    if (tradePnl.gt(0)) {
      wins += 1;
      grossProfit = grossProfit.plus(tradePnl);
    } else grossLoss = grossLoss.minus(tradePnl);
  }
  return {
    trades: trades.length,
    wins,
    winRate: trades.length === 0 ? 0 : fixed(wins / trades.length),
    profitFactor: grossLoss.isZero() ? null : fixed(Number(div(str(grossProfit), str(grossLoss)))),
    pnl: round(str(pnl)),
    fees: round(str(fees)),
  };
}

/** Ratios in the report: 6 decimals, so reruns print the same bytes. */
export function fixed(value: number, places = 6): number {
  return Number(value.toFixed(places));
}
