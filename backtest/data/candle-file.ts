/**
 * Reads one symbol's OHLCV history from a file, streamed: CSV (`timestamp,open,high,low,close,volume`,
 * header optional, timestamps in epoch milliseconds or ISO 8601) or JSON Lines with the same
 * fields. Every row is validated as it arrives; the first bad one stops the read with a
 * BACKTEST_DATA_INVALID error that names the file and the line, so no report is ever built from
 * data that was only partly read. Gaps are not an error: they are reported and never bridged
 * (DATA-3), and the scanner's own candle checks refuse to compute an indicator across them.
 *
 * CSV is read in large chunks and split into lines here. A well-formed numeric row (what the data
 * download writes) is read where it stands in the chunk by one scan of its characters, which parses
 * its numbers on the way; any other line (the header, quoted fields, ISO timestamps, spaces, a bad
 * row) is parsed by the CSV library, so every row gets the same checks and the same coded errors
 * either way. Candles come in batches (one per chunk), so a long file costs one await per chunk
 * rather than per row.
 */
import { createReadStream } from 'node:fs';
import { basename, extname } from 'node:path';
import { createInterface } from 'node:readline';
import { StringDecoder } from 'node:string_decoder';
import { parse } from 'csv-parse/sync';
import type { Candle } from '../../shared/domain/market.js';
import { decimalBelow } from '../../shared/domain/money.js';
import { BacktestDataError } from './errors.js';
import { CLOSE, HIGH, LOW, OPEN, VALUES_PER_CANDLE, VOLUME } from './step-columns.js';

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
 * Bytes read at once, per file: about a thousand one-minute candles. Every candle of a chunk is
 * alive until the run has stepped past it, for every file at once, so this (times the number of
 * files) is the reader's share of the live heap; a larger chunk saves no measurable time (one
 * await per chunk) but keeps tens of thousands of candle objects alive per file, long enough for
 * the collector to move them to the old generation.
 */
export const CHUNK_BYTES = 1 << 16;
/** Candles per batch of a JSON Lines file (about a chunk's worth, for the same reason). */
const JSONL_BATCH = 1024;
/** Room for the first chunk's candles; later chunks expect about as many as the one before (and make more room when short). */
const FIRST_CHUNK_CANDLES = 1024;

/**
 * A batch of one file's candles (never empty) with their numbers: per candle `VALUES_PER_CANDLE`
 * numbers in `values` (step-columns.ts order: `Number()` of open, high, low, close, volume), parsed
 * once by the checks and handed on, so no later stage parses the texts again, and its open time
 * in `times` (a merge of files reads the times in a row rather than from candle to candle).
 */
export interface CandleChunk {
  readonly candles: readonly Candle[];
  /** At least `candles.length * VALUES_PER_CANDLE` long; what follows is unused. */
  readonly values: Float64Array;
  /** At least `candles.length` long; what follows is unused. */
  readonly times: Float64Array;
}

/**
 * Streams the candles of one file in time order, validated.
 * @throws BacktestDataError naming the file and line of the first bad row.
 */
export async function* readCandleFile(path: string, options: CandleFileOptions): AsyncGenerator<Candle> {
  for await (const batch of readCandleBatches(path, options)) yield* batch;
}

/**
 * The candles of one file in time order, validated, in batches (never empty).
 * @throws BacktestDataError naming the file and line of the first bad row.
 */
export async function* readCandleBatches(path: string, options: CandleFileOptions): AsyncGenerator<readonly Candle[]> {
  for await (const chunk of readCandleChunks(path, options)) yield chunk.candles;
}

/**
 * The candles of one file in time order, validated, in batches with their numbers.
 * @throws BacktestDataError naming the file and line of the first bad row.
 */
export async function* readCandleChunks(path: string, options: CandleFileOptions): AsyncGenerator<CandleChunk> {
  const window = new Window(path, options);
  if (formatOf(path) === 'csv') yield* csvBatches(path, window);
  else yield* jsonBatches(path, window);
}

/** Where a batch's candles and numbers are gathered. */
class ChunkBuilder {
  readonly candles: Candle[] = [];
  values: Float64Array;
  times: Float64Array;

  constructor(capacity: number) {
    this.values = new Float64Array(capacity * VALUES_PER_CANDLE);
    this.times = new Float64Array(capacity);
  }

