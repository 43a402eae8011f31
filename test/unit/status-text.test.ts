/**
 * `ops status` in a terminal (OPS-9): aligned tables of jobs, ledger, positions with unrealized
 * PnL and recent orders, amounts rounded for display; `--json` keeps full precision.
 */
import { describe, expect, it } from 'vitest';
import { formatAmount, formatQuote, renderStatus } from '../../operator/status-text.js';
import type { StackStatus } from '../../shared/operations/status.js';

const status = {
  mode: 'paper',
  exchange: 'paper',
  dataSource: 'synthetic',
  lastScan: null,
  scanMarker: { lastSlot: '2026-06-01T10:00:00.000Z', aheadOfClock: false },
  jobs: [
    { job: 'scanner', lastSuccess: '2026-06-01T10:00:02.000Z', lastOutcome: 'ok', lastDurationMs: 412 },
    { job: 'reconciler' },
  ],
  pause: { paused: true, author: 'alice', since: '2026-06-01T09:59:00.000Z', reason: 'drill' },
  orders: [
    { id: 'tw-0123456789abcdef', symbol: 'BTC/USDT', side: 'buy', amount: '0.0015500000', filled: '0.00155', state: 'FILLED' },
    { id: 'tw-fedcba9876543210', symbol: 'DOGE/USDT', side: 'sell', amount: '1117', filled: '0', state: 'REJECTED', reason: 'exchange rejected: insufficient funds' },
  ],
  openOrders: [],
  positions: {
    'BTC/USDT': { symbol: 'BTC/USDT', qty: '0.0015500000', avgPrice: '64208.1339935483870967', realizedPnl: '-1.2345678901', basis: '99.5226' },
    'ETH/USDT': { symbol: 'ETH/USDT', qty: '0', avgPrice: '0', realizedPnl: '3.5' },
  },
  ledger: { currency: 'USDT', total: '10001.2345678901', available: '9800.1111111111', reserved: '101.6008', committed: '99.5226567790' },
  equity: '10002.98765432109876',
  prices: { 'BTC/USDT': '65000.123456' },
  exchangeBalances: {},
  health: { status: 'OK' },
  reconciliation: null,
} as unknown as StackStatus;

describe('ops status as text', () => {
  const lines = renderStatus(status);
  const text = lines.join('\n');

  it('rounds quote amounts to cents and quantities to six significant digits', () => {
    expect(formatQuote('10001.2345678901')).toBe('10,001.23');
    expect(formatQuote('-1.2345678901')).toBe('-1.23');
    expect(formatQuote('0.005')).toBe('0.01');
    expect(formatAmount('0.0015500000')).toBe('0.00155');
    expect(formatAmount('64208.1339935483870967')).toBe('64208.1');
    expect(formatAmount('0.000012345678')).toBe('0.0000123457');
    expect(formatAmount('1117')).toBe('1117');
    // No amount anywhere in the text keeps ten decimals.
    expect(text).not.toMatch(/\d\.\d{9,}/);
  });

  it('prints jobs, ledger, positions with unrealized PnL and recent orders as aligned tables', () => {
    expect(lines[0]).toBe('mode paper | exchange paper | data synthetic | health OK | paused true');
    expect(text).toContain('paused by alice since 2026-06-01T09:59:00.000Z: drill');
    for (const title of ['jobs', 'ledger (USDT)', 'positions', 'recent orders']) expect(lines).toContain(title);

    const ledgerRow = lines[lines.indexOf('ledger (USDT)') + 2]!;
    expect(ledgerRow.trim().split(/\s{2,}/)).toEqual(['10,001.23', '9,800.11', '101.60', '99.52', '10,002.99']);

    // A flat position is not listed; the open one is valued at its price: 0.00155 x 65000.123456 - 99.5226 = 1.2276...
    const positionsHeader = lines[lines.indexOf('positions') + 1]!;
    const positionRow = lines[lines.indexOf('positions') + 2]!;
    expect(positionRow.trim().split(/\s{2,}/)).toEqual(['BTC/USDT', '0.00155', '64208.1', '65000.1', '1.23', '-1.23']);
    expect(text).not.toContain('ETH/USDT');
    // Right-aligned numbers end under the end of their header.
    expect(positionRow.indexOf('1.23') + '1.23'.length).toBe(positionsHeader.indexOf('unrealized PnL') + 'unrealized PnL'.length);

    const orderHeader = lines[lines.indexOf('recent orders') + 1]!;
    const orderRows = lines.slice(lines.indexOf('recent orders') + 2, lines.indexOf('recent orders') + 4);
    for (const row of orderRows) expect(row.indexOf('BTC/USDT') === -1 ? row.indexOf('DOGE/USDT') : row.indexOf('BTC/USDT')).toBe(orderHeader.indexOf('symbol'));
    expect(orderRows[1]).toContain('exchange rejected: insufficient funds');

    const jobRows = lines.slice(lines.indexOf('jobs') + 2, lines.indexOf('jobs') + 4);
    expect(jobRows[1]!.trim().split(/\s{2,}/)).toEqual(['reconciler', '-', 'never run', '-']);
  });
});
