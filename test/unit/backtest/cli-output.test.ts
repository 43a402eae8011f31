/**
 * `npm run backtest -- --json` piped to another program: the whole report arrives. The script
 * waits until its output is written before it exits; exiting at once cut the report at 64 KiB
 * when tsx relayed it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCandleFile } from '../../../testkit/candle-series.js';

const SCRIPT = fileURLToPath(new URL('../../../scripts/backtest.ts', import.meta.url));
/** The tsx command line, as `npm run backtest` starts it: it runs the script in a child process and relays its output. */
const TSX_CLI = fileURLToPath(import.meta.resolve('tsx/cli'));
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tw-bt-cli-'));
  for (let i = 0; i < 10; i += 1) await writeCandleFile(dir, { symbol: `C${i}/USDT`, start: Date.UTC(2025, 0, 1), candles: 1440, startPrice: 10 + i * 10, seed: `cli-${i}` });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Runs the script with its stdout piped to a slow reader, as `... --json | some-program` does: the
 * reader starts only after `holdSeconds`, so the pipe fills while the script writes its report.
 */
function run(argv: readonly string[], holdSeconds: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const quoted = [process.execPath, TSX_CLI, SCRIPT, ...argv].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', `${quoted} | { sleep ${holdSeconds}; cat; }`], { env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'SILENT' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('Backtest CLI output', () => {
  it('delivers a report larger than a pipe buffer whole through a pipe', async () => {
    const { code, stdout, stderr } = await run(['--data', dir, '--json'], 12);
    expect([code, stderr]).toEqual([0, '']);
    expect(stdout.length).toBeGreaterThan(65_536);
    const report = JSON.parse(stdout) as { candles: number; rejected: unknown[] };
    expect(report.candles).toBe(14_400);
  }, 120_000);
});
