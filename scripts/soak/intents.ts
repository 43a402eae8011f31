/** The soak's own intents: a seeded mix over many symbols (testkit/intent-batches.ts sends them). */
import { intentIdFor, type Intent } from '../../shared/domain/intent.js';
import { Decimal, dec, str } from '../../shared/domain/money.js';
import type { SoakOptions } from './report.js';

const SECOND = 1000;
/**
 * Symbols traded by the soak: 48 FIFO message groups. A failed message holds its group until
 * its retry (that is FIFO), so many groups keep the workers busy while some are backing off.
 */
export const SOAK_SYMBOLS = [
  ...['BTC', 'ETH', 'SOL', 'XRP', 'ADA', 'DOGE', 'LINK', 'AVAX', 'DOT', 'LTC', 'BCH', 'ATOM', 'TRX', 'NEAR', 'UNI', 'XLM'],
  ...Array.from({ length: 32 }, (_, i) => `SYN${String(i).padStart(2, '0')}`),
].map((b) => `${b}/USDT`);
/** Generated intents live this long: an hour, like an operator's replay, longer than any backoff. */
const GENERATED_TTL_MS = 3_600 * SECOND;
/** A seeded intent mix: market buys and sells, and limit buys far enough above the ask to fill at once. */
export function makeIntent(n: number, options: SoakOptions, random: () => number, at: Date, price: (symbol: string) => string): Intent {
  const symbol = SOAK_SYMBOLS[Math.floor(random() * SOAK_SYMBOLS.length)] ?? 'BTC/USDT';
  const kind = random();
  const quote = str(new Decimal(10 + Math.floor(random() * 19_000)).div(100));
  const side = kind < 0.65 || kind >= 0.9 ? 'buy' : 'sell';
  const type = kind >= 0.9 ? 'limit' : 'market';
  const base = {
    id: intentIdFor({ strategy: 'soak', symbol, side, slot: `${options.seed}-${n}` }),
    strategy: 'soak',
    symbol,
    side,
    type,
    createdAt: at.toISOString(),
    expiresAt: new Date(at.getTime() + GENERATED_TTL_MS).toISOString(),
  } as const;
  if (type === 'market') return { ...base, quoteAmount: quote };
  const limitPrice = dec(price(symbol)).times('1.05');
  return { ...base, limitPrice: str(limitPrice), amount: str(dec(quote).div(limitPrice).toSignificantDigits(6, Decimal.ROUND_DOWN)) };
}
