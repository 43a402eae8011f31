/**
 * EXE-12 on the embedded stack: the paper exchange charges fees in the coin bought or in BNB,
 * and the ledger keeps holding exactly what the paper account holds, coin by coin, through
 * market buys and sells, a resting limit buy that fills later, and one that is canceled.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkBook } from '../../shared/domain/account.js';
import { dec } from '../../shared/domain/money.js';
import type { LocalRuntime } from '../../local-runtime/runtime.js';
import type { Container } from '../../shared/runtime/container.js';
import { ManualClock, startTestStack, type TestStack } from '../support/local-runtime.js';
import { MINUTE, crossingBuy, execute, floorTo, intent, restingBuy } from './reconcile-support.js';

const SYMBOL = 'ETH/USDT';

/** Every asset the book or the paper account holds, compared; plus the book's own invariants. */
async function expectBooksEqualPaper(c: Container): Promise<void> {
  const book = await c.accounts.get('USDT');
  if (!book) throw new Error('no book');
  expect(checkBook(book)).toEqual([]);
  const balances = await c.exchange.fetchBalances();
  expect(dec(book.available).plus(book.reserved).toFixed(), 'USDT').toBe(dec(balances.USDT?.total ?? '0').toFixed());
  const assets = new Set([...Object.keys(balances), ...Object.keys(book.holdings ?? {}), ...Object.keys(book.positions).map((s) => s.split('/')[0] as string)]);
  assets.delete('USDT');
  for (const asset of assets) {
    const local = dec(book.positions[`${asset}/USDT`]?.qty ?? '0').plus(book.holdings?.[asset]?.qty ?? '0');
    expect(local.toFixed(), asset).toBe(dec(balances[asset]?.total ?? '0').toFixed());
  }
}

for (const feeAsset of ['base', 'BNB'] as const) {
  describe(`Paper fees charged in ${feeAsset === 'base' ? 'the coin bought' : 'a third asset (BNB)'} (EXE-12)`, () => {
    let t: TestStack;
    let runtime: LocalRuntime;
    const seed = `fee-assets-${feeAsset}`;
    const clock = new ManualClock(new Date('2026-03-02T10:00:00.000Z'));

    beforeAll(async () => {
      t = await startTestStack({ TW_PAPER_SEED: seed, TW_WATCHLIST: 'BTC/USDT,ETH/USDT', TW_PAPER_FEE_ASSET: feeAsset, ...(feeAsset === 'BNB' ? { TW_PAPER_INITIAL_FEE_ASSET: '25' } : {}) });
      runtime = t.runtime({ clock });
      await runtime.containers.executor.ensureAccount();
    });

    afterAll(async () => {
      await t?.stop();
    });

    const c = () => runtime.containers.reconciler;

    it('keeps the ledger equal to the paper holdings through a buy and a full exit', async () => {
      // Act
      const buy = await execute(runtime, intent({ symbol: SYMBOL, side: 'buy', type: 'market', quoteAmount: '200', at: clock.now() }));
      clock.advance(MINUTE);
      const held = (await c().accounts.get('USDT'))?.positions[SYMBOL]?.qty ?? '0';
      const sell = await execute(runtime, intent({ symbol: SYMBOL, side: 'sell', type: 'market', amount: held, at: clock.now() }));
      clock.advance(MINUTE);
      const report = await runtime.reconcile();

      // Assess
      expect(buy).toMatchObject({ state: 'FILLED' });
      expect(buy.fees.map((f) => f.currency)).toEqual([feeAsset === 'base' ? 'ETH' : 'BNB']);
      expect(dec(held).lt(buy.filled), 'a base fee leaves less than was bought').toBe(feeAsset === 'base');
      // The exit sells what the account holds, to the market's step (the rest is dust), so the exchange accepts it.
      const step = (await c().exchange.loadMarkets())[SYMBOL]?.amountStep ?? '0.0001';
      expect(sell).toMatchObject({ state: 'FILLED', filled: floorTo(held, step) });
      expect(report.balances?.drift).toMatchObject({ quote: '0', level: 'ok' });
      await expectBooksEqualPaper(c());
      const book = await c().accounts.get('USDT');
      expect(book?.positions[SYMBOL]?.qty).toBe(dec(held).minus(floorTo(held, step)).toFixed());
      if (feeAsset === 'BNB') expect(dec(book?.holdings?.BNB?.qty ?? '0').lt('25')).toBe(true);
    });

    it('keeps them equal when a resting limit buy fills later and another is canceled', async () => {
      // Prepare
      const rules = (await c().exchange.loadMarkets())['BTC/USDT'];
      const crossing = crossingBuy(seed, 'BTC/USDT', clock.now());
      const amount = floorTo(dec('100').div(crossing.limitPrice).toFixed(), rules?.amountStep ?? '0.00001');
      const fills = await execute(runtime, intent({ symbol: 'BTC/USDT', side: 'buy', type: 'limit', amount, limitPrice: crossing.limitPrice, at: clock.now() }));
      const rests = await restingBuy(runtime.containers.executor, 'ETH/USDT', clock.now());
      const resting = await execute(runtime, rests);
      expect(fills).toMatchObject({ state: 'OPEN' });
      expect(resting).toMatchObject({ state: 'OPEN' });
      await expectBooksEqualPaper(c());

      // Act: the market trades through the first limit; the second is canceled on the exchange.
      clock.set(crossing.at);
      await c().exchange.cancelOrder('ETH/USDT', resting.orderId);
      const report = await runtime.reconcile();

      // Assess
      expect(await c().orders.get(fills.orderId)).toMatchObject({ state: 'FILLED' });
      expect(await c().orders.get(resting.orderId)).toMatchObject({ state: 'CANCELED' });
      expect(report.balances?.drift).toMatchObject({ quote: '0', level: 'ok' });
      await expectBooksEqualPaper(c());
    });
  });
}
