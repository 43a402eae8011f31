/**
 * Reads one symbol's OHLCV history from a file, streamed: CSV (`timestamp,open,high,low,close,volume`,
 * header optional, timestamps in epoch milliseconds or ISO 8601) or JSON Lines with the same
 * fields. Every row is validated as it arrives; the first bad one stops the read with a
 * BACKTEST_DATA_INVALID error that names the file and the line, so no report is ever built from
 * data that was only partly read. Gaps are not an error: they are reported and never bridged
 * (DATA-3), and the scanner's own candle checks refuse to compute an indicator across them.
 */
import { createReadStream } from 'node:fs';
import { basename, extname } from 'node:path';
import { createInterface } from 'node:readline';
import { parse } from 'csv-parse';
import type { Candle } from '../../shared/domain/market.js';
import { BacktestDataError } from './errors.js';

export const CANDLE_FILE_EXTENSIONS = ['.csv', '.jsonl', '.ndjson'] as const;
export type CandleFileFormat = 'csv' | 'jsonl';

/** A hole in a series: the candles between `after` and `before` are missing. */
export interface CandleGap {
  readonly symbol: string;
  readonly file: string;
  /** Open time of the last candle before the gap and of the first one after it (epoch ms). */
  readonly after: number;
  readonly before: number;
  readonly missingCandles: number;
}

export interface CandleFileOptions {
  readonly timeframeMs: number;
  /** Inclusive window start and exclusive end, epoch ms; rows outside are validated and skipped. */
  readonly from?: number;
  readonly to?: number;
  /** Called once per gap found inside the window. */
  readonly onGap?: (gap: CandleGap) => void;
}

/** `BTC-USDT.csv`, `BTC_USDT.jsonl` -> `BTC/USDT`; undefined when the name is no symbol. */
export function symbolFromFileName(path: string): string | undefined {
  const ext = extname(path).toLowerCase();
  if (!(CANDLE_FILE_EXTENSIONS as readonly string[]).includes(ext)) return undefined;
  const match = /^([A-Z0-9]{1,20})[-_]([A-Z0-9]{1,20})$/.exec(basename(path, extname(path)).toUpperCase());
  return match ? `${match[1]}/${match[2]}` : undefined;
}

/** The file name a symbol is stored under, for the data download. */
export function fileNameForSymbol(symbol: string, format: CandleFileFormat): string {
  return `${symbol.replace('/', '-')}.${format}`;
}

export function formatOf(path: string): CandleFileFormat {
  return extname(path).toLowerCase() === '.csv' ? 'csv' : 'jsonl';
}

const COLUMNS = ['timestamp', 'open', 'high', 'low', 'close', 'volume'] as const;
const DECIMAL = /^\d{1,20}(\.\d{1,18})?$/;
const DIGITS = /^\d{1,16}$/;

/**
 * Streams the candles of one file in time order, validated.
 * @throws BacktestDataError naming the file and line of the first bad row.
 */
export async function* readCandleFile(path: string, options: CandleFileOptions): AsyncGenerator<Candle> {
  const symbol = symbolFromFileName(path) ?? basename(path);
  let previous: number | undefined;
  for await (const { fields, line } of rowsOf(path)) {
    const candle = toCandle(fields, path, line, options.timeframeMs);
    if (previous !== undefined) {
      if (candle.openTime <= previous) {
        throw new BacktestDataError(path, line, `timestamp ${new Date(candle.openTime).toISOString()} is not after the previous row's ${new Date(previous).toISOString()}`);
      }
      const step = candle.openTime - previous;
      const inWindow = (options.from === undefined || previous >= options.from) && (options.to === undefined || candle.openTime < options.to);
      if (step > options.timeframeMs && inWindow) {
        options.onGap?.({ symbol, file: path, after: previous, before: candle.openTime, missingCandles: step / options.timeframeMs - 1 });
      }
    }
    previous = candle.openTime;
    if (options.from !== undefined && candle.openTime < options.from) continue;
    if (options.to !== undefined && candle.openTime >= options.to) return;
    yield candle;
  }
}

interface Row {
  readonly fields: Readonly<Record<(typeof COLUMNS)[number], unknown>>;
  readonly line: number;
}

async function* rowsOf(path: string): AsyncGenerator<Row> {
  if (formatOf(path) === 'csv') yield* csvRows(path);
  else yield* jsonLines(path);
}

