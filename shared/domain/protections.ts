/**
 * Protections (RISK-4), pure. The scanner applies them to every strategy's decisions:
 *
 * - stop-loss and take-profit: an exit for every open position whose bid crossed either level
 *   (relative to its average entry price, fees included), whichever strategy opened it;
 * - max open positions, max exposure per symbol and in total (mark value at the bid plus the
 *   quote still reserved for orders in flight plus the new order);
 * - one order in flight per symbol and side: no second entry while a buy is being executed, no
 *   second exit while a sell is;
 * - cooldown per symbol after an exit: the scanner records the time of every exit intent it
 *   sends in the risk record (`cooldowns`), and no entry of that symbol is allowed before
 *   `cooldownSeconds` have passed. Recording the decision rather than the fill is deliberately
 *   conservative: an exit that did not fill still cools the symbol down;
 * - daily loss and max drawdown: equity (cash plus positions at the bid) is compared with the
 *   equity at the start of the UTC day and with the peak equity, both kept in the risk record;
 *   past either limit new entries pause with a reason (exits still run);
 * - min notional: an entry below the market's minimum notional, or an exit whose amount rounds to
 *   dust, is not sent.
 * A limit of '0' switches the daily loss, drawdown or total exposure check off.
 */
import type { AccountBook } from './account.js';
import type { MarketRules, Ticker } from './market.js';
import { Decimal, dec, isPositive, str, type DecimalString } from './money.js';
import type { Position } from './position.js';
import { roundAmount } from './precision.js';

export interface ProtectionSettings {
  readonly maxOpenPositions: number;
  /** Quote value one symbol may hold, mark value plus orders in flight plus the new order. */
  readonly maxExposurePerSymbol: DecimalString;
  /** Quote value all positions together may hold; '0' = no limit. */
  readonly maxTotalExposure: DecimalString;
  /** No entry of a symbol within this many seconds after an exit of it. */
  readonly cooldownSeconds: number;
  /** Exit when the bid is this many percent below the average entry price. */
  readonly stopLossPercent: DecimalString;
  /** Exit when the bid is this many percent above the average entry price. */
  readonly takeProfitPercent: DecimalString;
  /** Entries pause once equity fell this much (quote) since the start of the UTC day; '0' = off. */
  readonly maxDailyLoss: DecimalString;
  /** Entries pause once equity is this many percent below its peak; '0' = off. */
  readonly maxDrawdownPercent: DecimalString;
}

/** Defaults for the settings the deployment configuration does not name (CFG-2). */
export const DEFAULT_PROTECTIONS = {
  maxTotalExposure: '0',
  cooldownSeconds: 900,
  maxDailyLoss: '0',
  maxDrawdownPercent: '0',
} as const;

/** What the scanner remembers between scans for the protections (`CONTROL#RISK`). */
export interface RiskState {
  /** Highest equity seen. */
  readonly peakEquity?: DecimalString;
  /** UTC day (YYYY-MM-DD) `dayStartEquity` belongs to. */
  readonly day?: string;
  readonly dayStartEquity?: DecimalString;
  /** Symbol -> ISO time of its last exit intent; entries older than the cooldown are dropped. */
  readonly cooldowns: Readonly<Record<string, string>>;
  /** The latest schedule slot (ISO) whose scan decided and sent its intents. */
  readonly lastSlot?: string;
  /** Symbols that scan did not reach (deadline or rate budget): the next scan visits them first. */
  readonly unreached?: readonly string[];
  /**
   * Entries sent to the queue and not known to be over, by symbol (EXE-13): no second entry of
   * the symbol is made while one waits in the queue, where the book cannot see it yet.
   */
  readonly pendingEntries?: Readonly<Record<string, PendingEntry>>;
}

/** An entry intent the scanner sent, until its order ends or the intent can no longer run. */
export interface PendingEntry {
  readonly intentId: string;
  /** Quote the entry asks for: it counts as exposure until the order reserves its budget. */
  readonly quote: DecimalString;
  /** The intent's expiry (ISO): after it the executor never sends it, so the marker goes. */
  readonly expiresAt: string;
  /**
   * The schedule slot (ISO) whose scan sent it. A scan of that same slot again (a retry after a
   * crash before its report) derives the same intent and is not blocked by its own marker.
   */
  readonly slot?: string;
}

