/**
 * Matching of the paper exchange: whether an order is valid for its market, at what price it
 * fills, and the order item (with the balance effect it owes) each event makes of it. Pure:
 * the prices come in as tickers, the fee as decided by settlement (paper-settlement.ts).
 *
 * Market orders fill at once at the ask (buy) or bid (sell) of the moment. A limit order that is
 * marketable when placed fills at its limit price; otherwise it rests with its funds moved from
 * free to used, and fills at its limit price as far as its market says it traded (paper-market.ts:
 * the synthetic market fills it whole when its ticker crosses the limit, the exchange's market by
 * the volume traded through it, possibly in parts). A cancel releases what the order still holds.
 */
import { createHash } from 'node:crypto';
import { ExchangeRejectedError } from '../../domain/errors.js';
import { feeOf, normalizeFees, type FeeAmount } from '../../domain/fees.js';
import type { MarketRules, Ticker } from '../../domain/market.js';
import { Decimal, UNSIGNED_DECIMAL_PATTERN, add, cmp, dec, mul, str, sub, type DecimalString } from '../../domain/money.js';
import type { PlaceOrderRequest } from '../../ports/exchange.js';
import { deltasOf, effectIdFor, neg, tradeDeltas } from './paper-settlement.js';
import { ORDER_SK, orderPk, withIndexKeys, type Deltas, type EffectKind, type OrderItem } from './paper-books.js';

/** Binance's rule for client order ids; it also keeps '#' (the store's key separator) out. */
export const CLIENT_ORDER_ID_PATTERN = /^[.A-Za-z0-9:/_-]{1,36}$/;

/** @throws ExchangeRejectedError `invalid-order` when the request breaks a market rule. */
export function validateOrder(request: PlaceOrderRequest, rules: MarketRules): void {
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
    return;
  }
  const limit = request.limitPrice;
  if (limit === undefined || !isPositiveDecimal(limit)) throw invalid('a limit order needs a positive limit price');
  if (!dec(limit).mod(rules.priceTick).isZero()) throw invalid(`limit price must be a multiple of ${rules.priceTick}`);
  if (rules.minPrice !== undefined && cmp(limit, rules.minPrice) < 0) throw invalid(`limit price below ${rules.minPrice}`);
  if (rules.maxPrice !== undefined && cmp(limit, rules.maxPrice) > 0) throw invalid(`limit price above ${rules.maxPrice}`);
}

/** What an order would trade at when placed against `ticker`: its price and cost, and whether it fills at once. */
export function quoteOrder(request: PlaceOrderRequest, rules: MarketRules, ticker: Ticker): { readonly price: DecimalString; readonly cost: DecimalString; readonly immediate: boolean } {
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
  return { price, cost, immediate };
}

