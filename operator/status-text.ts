/**
 * `ops status` for a terminal: aligned tables of the jobs, the ledger, the positions with their
 * unrealized PnL and the recent orders. Amounts are rounded for reading only; `--json` prints the
 * status with full precision.
 */
import Table from 'cli-table3';
import { Decimal, dec, type DecimalString } from '../shared/domain/money.js';
import { unrealizedPnl } from '../shared/domain/position.js';
import type { StackStatus } from '../shared/operations/status.js';

/** Quote amounts: cents. */
const QUOTE_DECIMALS = 2;
/** Quantities and prices: enough significant digits to tell a coin's amounts apart. */
const SIGNIFICANT_DIGITS = 6;

/** A quote amount rounded to cents, with thousands separators. */
export function formatQuote(value: DecimalString): string {
  const rounded = dec(value).toDecimalPlaces(QUOTE_DECIMALS, Decimal.ROUND_HALF_UP);
  const [whole = '0', fraction = '00'] = rounded.abs().toFixed(QUOTE_DECIMALS).split('.');
  return `${rounded.isNegative() ? '-' : ''}${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${fraction}`;
}

/** A quantity or price with at most six significant digits (never in exponent notation), trailing zeros dropped. */
export function formatAmount(value: DecimalString): string {
  const d = dec(value);
  if (d.isZero()) return '0';
  const integerDigits = d.abs().gte(1) ? d.abs().truncated().toFixed().length : 0;
  const places = Math.max(0, SIGNIFICANT_DIGITS - integerDigits + (integerDigits === 0 ? -d.abs().e - 1 : 0));
  return d.toDecimalPlaces(places, Decimal.ROUND_HALF_UP).toFixed();
}

function table(head: readonly string[], rows: readonly (readonly string[])[], rightAligned: ReadonlySet<number>): string[] {
  const t = new Table({
    head: [...head],
    // Borderless and uncoloured: the output is read in terminals and pasted into tickets.
    chars: { top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '', left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '  ' },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
    colAligns: head.map((_, i) => (rightAligned.has(i) ? 'right' : 'left')),
  });
  for (const row of rows) t.push([...row]);
  return t
    .toString()
    .split('\n')
    .map((line) => `  ${line.trimEnd()}`);
}

/** The status as lines of text, tables aligned. */
export function renderStatus(status: StackStatus): string[] {
  const lines: string[] = [];
  const currency = status.ledger?.currency ?? '';
  // RISK-8: "trading", "paused: ...", or "entries blocked by drift: ..." with the figures.
  lines.push(`mode ${status.mode} | exchange ${status.exchange} | data ${status.dataSource} | health ${String(status.health?.status ?? 'unknown')} | ${status.trading}`);
  if (status.pause.paused) lines.push(`  ${status.pause.scope === 'entries' ? 'entries blocked' : 'paused'} by ${status.pause.author ?? '-'} since ${status.pause.since ?? '-'}: ${status.pause.reason ?? '-'}`);
  lines.push(`  scan marker ${status.scanMarker.lastSlot ?? '-'}${status.scanMarker.aheadOfClock ? ' AHEAD OF THE CLOCK: no scan can run; ops reset-scan-marker' : ''}`);

  lines.push('', 'jobs');
  lines.push(
    ...table(
      ['job', 'last success', 'outcome', 'ms'],
      status.jobs.map((j) => [j.job, j.lastSuccess ?? '-', j.lastOutcome ?? 'never run', j.lastDurationMs === undefined ? '-' : String(j.lastDurationMs)]),
      new Set([3]),
    ),
  );

  lines.push('', `ledger${currency ? ` (${currency})` : ''}`);
  if (status.ledger) {
    const l = status.ledger;
    lines.push(...table(['total', 'available', 'reserved', 'committed', 'equity'], [[l.total, l.available, l.reserved, l.committed, status.equity].map(formatQuote)], new Set([0, 1, 2, 3, 4])));
  } else {
    lines.push('  not opened yet');
  }

  const positions = Object.values(status.positions).filter((p) => !dec(p.qty).isZero());
  lines.push('', 'positions');
  if (positions.length === 0) lines.push('  none');
  else {
    lines.push(
      ...table(
        ['symbol', 'qty', 'avg price', 'price', 'unrealized PnL', 'realized PnL'],
        positions.map((p) => {
          const price = status.prices[p.symbol];
          return [status.dust?.includes(p.symbol) ? `${p.symbol} (dust)` : p.symbol, formatAmount(p.qty), formatAmount(p.avgPrice), price ? formatAmount(price) : '-', price ? formatQuote(unrealizedPnl(p, price)) : '-', formatQuote(p.realizedPnl)];
        }),
        new Set([1, 2, 3, 4, 5]),
      ),
    );
  }

  lines.push('', 'recent orders');
  if (status.orders.length === 0) lines.push('  none');
  else {
    lines.push(
      ...table(
        ['id', 'symbol', 'side', 'amount', 'filled', 'state', 'reason'],
        status.orders.map((o) => [o.id, o.symbol, o.side, formatAmount(o.amount), formatAmount(o.filled), o.state, o.reason ?? '']),
        new Set([3, 4]),
      ),
    );
  }
  return lines;
}