/**
 * Whether a pending entry still blocks its symbol. It ends when its order is over (known to the
 * caller through `orderEnded`), and at the latest when the intent expired plus the clock skew
 * tolerated between scanner and executor: an intent not claimed by then is recorded EXPIRED
 * whenever it arrives (a late delivery, a redrive), and one claimed before holds its
 * reservation in the book, which the scanner sees. So a marker never blocks for longer than an
 * intent lives.
 */
export function pendingEntryBlocks(entry: PendingEntry, now: Date, skewMs: number, orderEnded: boolean): boolean {
  if (orderEnded) return false;
  return now.getTime() < Date.parse(entry.expiresAt) + skewMs;
}

export const EMPTY_RISK_STATE: RiskState = { cooldowns: {} };

export type ExitProtection = 'stop-loss' | 'take-profit';

/** The stop-loss or take-profit exit for a held position, or null. */
export function protectiveExit(
  position: Position,
  ticker: Ticker,
  settings: Pick<ProtectionSettings, 'stopLossPercent' | 'takeProfitPercent'>,
): { readonly protection: ExitProtection; readonly reason: string } | null {
  let prepared = preparedLevels.get(position);
  if (prepared?.settings !== settings) preparedLevels.set(position, (prepared = { settings, levels: protectiveLevels(position, settings) }));
  return prepared.levels(ticker);
}

/**
 * The levels of each position record for the settings object last asked with (records and
 * settings are immutable): a position scanned again is not prepared again.
 */
const preparedLevels = new WeakMap<Position, { readonly settings: object; readonly levels: ReturnType<typeof protectiveLevels> }>();

/** Relative margin between the bid and a level, as numbers, beyond which no decimal check is needed. */
const NUMERIC_MARGIN = 1e-9;

/**
 * `protectiveExit` of one position at any ticker, prepared once (a backtest asks it at every
 * candle): the levels are computed here, and a bid clearly between them is dismissed on numbers;
 * every other case is the exact decimal comparison.
 */
export function protectiveLevels(
  position: Position,
  settings: Pick<ProtectionSettings, 'stopLossPercent' | 'takeProfitPercent'>,
): (ticker: Ticker) => { readonly protection: ExitProtection; readonly reason: string } | null {
  if (!isOpen(position)) return () => null;
  const avg = dec(position.avgPrice);
  if (avg.lte(0)) return () => null;
  const stop = avg.times(dec('1').minus(dec(settings.stopLossPercent).div(100)));
  const target = avg.times(dec('1').plus(dec(settings.takeProfitPercent).div(100)));
  const stopNum = stop.toNumber();
  const targetNum = target.toNumber();
  return (ticker) => {
    const bidNum = Number(ticker.bid);
    if (bidNum > stopNum + Math.abs(stopNum) * NUMERIC_MARGIN && bidNum < targetNum - Math.abs(targetNum) * NUMERIC_MARGIN) return null;
    const bid = dec(ticker.bid);
    if (bid.lte(stop)) return { protection: 'stop-loss', reason: `bid ${ticker.bid} <= stop-loss ${str(stop)} (${settings.stopLossPercent}% below ${position.avgPrice})` };
    if (bid.gte(target)) return { protection: 'take-profit', reason: `bid ${ticker.bid} >= take-profit ${str(target)} (${settings.takeProfitPercent}% above ${position.avgPrice})` };
    return null;
  };
}

export function isOpen(position: Position | undefined): position is Position {
  return position !== undefined && isPositive(position.qty);
}

/** What the book holds and has in flight, valued at the given prices. */
export interface Exposure {
  readonly openPositions: number;
  /** Symbol -> quote value (positions at the price, plus quote reserved for buys in flight). */
  readonly bySymbol: Readonly<Record<string, DecimalString>>;
  readonly total: DecimalString;
  /** Symbols with a buy / a sell in flight (reserved in the book, not finished). */
  readonly buying: ReadonlySet<string>;
  readonly selling: ReadonlySet<string>;
}

/**
 * Exposure of a book; `prices` are bids (a position is worth what it can be sold for), else the
 * average price is used. Positions of `dust` symbols (RISK-9) are left out.
 */