/** The new order item with its placement effect pending: filled at once, or resting with its funds held. */
export function placedOrder(
  request: PlaceOrderRequest,
  rules: MarketRules,
  quoted: { readonly price: DecimalString; readonly cost: DecimalString; readonly immediate: boolean },
  fee: FeeAmount,
  feeRate: DecimalString,
  now: Date,
): OrderItem {
  const { base, quote } = rules;
  const { price, cost } = quoted;
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
    feeRate,
    timestamp: now.getTime(),
    effectCount: 1,
    version: 1,
  };
  const effectId = effectIdFor(request.clientOrderId, 1);
  if (quoted.immediate) {
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
  const reserved = request.side === 'buy' ? { asset: quote, amount: fee.currency === quote ? add(cost, fee.amount) : cost } : { asset: base, amount: common.amount };
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

/**
 * A resting order filled up to `upTo` (cumulative base amount, at most its amount) at its limit
 * price: the part of the reserve that pays for the new fill is consumed and the proceeds are
 * credited. Filled to its amount, the order closes and everything it still holds is used or
 * released; short of it, it stays open holding the rest (a partial fill). Its fee is charged
 * per fill: in the quote or base at the order's rate, a third-asset fee in proportion (rounded
 * down to 8 decimals; the last fill pays what is left of the fee decided at placement).
 * `matchedUntil` is the market watermark the fill was matched to (exchange-paper-market.ts).
 */
export function filledOrder(order: OrderItem, upTo: DecimalString = order.amount, matchedUntil?: number): OrderItem {
  const price = order.price ?? '0';
  const target = cmp(upTo, order.amount) > 0 ? order.amount : str(dec(upTo));
  const remaining = sub(order.amount, order.filled);
  const qty = sub(target, order.filled);
  const last = cmp(qty, remaining) >= 0;
  const reserved = order.reserved ?? { asset: order.side === 'buy' ? order.quote : order.base, amount: '0' };
  const cost = mul(qty, price);
  // Orders placed before fees were kept per currency owe a quote fee.
  const due = order.feeDue ?? { currency: order.quote, amount: mul(mul(remaining, price), order.feeRate) };
  const fee = { currency: due.currency, amount: last ? due.amount : partOfFee(order, due, qty, cost, remaining) };
  // What of the holds this fill releases: all of them on the last fill, else its cost (with a
  // quote fee) for a buy and its amount for a sell, and its part of a held third-asset fee.
  const release = last ? reserved.amount : order.side === 'buy' ? (fee.currency === order.quote ? add(cost, fee.amount) : cost) : qty;
  const feeRelease = order.feeHeld ? (last ? order.feeHeld.amount : fee.amount) : '0';
  // Held funds go back to free, and the trade is paid from free: the sum is what moves.
  const holds: Array<[string, DecimalString, DecimalString]> = [[reserved.asset, release, neg(release)]];
  if (order.feeHeld) holds.push([order.feeHeld.asset, feeRelease, neg(feeRelease)]);
  const trade = tradeDeltas(order.side, order.base, order.quote, qty, cost, fee);
  const deltas = deltasOf(...holds, ...Object.entries(trade).map(([asset, d]): [string, DecimalString, DecimalString] => [asset, d.free, d.used]));
  const common = { filled: target, cost: add(order.cost, cost), fees: normalizeFees([...order.fees, ...feeOf(fee.currency, fee.amount)]), ...(matchedUntil === undefined ? {} : { matchedUntil }) };
  if (last) return nextEffect(order, 'fill', deltas, { ...common, status: 'closed', feeDue: undefined, feeHeld: undefined });
  return nextEffect(order, 'fill', deltas, {
    ...common,
    status: 'open',
    reserved: { asset: reserved.asset, amount: sub(reserved.amount, release) },
    feeDue: { currency: due.currency, amount: sub(due.amount, fee.amount) },
    ...(order.feeHeld ? { feeHeld: { asset: order.feeHeld.asset, amount: sub(order.feeHeld.amount, feeRelease) } } : {}),
  });
}

/** The fee of a partial fill of `qty` (costing `cost`) out of `remaining`. */
function partOfFee(order: OrderItem, due: FeeAmount, qty: DecimalString, cost: DecimalString, remaining: DecimalString): DecimalString {
  if (due.currency === order.quote) return mul(cost, order.feeRate);
  if (due.currency === order.base) return mul(qty, order.feeRate);
  return str(dec(due.amount).times(qty).div(remaining).toDecimalPlaces(8, Decimal.ROUND_DOWN));
}

/** A resting order canceled: its reserve goes back to free. */
export function canceledOrder(order: OrderItem): OrderItem {
  const holds: Array<[string, DecimalString, DecimalString]> = [];
  if (order.reserved) holds.push([order.reserved.asset, order.reserved.amount, neg(order.reserved.amount)]);
  if (order.feeHeld) holds.push([order.feeHeld.asset, order.feeHeld.amount, neg(order.feeHeld.amount)]);
  return nextEffect(order, 'release', deltasOf(...holds), { status: 'canceled', feeDue: undefined, feeHeld: undefined });
}

function nextEffect(order: OrderItem, kind: EffectKind, deltas: Deltas, change: Partial<OrderItem>): OrderItem {
  const effectCount = order.effectCount + 1;
  return withIndexKeys({
    ...order,
    reserved: undefined,
    ...change,
    effectCount,
    version: order.version + 1,
    pending: { id: effectIdFor(order.clientOrderId, effectCount), kind, rejectable: false, deltas },
  });
}

/** Deterministic exchange order id: the same client order id always maps to the same id. */
function orderIdFor(clientOrderId: string): string {
  return `P${createHash('sha256').update(clientOrderId).digest('hex').slice(0, 16)}`;
}

export function isPositiveDecimal(value: string): boolean {
  return UNSIGNED_DECIMAL_PATTERN.test(value) && !dec(value).isZero();
}
