/**
 * TST-1 / EXE-8: weighted-average-cost positions, long and short, against an independent
 * reference model in exact rational arithmetic (BigInt), plus the zero/NaN guards.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../shared/domain/errors.js';
import { Decimal, dec, str } from '../../shared/domain/money.js';
import { applyTrade, basisOf, flatPosition, type Position, type Trade } from '../../shared/domain/position.js';

/** An exact rational n/d, d > 0. */
interface Q {
  readonly n: bigint;
  readonly d: bigint;
}
const gcd = (a: bigint, b: bigint): bigint => {
  let x = a < 0n ? -a : a;
  let y = b < 0n ? -b : b;
  while (y !== 0n) [x, y] = [y, x % y];
  return x === 0n ? 1n : x;
};
const q = (n: bigint, d = 1n): Q => {
  const sign = d < 0n ? -1n : 1n;
  const g = gcd(n, d);
  return { n: (sign * n) / g, d: (sign * d) / g };
};
const parse = (s: string): Q => {
  const neg = s.startsWith('-');
  const [int, frac = ''] = (neg ? s.slice(1) : s).split('.');
  const value = q(BigInt(`${int}${frac}`), 10n ** BigInt(frac.length));
  return neg ? q(-value.n, value.d) : value;
};
const add = (a: Q, b: Q) => q(a.n * b.d + b.n * a.d, a.d * b.d);
const sub = (a: Q, b: Q) => q(a.n * b.d - b.n * a.d, a.d * b.d);
const mul = (a: Q, b: Q) => q(a.n * b.n, a.d * b.d);
const div = (a: Q, b: Q) => q(a.n * b.d, a.d * b.n);
const abs = (a: Q) => q(a.n < 0n ? -a.n : a.n, a.d);
const min = (a: Q, b: Q) => (a.n * b.d <= b.n * a.d ? a : b);
const ZERO = q(0n);
const isZero = (a: Q) => a.n === 0n;
const sign = (a: Q) => (a.n > 0n ? 1 : a.n < 0n ? -1 : 0);
/** |a - b| <= tolerance. */
const close = (a: Q, b: Q, tolerance: Q) => {
  const diff = abs(sub(a, b));
  return diff.n * tolerance.d <= tolerance.n * diff.d;
};
const show = (a: Q) => new Decimal(a.n.toString()).div(a.d.toString()).toFixed(30);

/**
 * Weighted average cost, straight from its definition: the position's cost basis is what the
 * open quantity cost (long: paid incl. fees; short: received net of fees); reducing it removes
 * basis in proportion to the quantity closed, and the closing part's cash minus that basis is
 * realized; a trade's cost and fee are shared between its closing and opening parts pro rata.
 */
class ReferencePosition {
  qty = ZERO;
  basis = ZERO;
  realized = ZERO;

  apply(t: Trade): void {
    const qty = parse(t.qty);
    const cost = parse(t.cost);
    const fee = parse(t.fee);
    const buy = t.side === 'buy';
    const signed = buy ? qty : q(-qty.n, qty.d);
    if (isZero(this.qty) || sign(this.qty) === sign(signed)) {
      this.basis = add(this.basis, buy ? add(cost, fee) : sub(cost, fee));
      this.qty = add(this.qty, signed);
      return;
    }
    const held = abs(this.qty);
    const closing = min(qty, held);
    const share = div(closing, qty);
    const closedBasis = mul(this.basis, div(closing, held));
    const cashClosing = buy ? add(mul(cost, share), mul(fee, share)) : sub(mul(cost, share), mul(fee, share));
    this.realized = add(this.realized, buy ? sub(closedBasis, cashClosing) : sub(cashClosing, closedBasis));
    this.basis = sub(this.basis, closedBasis);
    const opening = sub(qty, closing);
    if (!isZero(opening)) {
      const part = div(opening, qty);
      this.basis = buy ? add(mul(cost, part), mul(fee, part)) : sub(mul(cost, part), mul(fee, part));
    }
    this.qty = add(this.qty, signed);
  }

  get avg(): Q {
    return isZero(this.qty) ? ZERO : div(this.basis, abs(this.qty));
  }
}

const decimal = (maxUnits: number, dp: number) => fc.integer({ min: 1, max: maxUnits }).map((n) => str(new Decimal(n).div(new Decimal(10).pow(dp))));
const trade: fc.Arbitrary<Trade> = fc
  .record({
    side: fc.constantFrom<'buy' | 'sell'>('buy', 'sell'),
    qty: decimal(10 ** 9, 8),
    price: decimal(10 ** 9, 4),
    feeRate: fc.constantFrom('0', '0.001', '0.0025'),
  })
  .map(({ side, qty, price, feeRate }) => {
    const cost = dec(qty).times(price);
    return { side, qty, cost: str(cost), fee: str(cost.times(feeRate)) };
  });

/**
 * Basis and realized PnL may differ from the exact model by the rounding of each partial close's
 * shares to 18 decimals: at most 2 x 0.5e-18 per trade, so 1e-16 covers 40 trades.
 */
const TOLERANCE = q(1n, 10n ** 16n);

