import { describe, it, expect } from 'vitest';
import { CandleVenue, type VenueSettings } from '../../../backtest/candle-venue.js';
import type { Candle } from '../../../shared/domain/market.js';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 0, 1);
const settings = (over: Partial<VenueSettings> = {}): VenueSettings => ({
  quoteCurrency: 'USDT',
  initialQuote: '10000',
  feeRate: '0.001',
  feeAsset: 'quote',
  slippage: '0.001',
  volumeShare: '0.1',
  timeframeMs: MINUTE,
  lookback: 10,
  rules: { 'BTC/USDT': { symbol: 'BTC/USDT', base: 'BTC', quote: 'USDT', amountStep: '0.0001', priceTick: '0.01', minNotional: '5' } },
  ...over,
});
const candle = (i: number, o: string, h: string, l: string, c: string, v = '100'): Candle => ({ openTime: T0 + i * MINUTE, open: o, high: h, low: l, close: c, volume: v });
const step = (venue: CandleVenue, c: Candle) => venue.closeStep(c.openTime + MINUTE, new Map([['BTC/USDT', c]]));

describe('Backtest venue: honest fills from candles', () => {
  it('shows a candle only once it has closed, and fills a market order at the next open plus slippage', async () => {
    const venue = new CandleVenue(settings());
    step(venue, candle(0, '100', '101', '99', '100'));
    expect((await venue.fetchCandles('BTC/USDT', 5)).map((c) => c.openTime)).toEqual([T0]);
    expect(await venue.fetchTickers(['BTC/USDT'])).toEqual([{ symbol: 'BTC/USDT', bid: '100', ask: '100', last: '100', volume: '100', timestamp: T0 + MINUTE }]);
    const placed = await venue.createOrder({ clientOrderId: 'tw-1', symbol: 'BTC/USDT', side: 'buy', type: 'market', amount: '1' });
    expect(placed).toMatchObject({ status: 'open', filled: '0' });
    const fills = step(venue, candle(1, '110', '120', '105', '115'));
    expect(fills).toEqual([{ time: T0 + 2 * MINUTE, orderId: 'tw-1', symbol: 'BTC/USDT', side: 'buy', amount: '1', price: '110.11', cost: '110.11', fee: '0.11011', feeCurrency: 'USDT', feeQuote: '0.11011' }]);
    expect(await venue.fetchOrderByClientId('BTC/USDT', 'tw-1')).toMatchObject({ status: 'closed', filled: '1', cost: '110.11', fees: [{ currency: 'USDT', amount: '0.11011' }] });
    expect([venue.balance('USDT'), venue.balance('BTC')]).toEqual(['9889.77989', '1']);
  });

  it('caps a fill at its share of the candle volume and carries the rest as a partial fill', async () => {
    const venue = new CandleVenue(settings({ slippage: '0' }));
    step(venue, candle(0, '100', '101', '99', '100'));
    await venue.createOrder({ clientOrderId: 'tw-2', symbol: 'BTC/USDT', side: 'buy', type: 'market', amount: '25' });
    expect(step(venue, candle(1, '100', '101', '99', '100', '100'))[0]!.amount).toBe('10');
    expect(await venue.fetchOrderByClientId('BTC/USDT', 'tw-2')).toMatchObject({ status: 'open', filled: '10' });
    expect(step(venue, candle(2, '102', '103', '101', '102', '100'))[0]).toMatchObject({ amount: '10', price: '102' });
    expect(step(venue, candle(3, '104', '105', '103', '104', '100'))[0]).toMatchObject({ amount: '5', price: '104' });
    expect(await venue.fetchOrderByClientId('BTC/USDT', 'tw-2')).toMatchObject({ status: 'closed', filled: '25', cost: '2540' });
    expect(venue.openOrders).toBe(0);
  });

  it('fills a limit order only when a candle trades through its price', async () => {
    const venue = new CandleVenue(settings());
    step(venue, candle(0, '100', '101', '99', '100'));
    await venue.createOrder({ clientOrderId: 'tw-3', symbol: 'BTC/USDT', side: 'buy', type: 'limit', amount: '1', limitPrice: '95' });
    expect(step(venue, candle(1, '100', '101', '96', '97'))).toEqual([]);
    expect(step(venue, candle(2, '97', '98', '94', '96'))[0]).toMatchObject({ price: '95', amount: '1' });
    await venue.createOrder({ clientOrderId: 'tw-4', symbol: 'BTC/USDT', side: 'sell', type: 'limit', amount: '1', limitPrice: '99' });
    // Opens through the limit: filled at the (better) open.
    expect(step(venue, candle(3, '101', '102', '100', '101'))[0]).toMatchObject({ price: '101', side: 'sell' });
  });

  it('charges a base-coin fee out of the bought coin', async () => {
    const venue = new CandleVenue(settings({ feeAsset: 'base', slippage: '0' }));
    step(venue, candle(0, '100', '101', '99', '100'));
    await venue.createOrder({ clientOrderId: 'tw-5', symbol: 'BTC/USDT', side: 'buy', type: 'market', amount: '2' });
    expect(step(venue, candle(1, '100', '101', '99', '100'))[0]).toMatchObject({ fee: '0.002', feeCurrency: 'BTC' });
    expect([venue.balance('USDT'), venue.balance('BTC')]).toEqual(['9800', '1.998']);
  });

  it('charges a fee in a third asset (BNB) at its price while the holding pays, then in the quote, as the paper exchange does', async () => {
    const venue = new CandleVenue(settings({ feeAsset: 'BNB', initialFeeAsset: '0.0003', feeAssetPrice: '500', slippage: '0' }));
    step(venue, candle(0, '100', '101', '99', '100'));
    await venue.createOrder({ clientOrderId: 'tw-8', symbol: 'BTC/USDT', side: 'buy', type: 'market', amount: '1' });
    // 0.1 USDT of fee is 0.0002 BNB at 500.
    expect(step(venue, candle(1, '100', '101', '99', '100'))[0]).toMatchObject({ fee: '0.0002', feeCurrency: 'BNB', feeQuote: '0.1' });
    await venue.createOrder({ clientOrderId: 'tw-9', symbol: 'BTC/USDT', side: 'buy', type: 'market', amount: '1' });
    // 0.0001 BNB left cannot pay 0.0002: the fee falls back to USDT.
    expect(step(venue, candle(2, '100', '101', '99', '100'))[0]).toMatchObject({ fee: '0.1', feeCurrency: 'USDT', feeQuote: '0.1' });
    expect([venue.balance('USDT'), venue.balance('BTC'), venue.balance('BNB')]).toEqual(['9799.9', '2', '0.0001']);
  });

  it('prices a third fee asset from its own candles when the data set has them, and refuses a fee it cannot price', async () => {
    const rules = { ...settings().rules, 'BNB/USDT': { symbol: 'BNB/USDT', base: 'BNB', quote: 'USDT', amountStep: '0.001', priceTick: '0.01' } };
    const venue = new CandleVenue(settings({ feeAsset: 'BNB', initialFeeAsset: '1', slippage: '0', rules }));
    expect(() => venue.priceOf('BNB')).toThrow(/no price for BNB/);
    venue.closeStep(T0 + MINUTE, new Map([['BTC/USDT', candle(0, '100', '101', '99', '100')], ['BNB/USDT', candle(0, '250', '250', '250', '250')]]));
    expect(venue.priceOf('BNB')).toBe('250');
  });

  it('refuses a sell of more than the account holds and a duplicate client order id', async () => {
    const venue = new CandleVenue(settings());
    step(venue, candle(0, '100', '101', '99', '100'));
    await expect(venue.createOrder({ clientOrderId: 'tw-6', symbol: 'BTC/USDT', side: 'sell', type: 'market', amount: '1' })).rejects.toMatchObject({ code: 'EXCHANGE_REJECTED' });
    await venue.createOrder({ clientOrderId: 'tw-7', symbol: 'BTC/USDT', side: 'buy', type: 'market', amount: '1' });
    await expect(venue.createOrder({ clientOrderId: 'tw-7', symbol: 'BTC/USDT', side: 'buy', type: 'market', amount: '1' })).rejects.toMatchObject({ code: 'EXCHANGE_REJECTED' });
  });

  it('cuts a fill the balance cannot pay after a gap up to what it pays, cancels the rest, and says why', async () => {
    const venue = new CandleVenue(settings());
    step(venue, candle(0, '100', '101', '99', '100', '1000'));
    // 90 BTC at about 100 are paid by 10,000 USDT when placed...
    await venue.createOrder({ clientOrderId: 'tw-gap', symbol: 'BTC/USDT', side: 'buy', type: 'market', amount: '90' });
    // ...but the next candle opens 50 % higher.
    const fills = step(venue, candle(1, '150', '151', '149', '150', '1000'));
    // 10,000 / (150.15 x 1.001) = 66.53354..., down to the 0.0001 step: 9,990.005025 + 9.99000503 fee.
    expect(fills).toEqual([{ time: T0 + 2 * MINUTE, orderId: 'tw-gap', symbol: 'BTC/USDT', side: 'buy', amount: '66.5335', price: '150.15', cost: '9990.005025', fee: '9.99000503', feeCurrency: 'USDT', feeQuote: '9.99000503' }]);
    expect(await venue.fetchOrderByClientId('BTC/USDT', 'tw-gap')).toMatchObject({ status: 'canceled', filled: '66.5335' });
    expect([venue.balance('USDT'), venue.balance('BTC')]).toEqual(['0.00496997', '66.5335']);
    expect(venue.takeRefusals()).toEqual([{ time: T0 + 2 * MINUTE, orderId: 'tw-gap', symbol: 'BTC/USDT', side: 'buy', reason: expect.stringMatching(/^insufficient-funds: the balances paid 66\.5335 of 90 BTC\/USDT at 150\.15/) }]);
    expect(venue.takeRefusals()).toEqual([]);
    expect(venue.openOrders).toBe(0);
  });

  it('refuses a fill the balance cannot pay even one amount step of, and fills nothing', async () => {
    const venue = new CandleVenue(settings({ initialQuote: '101' }));
    step(venue, candle(0, '100', '101', '99', '100', '1000'));
    await venue.createOrder({ clientOrderId: 'tw-none', symbol: 'BTC/USDT', side: 'buy', type: 'market', amount: '1' });
    // Placed at a balance of 101 for about 100.2; the open is two million: one 0.0001 step costs 200.2.
    expect(step(venue, candle(1, '2000000', '2000001', '1999999', '2000000', '1000'))).toEqual([]);
    expect(await venue.fetchOrderByClientId('BTC/USDT', 'tw-none')).toMatchObject({ status: 'canceled', filled: '0' });
    expect(venue.balance('USDT')).toBe('101');
    expect(venue.takeRefusals()).toEqual([expect.objectContaining({ orderId: 'tw-none', reason: expect.stringMatching(/^insufficient-funds: the balances cannot pay buy 1 BTC\/USDT at 2002000/) })]);
  });
});
