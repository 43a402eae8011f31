/**
 * Writes seeded random-walk OHLCV files in the backtest's CSV format, for tests and the bench:
 * the same seed gives the same bytes. Prices drift with occasional sharp drops, so the built-in
 * strategies have something to act on. The walk has no trend: a small upward drift makes up for
 * the drops on average, and a weak pull toward the start price keeps a year of candles in the
 * start price's range (about ±30 %), as real markets stay in theirs. Without them the drops sank
 * every series to the price floor within about two months, where one order took thousands of
 * candles to fill and a long run measured that corner instead of a market.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { seededRandom } from './seeded-random.js';

export interface SeriesOptions {
  readonly symbol: string;
  readonly start: number;
  readonly candles: number;
  readonly startPrice?: number;
  readonly seed?: string;
  /** The candles' period. @default 60_000 (1m) */
  readonly timeframeMs?: number;
  /** Candle index -> close override (plants a spike or a drop). */
  readonly plant?: ReadonlyMap<number, number>;
}

/** Chance of a sharp drop in a candle, and its size. */
const DROP_RATE = 0.002;
const DROP = 0.03;
/** Share of the distance (in log price) to the start price made up each candle. */
const PULL = 2e-5;

export async function writeCandleFile(dir: string, options: SeriesOptions): Promise<string> {
  const path = join(dir, `${options.symbol.replace('/', '-')}.csv`);
  const out = createWriteStream(path);
  const random = seededRandom(options.seed ?? options.symbol);
  let price = options.startPrice ?? 100;
  const anchor = Math.log(price);
  let chunk = 'timestamp,open,high,low,close,volume\n';
  for (let i = 0; i < options.candles; i += 1) {
    const open = price;
    const shock = random() < DROP_RATE ? -DROP : 0;
    let close = Math.max(0.01, open * (1 + (random() - 0.5) * 0.004 + shock + DROP_RATE * DROP - PULL * (Math.log(open) - anchor)));
    const planted = options.plant?.get(i);
    if (planted !== undefined) close = planted;
    const high = Math.max(open, close) * (1 + random() * 0.001);
    const low = Math.min(open, close) * (1 - random() * 0.001);
    const volume = 5 + random() * 50;
    chunk += `${options.start + i * (options.timeframeMs ?? 60_000)},${open.toFixed(4)},${high.toFixed(4)},${low.toFixed(4)},${close.toFixed(4)},${volume.toFixed(3)}\n`;
    price = Number(close.toFixed(4));
    if (chunk.length > 1 << 16) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
  return path;
}
