/**
 * Follows the equity curve of a run as it is produced, in constant memory: peak, drawdown (value,
 * percent, duration), daily closing equity for the return statistics, time in the market, and a
 * curve thinned to a bounded number of points for the charts.
 */

export const DAY_MS = 86_400_000;
/** Points kept for each chart curve; older points are thinned by halving. */
export const MAX_CURVE_POINTS = 4_000;

export interface CurvePoint {
  /** Epoch seconds (the charts' time unit). */
  readonly time: number;
  readonly value: number;
}

export interface DrawdownFigures {
  readonly maxDrawdown: number;
  readonly maxDrawdownPercent: number;
  /** Longest time from a peak until equity was back at it (or the end of the run), in ms. */
  readonly maxDrawdownDurationMs: number;
}

export class EquityTracker {
  #peak = -Infinity;
  #peakTime = 0;
  #maxDrawdown = 0;
  #maxDrawdownPercent = 0;
  #maxDuration = 0;
  /** Whether any point was recorded; the first and last points as plain numbers (no object per close). */
  #started = false;
  #firstTime = 0;
  #firstValue = 0;
  #lastTime = 0;
  #lastValue = 0;
  #exposedMs = 0;
  #lastExposed = false;
  readonly #dailyCloses: number[] = [];
  #currentDay = -1;
  #curve: CurvePoint[] = [];
  #drawdownCurve: CurvePoint[] = [];
  #stride = 1;
  #sinceKept = 0;

  /** Records equity at `time` (epoch ms); `exposed` says whether any position was open. */
  update(time: number, equity: number, exposed: boolean): void {
    if (this.#started) {
      if (this.#lastExposed) this.#exposedMs += time - this.#lastTime;
    } else {
      this.#started = true;
      this.#firstTime = time;
      this.#firstValue = equity;
      this.#peakTime = time;
    }
    this.#lastTime = time;
    this.#lastValue = equity;
    this.#lastExposed = exposed;

    if (equity >= this.#peak) {
      this.#maxDuration = Math.max(this.#maxDuration, time - this.#peakTime);
      this.#peak = equity;
      this.#peakTime = time;
    } else {
      this.#maxDuration = Math.max(this.#maxDuration, time - this.#peakTime);
    }
    const drawdown = this.#peak - equity;
    const drawdownPercent = this.#peak > 0 ? (drawdown / this.#peak) * 100 : 0;
    if (drawdown > this.#maxDrawdown) this.#maxDrawdown = drawdown;
    if (drawdownPercent > this.#maxDrawdownPercent) this.#maxDrawdownPercent = drawdownPercent;

    const day = Math.floor(time / DAY_MS);
    if (day !== this.#currentDay) {
      this.#currentDay = day;
      this.#dailyCloses.push(equity);
    } else this.#dailyCloses[this.#dailyCloses.length - 1] = equity;

    this.#sinceKept += 1;
    if (this.#sinceKept >= this.#stride || this.#curve.length === 0) {
      this.#sinceKept = 0;
      this.#curve.push({ time: Math.floor(time / 1000), value: equity });
      this.#drawdownCurve.push({ time: Math.floor(time / 1000), value: -drawdownPercent });
      if (this.#curve.length > MAX_CURVE_POINTS) {
        this.#curve = this.#curve.filter((_, i) => i % 2 === 0);
        this.#drawdownCurve = this.#drawdownCurve.filter((_, i) => i % 2 === 0);
        this.#stride *= 2;
      }
    }
  }

  get first(): number | undefined {
    return this.#started ? this.#firstValue : undefined;
  }

  get last(): number | undefined {
    return this.#started ? this.#lastValue : undefined;
  }

  /** Wall time covered by the run, ms. */
  get spanMs(): number {
    return this.#started ? this.#lastTime - this.#firstTime : 0;
  }

  get exposedMs(): number {
    return this.#exposedMs;
  }

  drawdown(): DrawdownFigures {
    return { maxDrawdown: this.#maxDrawdown, maxDrawdownPercent: this.#maxDrawdownPercent, maxDrawdownDurationMs: this.#maxDuration };
  }

  /** Daily returns from one day's closing equity to the next (the first day opens at the first point). */
  dailyReturns(): number[] {
    const closes = [this.#started ? this.#firstValue : 0, ...this.#dailyCloses];
    const returns: number[] = [];
    for (let i = 1; i < closes.length; i += 1) {
      const previous = closes[i - 1]!;
      if (previous > 0) returns.push(closes[i]! / previous - 1);
    }
    return returns;
  }

  curves(): { equity: readonly CurvePoint[]; drawdownPercent: readonly CurvePoint[] } {
    const equity = [...this.#curve];
    const drawdownPercent = [...this.#drawdownCurve];
    const last = this.#started ? { time: this.#lastTime, value: this.#lastValue } : undefined;
    if (last && equity[equity.length - 1]?.time !== Math.floor(last.time / 1000)) {
      equity.push({ time: Math.floor(last.time / 1000), value: last.value });
      drawdownPercent.push({ time: Math.floor(last.time / 1000), value: this.#peak > 0 ? -((this.#peak - last.value) / this.#peak) * 100 : 0 });
    }
    return { equity, drawdownPercent };
  }
}

/** Annualized Sharpe ratio of daily returns (crypto trades every day: 365), or null with fewer than 2 days. */
export function sharpeRatio(returns: readonly number[]): number | null {
  if (returns.length < 2) return null;
  const mean = returns.reduce((a, b) => a + b, 0) / returns.length;
  const variance = returns.reduce((a, r) => a + (r - mean) ** 2, 0) / (returns.length - 1);
  const sd = Math.sqrt(variance);
  return sd === 0 ? null : (mean / sd) * Math.sqrt(365);
}

/** Annualized Sortino ratio: mean over the downside deviation (returns below 0), or null when undefined. */
export function sortinoRatio(returns: readonly number[]): number | null {
  if (returns.length < 2) return null;
  const mean = returns.reduce((a, b) => a + b, 0) / returns.length;
  const downside = Math.sqrt(returns.reduce((a, r) => a + Math.min(0, r) ** 2, 0) / returns.length);
  return downside === 0 ? null : (mean / downside) * Math.sqrt(365);
}