  /** The slot of the next candle's numbers (made room for when the estimate was short). */
  nextSlot(): number {
    const n = this.candles.length;
    if (n === this.times.length) {
      const capacity = Math.max(n * 2, 64);
      const values = new Float64Array(capacity * VALUES_PER_CANDLE);
      values.set(this.values);
      this.values = values;
      const times = new Float64Array(capacity);
      times.set(this.times);
      this.times = times;
    }
    return n * VALUES_PER_CANDLE;
  }

  /** Adds a candle whose numbers are in the slot `nextSlot` gave. */
  push(candle: Candle): void {
    this.times[this.candles.length] = candle.openTime;
    this.candles.push(candle);
  }
}

/** The order and window checks of one file's rows, in order: keep the candle, skip it, or stop the read. */
class Window {
  readonly symbol: string;
  #previous: number | undefined;

  constructor(
    readonly path: string,
    readonly options: CandleFileOptions,
  ) {
    this.symbol = symbolFromFileName(path) ?? basename(path);
  }

  accept(candle: Candle, line: number): 'keep' | 'skip' | 'stop' {
    const { options } = this;
    const previous = this.#previous;
    if (previous !== undefined) {
      if (candle.openTime <= previous) {
        throw new BacktestDataError(this.path, line, `timestamp ${new Date(candle.openTime).toISOString()} is not after the previous row's ${new Date(previous).toISOString()}`);
      }
      const step = candle.openTime - previous;
      const inWindow = (options.from === undefined || previous >= options.from) && (options.to === undefined || candle.openTime < options.to);
      if (step > options.timeframeMs && inWindow) {
        options.onGap?.({ symbol: this.symbol, file: this.path, after: previous, before: candle.openTime, missingCandles: step / options.timeframeMs - 1 });
      }
    }
    this.#previous = candle.openTime;
    if (options.from !== undefined && candle.openTime < options.from) return 'skip';
    if (options.to !== undefined && candle.openTime >= options.to) return 'stop';
    return 'keep';
  }
}

async function* csvBatches(path: string, window: Window): AsyncGenerator<CandleChunk> {
  const stream = createReadStream(path, { highWaterMark: CHUNK_BYTES });
  const decoder = new StringDecoder('utf8');
  const { timeframeMs } = window.options;
  const row = new NumericRow();
  let rest = '';
  let line = 0;
  let first = true;
  let expected = FIRST_CHUNK_CANDLES;
  /** Keeps (its numbers already in the slot it was checked into) or skips a candle of this line; false once the window has ended. */
  const keep = (candle: Candle, out: ChunkBuilder): boolean => {
    first = false;
    const verdict = window.accept(candle, line);
    if (verdict === 'keep') out.push(candle);
    return verdict !== 'stop';
  };
  /** Parses one line into `out`; false once the window has ended. */
  const take = (raw: string, out: ChunkBuilder): boolean => {
    line += 1;
    const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    let candle: Candle | undefined;
    const slot = out.nextSlot();
    if (row.read(text, 0, true, out.values, slot) !== -1) candle = row.candle(text, path, line, timeframeMs, out.values, slot);
    else {
      if (text.trim() === '') return true;
      const record = csvRecord(text, path, line);
      if (first) {
        const lead = record[0] ?? '';
        if (!DIGITS.test(lead) && !/^\d{4}-\d{2}-\d{2}T/.test(lead)) {
          // A first row that is no data row is the header: it must name the columns in order.
          const header = record.map((h) => h.toLowerCase()).join(',');
          if (header !== COLUMNS.join(',')) throw new BacktestDataError(path, line, `header must be ${COLUMNS.join(',')}, found ${record.join(',')}`);
          first = false;
          return true;
        }
      }
      if (record.length !== COLUMNS.length) throw new BacktestDataError(path, line, `expected ${COLUMNS.length} columns (${COLUMNS.join(',')}), found ${record.length}`);
      candle = toCandle(Object.fromEntries(COLUMNS.map((c, i) => [c, record[i]])) as Fields, path, line, timeframeMs, out);
    }
    return keep(candle, out);
  };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const text = rest + decoder.write(chunk);
      const out = new ChunkBuilder(expected);
      let start = 0;
      let going = true;
      while (going) {
        const slot = out.nextSlot();
        const next = row.read(text, start, false, out.values, slot);
        if (next !== -1) {
          line += 1;
          going = keep(row.candle(text, path, line, timeframeMs, out.values, slot), out);
          start = next;
          continue;
        }
        const nl = text.indexOf('\n', start);
        if (nl === -1) break;
        going = take(text.slice(start, nl), out);
        start = nl + 1;
      }
      rest = text.slice(start);
      expected = out.candles.length + (out.candles.length >> 4) + 16;
      if (out.candles.length > 0) yield out;
      if (!going) return;
    }
    const last = rest + decoder.end();
    const out = new ChunkBuilder(1);
    if (last !== '') take(last, out);
    if (out.candles.length > 0) yield out;
  } finally {
    stream.destroy();
  }
}

