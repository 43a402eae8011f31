import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** Runs a local script (tsx, as its npm script does) with extra environment variables. */
function run(script: string, argv: readonly string[], extra: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...argv], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('Unknown TW_ settings stop the local tools (CFG-3)', () => {
  let dataDir: string;

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'tw-unknown-setting-'));
  });

  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('npm start and ops refuse a misspelt setting before starting anything, naming the closest one', async () => {
    const typo = { TW_LOCAL_DATA_DIR: dataDir, TW_WATCHLSIT: 'BTC/USDT' };
    const [start, ops] = await Promise.all([run('scripts/start.ts', [], typo), run('scripts/ops.ts', ['status'], typo)]);
    for (const r of [start, ops]) {
      expect(r.code).not.toBe(0);
      const error = (JSON.parse(r.stderr.slice(r.stderr.indexOf('{'))) as { error: { code: string; message: string } }).error;
      expect(error.code).toBe('CONFIG_UNKNOWN_SETTING');
      expect(error.message).toContain('TW_WATCHLSIT (did you mean TW_WATCHLIST?)');
    }
    expect(start.stdout).toBe('');
    expect(readdirSync(dataDir)).toEqual([]);
  }, 90_000);

  it('npm start refuses TW_PAPER_MARKET=exchange with a coded error, starts nothing and never runs on synthetic data (DATA-6 not built)', async () => {
    const own = mkdtempSync(join(tmpdir(), 'tw-paper-market-'));
    const start = await run('scripts/start.ts', [], { TW_LOCAL_DATA_DIR: own, TW_PAPER_MARKET: 'exchange' }).finally(() => rmSync(own, { recursive: true, force: true }));
    expect(start.code).not.toBe(0);
    const error = (JSON.parse(start.stderr.slice(start.stderr.indexOf('{'))) as { error: { code: string; message: string } }).error;
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toMatch(/TW_PAPER_MARKET: exchange .* is not available in this version/);
    expect(start.stdout).not.toContain('source synthetic');
    // Stopped at the configuration: no scan, no status line, no order.
    expect(start.stdout).toBe('');
  }, 90_000);
});
