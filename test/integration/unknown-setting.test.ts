import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startLocalStack } from '../../local-runtime/stack.js';

/** Order items npm start left in the state directory's tables (the stack is started on it again to look). */
async function orderItems(dataDir: string): Promise<{ state: number; paper: number }> {
  const stack = await startLocalStack({ dataDir });
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: stack.dynamo.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS }));
  try {
    const count = async (table: string | undefined) => {
      const out = await doc.send(new ScanCommand({ TableName: table, FilterExpression: 'begins_with(pk, :order)', ExpressionAttributeValues: { ':order': 'ORDER#' } }));
      return out.Items?.length ?? 0;
    };
    return { state: await count(stack.env.TW_STATE_TABLE), paper: await count(stack.env.TW_PAPER_TABLE) };
  } finally {
    doc.destroy();
    await stack.stop();
  }
}

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

describe('The local tools stop plainly on a bad setting or missing market data (CFG-3, DATA-6)', () => {
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

  it('npm start on paper with real prices and no route to the exchange says MARKET_DATA_UNREACHABLE, places no order and never shows synthetic data (DATA-6, DATA-4)', async () => {
    // This machine has no route to the exchange (its DNS name does not resolve): the real process
    // meets the real failure. A machine with a route would make this test fail, not pass.
    const own = mkdtempSync(join(tmpdir(), 'tw-paper-market-'));
    try {
      const start = await run('scripts/start.ts', [], { TW_LOCAL_DATA_DIR: own, TW_PAPER_MARKET: 'exchange' });
      expect(start.code).not.toBe(0);
      const error = (JSON.parse(start.stderr.slice(start.stderr.indexOf('{'))) as { error: { code: string; message: string } }).error;
      expect(error.code).toBe('MARKET_DATA_UNREACHABLE');
      expect(error.message).toMatch(/market data of binance unreachable.*places nothing/);
      expect(start.stdout).not.toContain('synthetic');
      // Stopped before the first scan: no status line, and no order in the state it left.
      expect(start.stdout).toBe('');
      expect(await orderItems(own)).toEqual({ state: 0, paper: 0 });
    } finally {
      rmSync(own, { recursive: true, force: true });
    }
  }, 120_000);
});
