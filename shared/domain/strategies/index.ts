/**
 * The built-in strategies, by name. Adding one: write a `Strategy<P>` with a strict zod schema
 * and register it here; it is then switchable per symbol through the tunables record (OPS-5).
 */
import { maCrossover } from './ma-crossover.js';
import { priceDrop } from './price-drop.js';
import { rsiMeanReversion } from './rsi-mean-reversion.js';
import { plugin, type StrategyPlugin } from './strategy.js';

export const BUILT_IN_STRATEGIES: Readonly<Record<string, StrategyPlugin>> = Object.fromEntries(
  [plugin(priceDrop), plugin(maCrossover), plugin(rsiMeanReversion)].map((p) => [p.name, p]),
);