async function* csvRows(path: string): AsyncGenerator<Row> {
  const parser = createReadStream(path).pipe(parse({ info: true, skip_empty_lines: true, trim: true, relax_column_count: true }));
  let first = true;
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      if (first) {
        first = false;
        const lead = record[0] ?? '';
        if (!DIGITS.test(lead) && !/^\d{4}-\d{2}-\d{2}T/.test(lead)) {
          // A first row that is no data row is the header: it must name the columns in order.
          const header = record.map((h) => h.toLowerCase()).join(',');
          if (header !== COLUMNS.join(',')) throw new BacktestDataError(path, info.lines, `header must be ${COLUMNS.join(',')}, found ${record.join(',')}`);
          continue;
        }
      }
      if (record.length !== COLUMNS.length) throw new BacktestDataError(path, info.lines, `expected ${COLUMNS.length} columns (${COLUMNS.join(',')}), found ${record.length}`);
      yield { fields: Object.fromEntries(COLUMNS.map((c, i) => [c, record[i]])) as Row['fields'], line: info.lines };
    }
  } catch (error) {
    if (error instanceof BacktestDataError) throw error;
    const line = typeof error === 'object' && error !== null && 'lines' in error ? Number((error as { lines: unknown }).lines) : 0;
    throw new BacktestDataError(path, line, `malformed CSV: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    parser.destroy();
  }
}

async function* jsonLines(path: string): AsyncGenerator<Row> {
  const stream = createReadStream(path, { encoding: 'utf8' });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let line = 0;
  try {
    for await (const text of lines) {
      line += 1;
      if (text.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        throw new BacktestDataError(path, line, 'malformed JSON');
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new BacktestDataError(path, line, 'each line must be a JSON object');
      const missing = COLUMNS.filter((c) => !(c in value));
      if (missing.length > 0) throw new BacktestDataError(path, line, `missing field(s) ${missing.join(', ')}`);
      yield { fields: value as Row['fields'], line };
    }
  } finally {
    lines.close();
    stream.destroy();
  }
}

function toCandle(fields: Row['fields'], path: string, line: number, timeframeMs: number): Candle {
  const openTime = toTimestamp(fields.timestamp, path, line);
  if (openTime % timeframeMs !== 0) throw new BacktestDataError(path, line, `timestamp ${new Date(openTime).toISOString()} is not aligned to the ${timeframeMs / 1000} s timeframe`);
  const [open, high, low, close, volume] = (['open', 'high', 'low', 'close', 'volume'] as const).map((name) => toDecimal(fields[name], name, path, line)) as [string, string, string, string, string];
  for (const [name, value] of [['open', open], ['high', high], ['low', low], ['close', close]] as const) {
    if (Number(value) <= 0) throw new BacktestDataError(path, line, `${name} must be positive, found ${value}`);
  }
  const h = Number(high);
  const l = Number(low);
  if (h < l) throw new BacktestDataError(path, line, `high ${high} is below low ${low}`);
  if (h < Number(open) || h < Number(close)) throw new BacktestDataError(path, line, `high ${high} is below the open or the close`);
  if (l > Number(open) || l > Number(close)) throw new BacktestDataError(path, line, `low ${low} is above the open or the close`);
  return { openTime, open, high, low, close, volume };
}

function toTimestamp(raw: unknown, path: string, line: number): number {
  const text = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw.trim() : '';
  if (DIGITS.test(text)) return Number(text);
  if (/^\d{4}-\d{2}-\d{2}T/.test(text)) {
    const ms = Date.parse(text);
    if (Number.isFinite(ms)) return ms;
  }
  throw new BacktestDataError(path, line, `timestamp must be epoch milliseconds or ISO 8601, found ${JSON.stringify(raw)}`);
}

function toDecimal(raw: unknown, name: string, path: string, line: number): string {
  if (typeof raw === 'number' && Number.isFinite(raw) && raw < 0) throw new BacktestDataError(path, line, `${name} must not be negative, found ${raw}`);
  const text = typeof raw === 'number' && Number.isFinite(raw) ? numberToDecimal(raw) : typeof raw === 'string' ? raw.trim() : '';
  if (text.startsWith('-')) throw new BacktestDataError(path, line, `${name} must not be negative, found ${text}`);
  if (!DECIMAL.test(text)) throw new BacktestDataError(path, line, `${name} must be a decimal number, found ${JSON.stringify(raw)}`);
  return text;
}

/** A JSON number as a plain decimal string (no exponent). */
function numberToDecimal(value: number): string {
  const text = String(value);
  return /e/i.test(text) ? value.toFixed(18).replace(/\.?0+$/, '') : text;
}
