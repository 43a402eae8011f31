/**
 * The backtest report as data: trades, totals, breakdowns per symbol and per strategy, a
 * buy-and-hold benchmark, and the signals that were rejected or blocked with their reasons.
 * Everything but `seconds` is derived from the data and the settings, with fixed rounding, so
 * the same run prints the same bytes.
 */
import { add, dec, str, type DecimalString } from '../../shared/domain/money.js';
import type { CandleGap } from '../data/candle-file.js';
import { DAY_MS, type EquityTracker, sharpeRatio, sortinoRatio } from './equity-tracker.js';
import { fixed, round, tradeTotals, type Trade } from './trades.js';

/** Rejected signals and gaps listed in full up to this many; the counts are always complete. */
export const MAX_LISTED = 1_000;

export interface RejectedSignal {
  readonly time: string;
  readonly symbol: string;
  readonly strategy: string;
  readonly side: 'buy' | 'sell';
  readonly reason: string;
}

export interface Breakdown {
  readonly trades: number;
  readonly pnl: DecimalString;
  readonly fees: DecimalString;
  readonly winRate: number;
}

export interface BacktestReport {
  readonly settings: Readonly<Record<string, unknown>>;
  readonly trades: readonly Trade[];
  readonly totals: {
    readonly initialEquity: DecimalString;
    readonly finalEquity: DecimalString;
    readonly pnl: DecimalString;
    readonly returnPercent: number;
    readonly maxDrawdown: number;
    readonly maxDrawdownPercent: number;
    readonly maxDrawdownDays: number;
    readonly sharpe: number | null;
    readonly sortino: number | null;
    readonly winRate: number;
    readonly profitFactor: number | null;
    readonly exposurePercent: number;
    readonly tradesPerDay: number;
    readonly fees: DecimalString;
    readonly trades: number;
  };
  readonly bySymbol: Readonly<Record<string, Breakdown>>;
  readonly byStrategy: Readonly<Record<string, Breakdown>>;
  readonly benchmark: { readonly returnPercent: number; readonly bySymbol: Readonly<Record<string, number>> };
  readonly rejected: readonly RejectedSignal[];
  readonly rejectedCount: number;
  readonly gaps: readonly CandleGap[];
  readonly gapCount: number;
  /** Candles read (all symbols). */
  readonly candles: number;
  /** Every candle of the window was read and driven through: the report covers all of it. */
  readonly complete: true;
  readonly seconds: number;
}

export interface ReportInput {
  readonly settings: Readonly<Record<string, unknown>>;
  readonly trades: readonly Trade[];
  readonly initialEquity: DecimalString;
  readonly finalEquity: DecimalString;
  readonly equity: EquityTracker;
  /** First open and last close of each symbol, for buy and hold. */
  readonly firstOpen: ReadonlyMap<string, DecimalString>;
  readonly lastClose: ReadonlyMap<string, DecimalString>;
  readonly rejected: readonly RejectedSignal[];
  readonly rejectedCount: number;
  readonly gaps: readonly CandleGap[];
  readonly gapCount: number;
  readonly candles: number;
  readonly seconds: number;
}

export function buildReport(input: ReportInput): BacktestReport {
  const totals = tradeTotals(input.trades);
  const pnl = str(dec(input.finalEquity).minus(input.initialEquity));
  const drawdown = input.equity.drawdown();
  const returns = input.equity.dailyReturns();
  const days = input.equity.spanMs / DAY_MS;
  const benchmark = buyAndHold(input.firstOpen, input.lastClose);
  return {
    settings: input.settings,
    trades: input.trades,
    totals: {
      initialEquity: round(input.initialEquity),
      finalEquity: round(input.finalEquity),
      pnl: round(pnl),
      returnPercent: dec(input.initialEquity).isZero() ? 0 : fixed(Number(dec(pnl).div(input.initialEquity).times(100)), 4),
      maxDrawdown: fixed(drawdown.maxDrawdown, 8),
      maxDrawdownPercent: fixed(drawdown.maxDrawdownPercent, 4),
      maxDrawdownDays: fixed(drawdown.maxDrawdownDurationMs / DAY_MS, 4),
      sharpe: nullable(sharpeRatio(returns)),
      sortino: nullable(sortinoRatio(returns)),
      winRate: totals.winRate,
      profitFactor: totals.profitFactor,
      exposurePercent: input.equity.spanMs === 0 ? 0 : fixed((input.equity.exposedMs / input.equity.spanMs) * 100, 4),
      tradesPerDay: days === 0 ? 0 : fixed(totals.trades / days, 4),
      fees: totals.fees,
      trades: totals.trades,
    },
    bySymbol: breakdown(input.trades, (t) => t.symbol),
    byStrategy: breakdown(input.trades, (t) => t.entryStrategy),
    benchmark,
    rejected: input.rejected,
    rejectedCount: input.rejectedCount,
    gaps: input.gaps,
    gapCount: input.gapCount,
    candles: input.candles,
    complete: true,
    seconds: input.seconds,
  };
}

function nullable(value: number | null): number | null {
  return value === null ? null : fixed(value, 4);
}

function breakdown(trades: readonly Trade[], key: (t: Trade) => string): Record<string, Breakdown> {
  const groups = new Map<string, Trade[]>();
  for (const t of trades) groups.set(key(t), [...(groups.get(key(t)) ?? []), t]);
  const out: Record<string, Breakdown> = {};
  for (const name of [...groups.keys()].sort()) {
    const group = groups.get(name)!;
    const totals = tradeTotals(group);
    out[name] = { trades: totals.trades, pnl: totals.pnl, fees: totals.fees, winRate: totals.winRate };
  }
  return out;
}

/** Equal parts of the capital in every symbol at its first open, held to its last close, no fees. */
function buyAndHold(firstOpen: ReadonlyMap<string, DecimalString>, lastClose: ReadonlyMap<string, DecimalString>): BacktestReport['benchmark'] {
  const bySymbol: Record<string, number> = {};
  let sum = '0';
  for (const symbol of [...firstOpen.keys()].sort()) {
    const open = firstOpen.get(symbol)!;
    const close = lastClose.get(symbol) ?? open;
    const change = str(dec(close).div(open).minus(1).times(100));
    bySymbol[symbol] = fixed(Number(change), 4);
    sum = add(sum, change);
  }
  const count = firstOpen.size;
  return { returnPercent: count === 0 ? 0 : fixed(Number(dec(sum).div(count)), 4), bySymbol };
}

/** Keeps the first `MAX_LISTED` items and counts them all. */
export class BoundedList<T> {
  readonly items: T[] = [];
  count = 0;
  push(item: T): void {
    this.count += 1;
    if (this.items.length < MAX_LISTED) this.items.push(item);
  }
}
