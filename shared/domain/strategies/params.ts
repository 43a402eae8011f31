/** Parameter building blocks shared by the strategies' schemas. */
import * as z from '../zod-mini.js';
import { UNSIGNED_DECIMAL_PATTERN, dec } from '../money.js';

/** A decimal string > 0 and < 100, e.g. a percentage. */
export const percent = z
  .string()
  .check(
    z.regex(UNSIGNED_DECIMAL_PATTERN, 'must be a decimal string such as 1.5'),
    z.refine((s) => !UNSIGNED_DECIMAL_PATTERN.test(s) || (dec(s).gt(0) && dec(s).lt(100)), 'must be between 0 and 100 (exclusive)'),
  );

/** A candle count: the scanner fetches at most this many per symbol. */
export const MAX_CANDLES = 1000;
export const candleCount = z.number().check(z.int(), z.minimum(1), z.maximum(MAX_CANDLES));