export function exposureOf(book: AccountBook | null, prices: Readonly<Record<string, DecimalString>>, dust?: ReadonlySet<string>): Exposure {
  const bySymbol = new Map<string, Decimal>();
  const buying = new Set<string>();
  const selling = new Set<string>();
  const open = new Set<string>();
  // The book's records in their order (as Object.values gives them), without an array of them per scan.
  const positions = book?.positions;
  if (positions) {
    for (const key in positions) {
      const position = positions[key]!;
      if (!isOpen(position) || dust?.has(position.symbol)) continue;
      open.add(position.symbol);
      bySymbol.set(position.symbol, dec(position.qty).times(prices[position.symbol] ?? position.avgPrice));
    }
  }
  const orders = book?.orders;
  if (orders) {
    for (const key in orders) {
      const order = orders[key]!;
      if (order.side === 'buy') {
        buying.add(order.symbol);
        open.add(order.symbol);
        bySymbol.set(order.symbol, (bySymbol.get(order.symbol) ?? new Decimal(0)).plus(order.remaining));
      } else selling.add(order.symbol);
    }
  }
  let total = new Decimal(0);
  const valued: [string, DecimalString][] = [];
  for (const [symbol, value] of bySymbol) {
    total = total.plus(value);
    valued.push([symbol, str(value)]);
  }
  return {
    openPositions: open.size,
    bySymbol: Object.fromEntries(valued),
    total: str(total),
    buying,
    selling,
  };
}

export interface EntryCheck {
  readonly symbol: string;
  readonly quoteAmount: DecimalString;
  readonly exposure: Exposure;
  readonly risk: RiskState;
  /** Why entries are paused this scan (daily loss, drawdown), if they are. */
  readonly entriesPaused: string | undefined;
  readonly rules: MarketRules | undefined;
  readonly now: Date;
  readonly settings: ProtectionSettings;
}

/** Why an entry may not be sent, or null when it may. Checks in order of how fundamental they are. */
export function entryBlock(check: EntryCheck): string | null {
  const { symbol, quoteAmount, exposure, settings } = check;
  if (check.entriesPaused) return `entries paused: ${check.entriesPaused}`;
  if (exposure.buying.has(symbol)) return 'a buy is already in flight';
  const cooledAt = check.risk.cooldowns[symbol];
  if (cooledAt !== undefined) {
    const until = cooldownEnd(cooledAt, settings);
    if (check.now.getTime() < until) return `cooldown after exit until ${new Date(until).toISOString()}`;
  }
  if (exposure.openPositions >= settings.maxOpenPositions && exposure.bySymbol[symbol] === undefined) {
    return `max open positions ${settings.maxOpenPositions} reached`;
  }
  const symbolExposure = dec(exposure.bySymbol[symbol] ?? '0').plus(quoteAmount);
  if (symbolExposure.gt(settings.maxExposurePerSymbol)) {
    return `exposure ${str(symbolExposure)} would exceed ${settings.maxExposurePerSymbol} per symbol`;
  }
  const totalExposure = dec(exposure.total).plus(quoteAmount);
  if (dec(settings.maxTotalExposure).gt(0) && totalExposure.gt(settings.maxTotalExposure)) {
    return `total exposure ${str(totalExposure)} would exceed ${settings.maxTotalExposure}`;
  }
  if (check.rules?.minNotional && dec(quoteAmount).lt(check.rules.minNotional)) {
    return `order ${quoteAmount} below min notional ${check.rules.minNotional}`;
  }
  return null;
}

/** When a cooldown recorded at `at` (an exit's ISO time) ends, epoch ms: entries of its symbol wait until then. */
export function cooldownEnd(at: string, settings: Pick<ProtectionSettings, 'cooldownSeconds'>): number {
  return Date.parse(at) + settings.cooldownSeconds * 1000;
}

