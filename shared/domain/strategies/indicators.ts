/**
 * Indicators over closed candles, in decimal arithmetic. Callers pass gap-free series (the
 * scanner rejects a series with a gap, DATA-3), so no indicator is computed across a gap.
 */
import { Decimal, dec } from '../money.js';
import type { Candle } from '../market.js';

/** Simple moving average of the closes of `candles[end - period, end)`; null without enough candles. */
export function sma(candles: readonly Candle[], period: number, end = candles.length): Decimal | null {
  if (period < 1 || end < period || end > candles.length) return null;
  let sum = new Decimal(0);
  for (let i = end - period; i < end; i += 1) sum = sum.plus((candles[i] as Candle).close);
  return sum.div(period);
}

/**
 * Wilder's relative strength index of the closes (0..100), seeded with the simple average of the
 * first `period` changes and smoothed over the rest. Null with fewer than `period + 1` candles.
 * A series without losses is 100, without gains 0, flat 50.
 */
export function rsi(candles: readonly Candle[], period: number): Decimal | null {
  if (period < 1 || candles.length < period + 1) return null;
  let gain = new Decimal(0);
  let loss = new Decimal(0);
  for (let i = 1; i <= period; i += 1) {
    const change = dec((candles[i] as Candle).close).minus((candles[i - 1] as Candle).close);
    if (change.gt(0)) gain = gain.plus(change);
    else loss = loss.minus(change);
  }
  gain = gain.div(period);
  loss = loss.div(period);
  for (let i = period + 1; i < candles.length; i += 1) {
    const change = dec((candles[i] as Candle).close).minus((candles[i - 1] as Candle).close);
    const up = change.gt(0) ? change : new Decimal(0);
    const down = change.lt(0) ? change.neg() : new Decimal(0);
    gain = gain.times(period - 1).plus(up).div(period);
    loss = loss.times(period - 1).plus(down).div(period);
  }
  if (loss.isZero()) return gain.isZero() ? new Decimal(50) : new Decimal(100);
  const rs = gain.div(loss);
  return new Decimal(100).minus(new Decimal(100).div(rs.plus(1)));
}