const COMMA = 44;
const DOT = 46;
const CR = 13;
const LF = 10;
const ZERO_DIGIT = 48;
/** Digits of a timestamp (DIGITS) and of a decimal's integer and fraction parts (DECIMAL). */
const TIME_DIGITS = 16;
const INTEGER_DIGITS = 20;
const FRACTION_DIGITS = 18;

/**
 * The numeric row of a CSV file: epoch milliseconds (DIGITS) and five plain decimals (DECIMAL),
 * comma separated, nothing else. `read` scans it where it stands in the text, without a pattern or
 * a substring per field, and parses its numbers on the way as `decimalNumber` does; `candle` then
 * cuts out the five texts the candle keeps and checks it.
 */
class NumericRow {
  /** Start and end of each field of the row read last: timestamp, open, high, low, close, volume. */
  readonly #bounds = new Int32Array(12);
  /** Open time of the row read last (`Number()` of its timestamp). */
  #time = 0;

  /**
   * Reads the row starting at `start` of `text`, ended by `\n` or `\r\n` (or by the end of the
   * text, when `last`): `Number()` of its five decimals goes to `values` from `slot` on. Returns
   * where the next line starts, or -1 when the line is no such row or does not end in `text`.
   */
  read(text: string, start: number, last: boolean, values: Float64Array, slot: number): number {
    const bounds = this.#bounds;
    const end = text.length;
    let i = start;
    for (let field = 0; field < 6; field += 1) {
      if (field > 0) {
        if (i === end || text.charCodeAt(i) !== COMMA) return -1;
        i += 1;
      }
      const from = i;
      let digits = 0;
      let scale = 1;
      for (; i < end; i += 1) {
        const d = text.charCodeAt(i) - ZERO_DIGIT;
        if (d < 0 || d > 9) break;
        digits = digits * 10 + d;
      }
      const integer = i - from;
      if (integer === 0 || integer > (field === 0 ? TIME_DIGITS : INTEGER_DIGITS)) return -1;
      if (field > 0 && i < end && text.charCodeAt(i) === DOT) {
        i += 1;
        const fraction = i;
        for (; i < end; i += 1) {
          const d = text.charCodeAt(i) - ZERO_DIGIT;
          if (d < 0 || d > 9) break;
          digits = digits * 10 + d;
          scale *= 10;
        }
        if (i === fraction || i - fraction > FRACTION_DIGITS) return -1;
      }
      bounds[2 * field] = from;
      bounds[2 * field + 1] = i;
      // As decimalNumber: exact digits and one division, or Number() of the text when the digits are too many.
      const value = digits < EXACT_INTEGERS ? digits / scale : Number(text.slice(from, i));
      if (field === 0) this.#time = value;
      else values[slot + field - 1] = value;
    }
    if (i < end && text.charCodeAt(i) === CR) i += 1;
    if (i === end) return last ? end : -1;
    return text.charCodeAt(i) === LF ? i + 1 : -1;
  }

  /** The candle of the row `read` last found in `text`, checked, its numbers already in `values` from `slot` on. */
  candle(text: string, path: string, line: number, timeframeMs: number, values: Float64Array, slot: number): Candle {
    const b = this.#bounds;
    return checkedCandle(aligned(this.#time, path, line, timeframeMs), text.slice(b[2]!, b[3]!), text.slice(b[4]!, b[5]!), text.slice(b[6]!, b[7]!), text.slice(b[8]!, b[9]!), text.slice(b[10]!, b[11]!), path, line, values, slot);
  }
}

/** One CSV line through the CSV library (quotes, spaces): its fields, or a coded error. */
function csvRecord(text: string, path: string, line: number): string[] {
  let records: string[][];
  try {
    records = parse(text, { trim: true, relax_column_count: true, skip_empty_lines: true }) as string[][];
  } catch (error) {
    throw new BacktestDataError(path, line, `malformed CSV: ${error instanceof Error ? error.message : String(error)}`);
  }
  // A line holding several records (a field with a line break, bare \r line endings) is refused, never half read.
  if (records.length > 1) throw new BacktestDataError(path, line, 'malformed CSV: one row per line (line endings \\n or \\r\\n, no line breaks inside fields)');
  return records[0] ?? [];
}

async function* jsonBatches(path: string, window: Window): AsyncGenerator<CandleChunk> {
  const stream = createReadStream(path, { encoding: 'utf8' });
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let line = 0;
  let out = new ChunkBuilder(JSONL_BATCH);
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
      const candle = toCandle(value as Fields, path, line, window.options.timeframeMs, out);
      const verdict = window.accept(candle, line);
      if (verdict === 'stop') break;
      if (verdict === 'keep') out.push(candle);
      if (out.candles.length >= JSONL_BATCH) {
        yield out;
        out = new ChunkBuilder(JSONL_BATCH);
      }
    }
    if (out.candles.length > 0) yield out;
  } finally {
    lines.close();
    stream.destroy();
  }
}

