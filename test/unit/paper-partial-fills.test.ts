/**
 * Partial fills of the paper exchange's resting limit orders (DATA-6): a limit order filled in
 * parts moves exactly the balances one whole fill would, in every fee currency, and holds what is
 * left of its reserve while it rests.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { filledOrder, placedOrder, quoteOrder } from '../../shared/adapters/paper/paper-matching.js';
import { applyDeltas, feeFor, type FeeSettings } from '../../shared/adapters/paper/paper-settlement.js';
import type { Assets, OrderItem } from '../../shared/adapters/paper/paper-store.js';
import type { MarketRules, Ticker } from '../../shared/domain/market.js';
import { add, cmp, dec, str } from '../../shared/domain/money.js';
import type { Side } from '../../shared/domain/order.js';

const RULES: MarketRules = { symbol: 'BTC/USDT', base: 'BTC', quote: 'USDT', amountStep: '0.001', priceTick: '0.01', minNotional: '5' };
const TICKER: Ticker = { symbol: 'BTC/USDT', bid: '65234.49', ask: '65234.5', last: '65234.5', volume: '100', timestamp: 0 };
const OPENING: Assets = { USDT: { free: '100000', used: '0' }, BTC: { free: '10', used: '0' }, BNB: { free: '50', used: '0' } };
const BNB_PRICE = '600';

/** A resting limit order and the balances after its placement. */
function rest(side: Side, amount: string, feeAsset: string): { order: OrderItem; assets: Assets } {
  const request = { clientOrderId: `p-${side}-${feeAsset}`, symbol: 'BTC/USDT', side, type: 'limit' as const, amount, limitPrice: side === 'buy' ? '65000' : '65500' };
  const quoted = quoteOrder(request, RULES, TICKER);
  const settings: FeeSettings = { feeAsset, feeRate: '0.001' };
  const fee = feeFor(settings, { side, base: 'BTC', quote: 'USDT', amount, cost: quoted.cost }, OPENING, () => BNB_PRICE);
  const order = placedOrder(request, RULES, quoted, fee, settings.feeRate, new Date(0));
  return { order, assets: apply(OPENING, order) };
}

function apply(assets: Assets, order: OrderItem): Assets {
  const next = applyDeltas(assets, order.pending?.deltas ?? {});
  if (next === null) throw new Error(`effect ${order.pending?.id} would make a balance negative`);
  return next;
}

/** The pending effect settled: the order as settlement leaves it. */
function settled(order: OrderItem): OrderItem {
  return { ...order, pending: undefined };
}

describe('Function: filledOrder (partial fills)', () => {
  for (const feeAsset of ['quote', 'base', 'BNB']) {
    for (const side of ['buy', 'sell'] as const) {
      it(`moves the same balances in parts as in one fill (${side}, fee in ${feeAsset})`, () => {
        fc.assert(
          fc.property(fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 6 }), (steps) => {
            const amount = '0.05';
            const whole = rest(side, amount, feeAsset);
            const once = apply(whole.assets, filledOrder(settled(whole.order)));

            let { order, assets } = rest(side, amount, feeAsset);
            let cumulative = '0';
            for (const step of steps) {
              cumulative = add(cumulative, str(dec(String(step)).div(1000)));
              if (cmp(cumulative, amount) >= 0) break;
              order = filledOrder(settled(order), cumulative);
              assets = apply(assets, order);
              // Resting with the rest of its reserve held, nothing else in `used`.
              expect(order.status).toBe('open');
              expect(order.filled).toBe(str(dec(cumulative)));
              const held = order.reserved?.amount ?? '0';
              expect(assets[order.reserved?.asset ?? 'USDT']?.used).toBe(order.feeHeld && order.feeHeld.asset === order.reserved?.asset ? add(held, order.feeHeld.amount) : held);
            }
            order = filledOrder(settled(order), amount);
            assets = apply(assets, order);

            expect(order.status).toBe('closed');
            expect(order.filled).toBe(amount);
            expect(assets).toEqual(once);
            for (const balance of Object.values(assets)) expect(balance.used).toBe('0');
          }),
          { numRuns: 60 },
        );
      });
    }
  }

  it('never fills beyond the order amount', () => {
    const { order } = rest('buy', '0.05', 'quote');
    const filled = filledOrder(settled(order), '7');
    expect(filled).toMatchObject({ status: 'closed', filled: '0.05', cost: '3250' });
  });
});
