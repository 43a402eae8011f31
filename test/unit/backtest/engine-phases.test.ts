/**
 * The bench's breakdown of a run (engine.ts `phases`): timing the phases changes nothing the run
 * decides or reports, and every step, scan and executed intent is counted once.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { phaseTimes, runBacktest } from '../../../backtest/engine.js';
import { writeCandleFile } from '../../../testkit/candle-series.js';
import { backtestSettings } from '../../support/backtest-settings.js';

const T0 = Date.UTC(2026, 0, 1);
const CANDLES = 2880;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tw-bt-phases-'));
  await writeCandleFile(dir, { symbol: 'BTC/USDT', start: T0, candles: CANDLES, startPrice: 60000 });
  await writeCandleFile(dir, { symbol: 'ETH/USDT', start: T0, candles: CANDLES, startPrice: 3000, seed: 'phases' });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Backtest phase times', () => {
  it('a timed run reports what an untimed one does, and counts each step, scan and intent once', async () => {
    const wallClock = () => 0;
    const plain = await runBacktest(await backtestSettings(dir, { wallClock }));
    const phases = phaseTimes();
    const gated: Record<string, number> = {};
    let intents = 0;
    const timed = await runBacktest(await backtestSettings(dir, {
      wallClock,
      phases,
      onGate: (kind) => { gated[kind] = (gated[kind] ?? 0) + 1; },
      onIntents: (list) => { intents += list.length; },
    }));
    expect(JSON.stringify(timed.report)).toBe(JSON.stringify(plain.report));
    expect(timed.report.totals.trades).toBeGreaterThan(0);

    expect(phases.read.count).toBe(CANDLES);
    expect(phases.market.count).toBe(CANDLES);
    expect(phases.gate.count).toBe(CANDLES);
    expect(phases.equity.count).toBe(CANDLES);
    // The first slot is always scanned; after it, the gate's 'scan' plans.
    expect(phases.scan.count).toBe(1 + (gated['scan'] ?? 0));
    expect(phases.execute.count).toBe(intents);
    expect(intents).toBeGreaterThan(0);
    expect(phases.report.count).toBe(1);
    // Every step passes these phases, so each has measured time of its own.
    for (const name of ['read', 'market', 'gate', 'equity'] as const) expect(phases[name].ms).toBeGreaterThan(0);
  });
});
