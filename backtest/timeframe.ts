/** Candle timeframes as ccxt names them, and the window bounds the CLI takes. */
import { ValidationError } from '../shared/domain/errors.js';

const UNIT_MS: Readonly<Record<string, number>> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `1m`, `5m`, `1h`, `1d` ... -> milliseconds. @throws ValidationError otherwise. */
export function timeframeMs(timeframe: string): number {
  const match = /^([1-9]\d{0,2})([mhd])$/.exec(timeframe);
  if (!match) throw new ValidationError(`timeframe must look like 1m, 5m, 1h or 1d, got ${JSON.stringify(timeframe)}`);
  return Number(match[1]) * UNIT_MS[match[2]!]!;
}

/** An ISO date or date-time, or epoch milliseconds -> epoch ms. @throws ValidationError naming the option. */
export function parseTime(option: string, value: string): number {
  const ms = /^\d{1,16}$/.test(value) ? Number(value) : /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : NaN;
  if (!Number.isFinite(ms)) throw new ValidationError(`--${option} must be an ISO date (2026-01-31, 2026-01-31T12:00:00Z) or epoch milliseconds, got ${JSON.stringify(value)}`);
  return ms;
}
