/**
 * The export's files in a directory: one JSON Lines file per record stream, and `trades.csv`
 * with the columns tax and portfolio tools import (time, symbol, side, amount, price, fee, fee
 * currency, order id), written with csv-stringify. Every write waits for the file stream to
 * drain, so a large export never queues up in memory. The import reads the same files line by
 * line.
 */
import { createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { stringify, type Stringifier } from 'csv-stringify';
import type { AccountBook } from '../shared/domain/account.js';
import { ValidationError } from '../shared/domain/errors.js';
import type { OrderRecord } from '../shared/domain/order.js';
import type { ImportSource } from '../shared/operations/export-state.js';
import type { ExportSink, ExportStream } from '../shared/operations/ports.js';
import type { AuditRecord } from '../shared/ports/audit-log.js';

const JSONL_STREAMS: readonly Exclude<ExportStream, 'trades'>[] = ['orders', 'fills', 'positions', 'ledger', 'audit'];
/** trades.csv: header and the fill field of each column. */
export const TRADES_CSV_COLUMNS = [
  { key: 'time', header: 'time' },
  { key: 'symbol', header: 'symbol' },
  { key: 'side', header: 'side' },
  { key: 'amount', header: 'amount' },
  { key: 'price', header: 'price' },
  { key: 'fee', header: 'fee' },
  { key: 'feeCurrency', header: 'fee currency' },
  { key: 'orderId', header: 'order id' },
] as const;

async function writeDrained(stream: WriteStream, chunk: string): Promise<void> {
  if (!stream.write(chunk)) await once(stream, 'drain');
}

export class ExportFiles implements ExportSink {
  private readonly files = new Map<string, WriteStream>();
  private readonly csv: Stringifier;
  private readonly csvFile: WriteStream;

  /** @throws ValidationError when `dir` already holds files (an export never overwrites). */
  constructor(readonly dir: string) {
    if (existsSync(dir) && readdirSync(dir).length > 0) throw new ValidationError(`${dir} is not empty: export into a new directory`);
    mkdirSync(dir, { recursive: true });
    for (const name of JSONL_STREAMS) this.files.set(name, createWriteStream(join(dir, `${name}.jsonl`)));
    this.csvFile = createWriteStream(join(dir, 'trades.csv'));
    this.csv = stringify({ header: true, columns: TRADES_CSV_COLUMNS.map((c) => ({ key: c.key, header: c.header })) });
    this.csv.pipe(this.csvFile);
  }

  async write(stream: ExportStream, record: Readonly<Record<string, unknown>>): Promise<void> {
    if (stream === 'trades') {
      if (!this.csv.write(record)) await once(this.csv, 'drain');
      return;
    }
    const file = this.files.get(stream);
    if (!file) throw new Error(`no export file for ${stream}`);
    await writeDrained(file, `${JSON.stringify(record)}\n`);
  }

  async close(): Promise<void> {
    this.csv.end();
    await once(this.csvFile, 'finish');
    for (const file of this.files.values()) {
      file.end();
      await once(file, 'finish');
    }
  }
}

async function* jsonLines<T>(file: string): AsyncIterable<T> {
  if (!existsSync(file)) return;
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    n += 1;
    if (line.trim() === '') continue;
    try {
      yield JSON.parse(line) as T;
    } catch (error) {
      throw new ValidationError(`${file}:${n} is not JSON`, [], { cause: error });
    }
  }
}

/** The streams of an export directory, read line by line. @throws ValidationError when it is not one. */
export function importFiles(dir: string): ImportSource {
  if (!existsSync(join(dir, 'ledger.jsonl')) || !existsSync(join(dir, 'orders.jsonl'))) {
    throw new ValidationError(`${dir} is not an export (no ledger.jsonl / orders.jsonl); write one with npm run ops -- export --out <dir>`);
  }
  return {
    ledger: jsonLines<AccountBook>(join(dir, 'ledger.jsonl')),
    orders: jsonLines<OrderRecord>(join(dir, 'orders.jsonl')),
    audit: jsonLines<AuditRecord>(join(dir, 'audit.jsonl')),
  };
}
