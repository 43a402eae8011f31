/**
 * `npm run data -- download --exchange binance --symbols BTC/USDT,ETH/USDT --timeframe 1m
 *   --from 2026-01-01 [--to 2026-02-01] [--out data]`
 *
 * Fetches OHLCV history through ccxt (public endpoints, no keys) into one CSV per symbol, the
 * format `npm run backtest -- --data` reads. Run it again to resume where it stopped. Gaps in the
 * exchange's history are listed, never filled in.
 */
import { mkdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createPublicClient, downloadCandles } from '../backtest/data/download.js';
import { parseTime, timeframeMs } from '../backtest/timeframe.js';
import { ValidationError } from '../shared/domain/errors.js';
import { runAsScript } from './run-as-script.js';

const USAGE = 'usage: npm run data -- download --exchange <id> --symbols <A/B,C/D> [--timeframe 1m] --from <date> [--to <date>] [--out <dir>]';
const SYMBOL = /^[A-Z0-9]{1,20}\/[A-Z0-9]{1,20}$/;

export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        exchange: { type: 'string' },
        symbols: { type: 'string' },
        timeframe: { type: 'string', default: '1m' },
        from: { type: 'string' },
        to: { type: 'string' },
        out: { type: 'string', default: 'data' },
        json: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    throw new ValidationError(`${error instanceof Error ? error.message : String(error)}; ${USAGE}`);
  }
  const { values, positionals } = parsed;
  if (positionals[0] !== 'download' || positionals.length !== 1) throw new ValidationError(USAGE);
  if (!values.exchange) throw new ValidationError(`--exchange is required; ${USAGE}`);
  if (!values.symbols) throw new ValidationError(`--symbols is required; ${USAGE}`);
  if (!values.from) throw new ValidationError(`--from is required; ${USAGE}`);
  const symbols = values.symbols.split(',').map((s) => s.trim().toUpperCase());
  const bad = symbols.filter((s) => !SYMBOL.test(s));
  if (bad.length > 0) throw new ValidationError(`symbols must look like BTC/USDT: ${bad.join(', ')}`);
  const tf = timeframeMs(values.timeframe);
  const from = parseTime('from', values.from);
  const to = values.to ? parseTime('to', values.to) : Date.now();
  if (to <= from) throw new ValidationError('--to must be after --from');

  const client = createPublicClient(values.exchange);
  mkdirSync(values.out, { recursive: true });
  const results = [];
  for (const symbol of symbols) {
    const result = await downloadCandles(client, { symbol, timeframe: values.timeframe, timeframeMs: tf, from, to, outDir: values.out, now: () => Date.now() });
    results.push(result);
    if (!values.json) {
      console.log(`${symbol}: ${result.written} candles written to ${result.file}${result.resumed ? ` (resumed from ${new Date(result.startedAt).toISOString()})` : ''}, ${result.requests} requests`);
      for (const gap of result.gaps) console.log(`  gap: ${gap.missingCandles} candle(s) missing between ${new Date(gap.after).toISOString()} and ${new Date(gap.before).toISOString()}`);
    }
  }
  if (values.json) console.log(JSON.stringify({ results }, null, 2));
  return 0;
}

runAsScript(import.meta.url, () => main());