describe('Domain: position accounting (weighted average cost)', () => {
  it('matches the exact reference model for any sequence of buys and sells, long and short, through flips', () => {
    fc.assert(
      fc.property(fc.array(trade, { minLength: 1, maxLength: 40 }), (trades) => {
        let position: Position = flatPosition('BTC/USDT');
        const model = new ReferencePosition();
        for (const t of trades) {
          const before = position;
          const result = applyTrade(position, t);
          model.apply(t);
          position = result.position;
          // Quantities are sums of decimals: exact.
          expect(sub(parse(position.qty), model.qty).n, `qty ${position.qty} vs ${show(model.qty)}`).toBe(0n);
          expect(close(parse(position.realizedPnl), model.realized, TOLERANCE), `realized ${position.realizedPnl} vs ${show(model.realized)}`).toBe(true);
          expect(close(parse(basisOf(position).toFixed()), model.basis, TOLERANCE), `basis ${position.basis} vs ${show(model.basis)}`).toBe(true);
          // The average is basis / |qty|: its error is the basis error divided by the quantity.
          const avgTolerance = isZero(model.qty) ? TOLERANCE : add(div(TOLERANCE, abs(model.qty)), TOLERANCE);
          expect(close(parse(position.avgPrice), model.avg, avgTolerance), `avg ${position.avgPrice} vs ${show(model.avg)}`).toBe(true);
          // What this trade realized is exactly the change in realized PnL.
          expect(dec(position.realizedPnl).minus(before.realizedPnl).eq(result.realized)).toBe(true);
          expect(dec(result.closedBasis).gte(0)).toBe(true);
          if (dec(position.qty).isZero()) {
            expect(position.avgPrice).toBe('0');
            expect(position.basis).toBe('0');
          }
          expect(dec(position.avgPrice).isFinite()).toBe(true);
          expect(dec(position.avgPrice).gte(0)).toBe(true);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('realizes exactly the net cash flow once the position is flat again: sells minus buys minus every fee', () => {
    fc.assert(
      fc.property(fc.array(trade, { minLength: 1, maxLength: 30 }), (trades) => {
        let position: Position = flatPosition('ETH/USDT');
        let cash = new Decimal(0);
        const book = (t: Trade) => {
          position = applyTrade(position, t).position;
          cash = t.side === 'sell' ? cash.plus(t.cost).minus(t.fee) : cash.minus(t.cost).minus(t.fee);
        };
        trades.forEach(book);
        const open = dec(position.qty);
        if (!open.isZero()) {
          const cost = open.abs().times('123.4567');
          book({ side: open.isPositive() ? 'sell' : 'buy', qty: str(open.abs()), cost: str(cost), fee: str(cost.times('0.001')) });
        }
        expect(position.qty).toBe('0');
        expect(position.basis).toBe('0');
        expect(str(dec(position.realizedPnl))).toBe(str(cash));
      }),
      { numRuns: 400 },
    );
  });

  it('books a long and a short with fees as a trader would compute them', () => {
    // Long: buy 2 at 100 (fee 0.2), buy 2 at 110 (fee 0.22); sell 3 at 120 (fee 0.36).
    let p = applyTrade(flatPosition('X/USDT'), { side: 'buy', qty: '2', cost: '200', fee: '0.2' }).position;
    p = applyTrade(p, { side: 'buy', qty: '2', cost: '220', fee: '0.22' }).position;
    expect(p.avgPrice).toBe('105.105');
    const sold = applyTrade(p, { side: 'sell', qty: '3', cost: '360', fee: '0.36' });
    expect(sold.realized).toBe('44.325'); // 360 - 0.36 - 3 x 105.105
    expect(sold.position.qty).toBe('1');

    // Short: sell 2 at 100 (fee 0.2) then buy back 2 at 90 (fee 0.18).
    let s = applyTrade(flatPosition('Y/USDT'), { side: 'sell', qty: '2', cost: '200', fee: '0.2' }).position;
    expect(s.qty).toBe('-2');
    expect(s.avgPrice).toBe('99.9');
    s = applyTrade(s, { side: 'buy', qty: '2', cost: '180', fee: '0.18' }).position;
    expect(s.qty).toBe('0');
    expect(s.realizedPnl).toBe('19.62'); // 199.8 - 180.18
  });

  describe('Guards', () => {
    const held = applyTrade(flatPosition('X/USDT'), { side: 'buy', qty: '1', cost: '100', fee: '0' }).position;

    it('ignores a trade whose quantity is zero, negative, NaN, infinite or not a number', () => {
      for (const qty of ['0', '0.0', '-1', 'NaN', 'Infinity', 'abc']) {
        const result = applyTrade(held, { side: 'sell', qty, cost: '10', fee: '0' });
        expect(result.position, qty).toBe(held);
        expect(result.realized).toBe('0');
      }
    });

    it('refuses a NaN, infinite or negative cost or fee instead of writing NaN into the position', () => {
      for (const bad of [{ cost: 'NaN', fee: '0' }, { cost: '10', fee: 'NaN' }, { cost: 'Infinity', fee: '0' }, { cost: '-5', fee: '0' }, { cost: 'x', fee: '0' }]) {
        expect(() => applyTrade(held, { side: 'buy', qty: '1', ...bad }), JSON.stringify(bad)).toThrow(ValidationError);
      }
    });

    it('never divides by zero: a flat position has average 0, and a zero-cost trade gives average 0', () => {
      expect(flatPosition('Z/USDT').avgPrice).toBe('0');
      const free = applyTrade(flatPosition('Z/USDT'), { side: 'buy', qty: '5', cost: '0', fee: '0' }).position;
      expect(free.avgPrice).toBe('0');
      const closed = applyTrade(free, { side: 'sell', qty: '5', cost: '10', fee: '0' });
      expect(closed.position.avgPrice).toBe('0');
      expect(closed.realized).toBe('10');
    });

    it('derives the basis of a position stored before the basis field existed', () => {
      const legacy: Position = { symbol: 'X/USDT', qty: '2', avgPrice: '50', realizedPnl: '0' };
      const result = applyTrade(legacy, { side: 'sell', qty: '2', cost: '120', fee: '0' });
      expect(result.closedBasis).toBe('100');
      expect(result.realized).toBe('20');
    });
  });
});