type Fields = Readonly<Record<(typeof COLUMNS)[number], unknown>>;

function toCandle(fields: Fields, path: string, line: number, timeframeMs: number, out: ChunkBuilder): Candle {
  const openTime = aligned(toTimestamp(fields.timestamp, path, line), path, line, timeframeMs);
  const [open, high, low, close, volume] = (['open', 'high', 'low', 'close', 'volume'] as const).map((name) => toDecimal(fields[name], name, path, line)) as [string, string, string, string, string];
  const slot = out.nextSlot();
  const { values } = out;
  values[slot + OPEN] = decimalNumber(open);
  values[slot + HIGH] = decimalNumber(high);
  values[slot + LOW] = decimalNumber(low);
  values[slot + CLOSE] = decimalNumber(close);
  values[slot + VOLUME] = decimalNumber(volume);
  return checkedCandle(openTime, open, high, low, close, volume, path, line, values, slot);
}

function aligned(openTime: number, path: string, line: number, timeframeMs: number): number {
  if (openTime % timeframeMs !== 0) throw new BacktestDataError(path, line, `timestamp ${new Date(openTime).toISOString()} is not aligned to the ${timeframeMs / 1000} s timeframe`);
  return openTime;
}

/** 2^53: every integer below it is a double. */
const EXACT_INTEGERS = 2 ** 53;

/**
 * `Number(text)` of a plain decimal (DECIMAL or DIGITS), without the runtime's string conversion
 * when that is exact: its digits as an integer below 2^53 and its power of ten (at most 1e18) are
 * both doubles, and one division rounds their quotient correctly, as `Number()` rounds the text.
 * Longer texts go to `Number()`.
 */
export function decimalNumber(text: string): number {
  let digits = 0;
  let scale = 1;
  let fraction = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      fraction = true;
      continue;
    }
    digits = digits * 10 + (c - 48);
    if (fraction) scale *= 10;
  }
  // Rounding keeps order, so a digit integer of 2^53 or more never comes out below 2^53.
  return digits < EXACT_INTEGERS ? digits / scale : Number(text);
}

/**
 * The candle of well-formed fields (DECIMAL texts), once its values are consistent (positive,
 * high and low around open and close); `values` holds their numbers from `slot` on (as
 * `decimalNumber` gives them). A DECIMAL text is positive exactly when its number is (its smallest
 * positive value, 1e-18, is far above the smallest double).
 */
function checkedCandle(openTime: number, open: string, high: string, low: string, close: string, volume: string, path: string, line: number, values: Float64Array, slot: number): Candle {
  const o = values[slot + OPEN]!;
  const h = values[slot + HIGH]!;
  const l = values[slot + LOW]!;
  const c = values[slot + CLOSE]!;
  if (!(o > 0)) throw new BacktestDataError(path, line, `open must be positive, found ${open}`);
  if (!(h > 0)) throw new BacktestDataError(path, line, `high must be positive, found ${high}`);
  if (!(l > 0)) throw new BacktestDataError(path, line, `low must be positive, found ${low}`);
  if (!(c > 0)) throw new BacktestDataError(path, line, `close must be positive, found ${close}`);
  if (decimalBelow(high, h, low, l)) throw new BacktestDataError(path, line, `high ${high} is below low ${low}`);
  if (decimalBelow(high, h, open, o) || decimalBelow(high, h, close, c)) throw new BacktestDataError(path, line, `high ${high} is below the open or the close`);
  if (decimalBelow(open, o, low, l) || decimalBelow(close, c, low, l)) throw new BacktestDataError(path, line, `low ${low} is above the open or the close`);
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
