/**
 * Sizing of an intent before its claim (EXE-6): the amount and price rounded to the market and
 * checked against its limits, and the quote an entry reserves. Also the check that the symbol
 * is a market at all (SEC-4).
 */
import { ExchangeRejectedError, ValidationError } from '../domain/errors.js';
import type { AccountBook } from '../domain/account.js';
import type { Intent } from '../domain/intent.js';
import type { MarketRules } from '../domain/market.js';
import { dec, str } from '../domain/money.js';
import { limitViolation, roundAmount, roundPrice } from '../domain/precision.js';
import type { Exchange } from '../ports/exchange.js';

export interface SizingDeps {
  readonly exchange: Pick<Exchange, 'fetchTickers'>;
  readonly marketRules: (symbol: string) => Promise<MarketRules>;
  readonly settings: {
    /** Extra quote reserved above price x amount for fees and slippage, in percent. */
    readonly reservationBufferPercent: string;
  };
}

export type Sized = { ok: true; amount: string; limitPrice?: string; reserve: string } | { ok: false; reason: string };

/**
 * Whether the exchange lists `symbol`. Any other failure to load the markets is thrown (it is
 * transient: the intent is retried).
 */
export async function isKnownSymbol(deps: Pick<SizingDeps, 'marketRules'>, symbol: string): Promise<boolean> {
  try {
    await deps.marketRules(symbol);
    return true;
  } catch (error) {
    if (error instanceof ExchangeRejectedError && error.reason === 'bad-symbol') return false;
    throw error;
  }
}

/** The coded error of an intent for a symbol the market does not list: nothing is written for it. */
export function unknownSymbolError(symbol: string): ValidationError {
  return new ValidationError(`unknown symbol ${symbol}: not a market of this exchange's watchlist`, [`symbol: ${symbol} is not traded`]);
}

/**
 * Rounds the intent to the market and checks limits before anything is sent (EXE-6). A sell is
 * capped at what `book` holds of the symbol.
 */
export async function sizeOrder(deps: SizingDeps, intent: Intent, book: () => Promise<AccountBook | null>): Promise<Sized> {
  let rules: MarketRules;
  try {
    rules = await deps.marketRules(intent.symbol);
  } catch (error) {
    // An unknown symbol is a permanent answer: record the intent REJECTED instead of retrying it.
    if (error instanceof ExchangeRejectedError) return { ok: false, reason: `exchange rejected: ${error.reason}: ${error.message}` };
    throw error;
  }
  let price: string;
  if (intent.type === 'limit' && intent.limitPrice) price = roundPrice(intent.limitPrice, rules.priceTick);
  else {
    const [ticker] = await deps.exchange.fetchTickers([intent.symbol]);
    if (!ticker) return { ok: false, reason: `no price for ${intent.symbol}` };
    price = intent.side === 'buy' ? ticker.ask : ticker.bid;
  }
  const rawAmount = intent.amount ?? str(dec(intent.quoteAmount ?? '0').div(price));
  let amount = roundAmount(rawAmount, rules.amountStep);
  if (intent.side === 'sell') {
    const held = (await book())?.positions[intent.symbol]?.qty ?? '0';
    if (dec(amount).gt(held)) amount = roundAmount(held, rules.amountStep);
  }
  const violation = limitViolation(rules, amount, price);
  if (violation) return { ok: false, reason: violation };
  const reserve = intent.side === 'buy' ? str(dec(amount).times(price).times(dec('1').plus(dec(deps.settings.reservationBufferPercent).div('100')))) : '0';
  return { ok: true, amount, ...(intent.type === 'limit' ? { limitPrice: price } : {}), reserve };
}
