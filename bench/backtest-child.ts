/**
 * One backtest run for the bench (bench/backtest.ts): prints candles, seconds and peak RSS as JSON.
 * With `--phases` the run also times its phases (engine.ts `phases`) and prints them: the
 * breakdown run, kept apart from the runs whose wall time is the figure.
 */
import { phaseTimes } from '../backtest/engine.js';
import { main } from '../scripts/backtest.js';

const dir = process.argv[2]!;
const phases = process.argv.includes('--phases') ? phaseTimes() : undefined;
const lines: string[] = [];
const log = console.log;
console.log = (line: string) => lines.push(line);
const started = performance.now();
await main(['--data', dir, '--json'], { ...process.env }, phases ? { phases } : {});
const seconds = (performance.now() - started) / 1000;
console.log = log;
const report = JSON.parse(lines.join('\n')) as { candles: number };
console.log(JSON.stringify({ candles: report.candles, seconds, maxRssKb: process.resourceUsage().maxRSS, ...(phases ? { phases } : {}) }));