/** Why an exit of `qty` at `bid` may not be sent (dust, exit already in flight), or null. */
export function exitBlock(symbol: string, qty: DecimalString, bid: DecimalString, exposure: Exposure, rules: MarketRules | undefined): string | null {
  if (exposure.selling.has(symbol)) return 'a sell is already in flight';
  if (!rules) return null;
  const amount = roundAmount(qty, rules.amountStep);
  if (dec(amount).lte(0) || (rules.minAmount && dec(amount).lt(rules.minAmount))) return `position ${qty} is dust at step ${rules.amountStep}`;
  const notional = dec(amount).times(bid);
  if (rules.minNotional && notional.lt(rules.minNotional)) return `position worth ${str(notional)} is below min notional ${rules.minNotional}`;
  return null;
}

/**
 * Rolls the risk record forward with this scan's equity: a new UTC day starts from the current
 * equity, the peak only rises, expired cooldowns are dropped. Returns the new state and, when the
 * daily loss or drawdown limit is reached, why entries pause.
 */
export function assessRisk(
  state: RiskState,
  equity: DecimalString,
  now: Date,
  settings: Pick<ProtectionSettings, 'maxDailyLoss' | 'maxDrawdownPercent' | 'cooldownSeconds'>,
): { readonly state: RiskState; readonly entriesPaused: string | undefined } {
  const day = utcDay(now.getTime());
  const dayStartEquity = state.day === day && state.dayStartEquity !== undefined ? state.dayStartEquity : equity;
  const peakEquity = state.peakEquity !== undefined && dec(state.peakEquity).gte(equity) ? state.peakEquity : equity;
  const cooldowns = liveCooldowns(state.cooldowns, now.getTime(), settings);
  const next: RiskState = { peakEquity, day, dayStartEquity, cooldowns, ...(state.lastSlot === undefined ? {} : { lastSlot: state.lastSlot }) };

  const reasons: string[] = [];
  // Each limit's arithmetic only when the limit is on (a zero limit is off).
  if (dec(settings.maxDailyLoss).gt(0)) {
    const dailyLoss = dec(dayStartEquity).minus(equity);
    if (dailyLoss.gte(settings.maxDailyLoss)) reasons.push(`daily loss ${str(dailyLoss)} >= ${settings.maxDailyLoss} (equity ${equity}, day start ${dayStartEquity})`);
  }
  if (dec(settings.maxDrawdownPercent).gt(0) && dec(peakEquity).gt(0)) {
    const drawdown = dec(peakEquity).minus(equity).div(peakEquity).times(100);
    if (drawdown.gte(settings.maxDrawdownPercent)) {
      reasons.push(`drawdown ${str(drawdown.toDecimalPlaces(2))}% >= ${settings.maxDrawdownPercent}% (equity ${equity}, peak ${peakEquity})`);
    }
  }
  return { state: next, entriesPaused: reasons.length > 0 ? reasons.join('; ') : undefined };
}

/** The cooldowns still running at `nowMs`: the record itself when none ended (the usual case), else a copy without the ended ones. */
function liveCooldowns(cooldowns: Readonly<Record<string, string>>, nowMs: number, settings: Pick<ProtectionSettings, 'cooldownSeconds'>): Readonly<Record<string, string>> {
  let ended = false;
  for (const symbol in cooldowns) {
    if (!(nowMs < cooldownEnd(cooldowns[symbol]!, settings))) {
      ended = true;
      break;
    }
  }
  if (!ended) return cooldowns;
  return Object.fromEntries(Object.entries(cooldowns).filter(([, at]) => nowMs < cooldownEnd(at, settings)));
}

/** The UTC day (YYYY-MM-DD) of the last moment asked, with the span of epoch ms it covers: most scans fall in the same day. */
const dayText = { from: 0, until: 0, text: '' };
const DAY_MS = 86_400_000;

/** `new Date(ms).toISOString().slice(0, 10)`, written once per day. */
function utcDay(ms: number): string {
  if (ms >= dayText.from && ms < dayText.until) return dayText.text;
  const from = Math.floor(ms / DAY_MS) * DAY_MS;
  const text = new Date(ms).toISOString().slice(0, 10);
  dayText.from = from;
  dayText.until = from + DAY_MS;
  dayText.text = text;
  return text;
}

/** The state with an exit of `symbol` recorded at `at`. */
export function recordExit(state: RiskState, symbol: string, at: Date): RiskState {
  return { ...state, cooldowns: { ...state.cooldowns, [symbol]: at.toISOString() } };
}
