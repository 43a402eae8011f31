/**
 * `npx tsx bench/export-rss.ts [--orders 100000] [--json]`: peak memory of `ops export` over a
 * large orders table (OPS-8: the export is streamed, so its peak RSS must not grow with the
 * table). Seeds N filled orders into an in-memory dynalite (in this process), then runs the real
 * `npm run ops -- --outputs <file> export` as a child process against it through the SDK
 * endpoint variables, and reads the child's peak RSS (VmHWM) from /proc while it runs. The same
 * export of 1,000 orders is the baseline. Not a test: nothing asserts a number.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { startLocalStack } from '../local-runtime/stack.js';
import { writeOutputsFile } from '../operator/stack-outputs.js';
import { localStackOutputs } from '../local-runtime/stack.js';
import { LOCAL_STACK_NAME } from '../shared/definitions/stack-outputs.js';
import { createContainer } from '../shared/runtime/container.js';
import { loadConfig } from '../shared/runtime/config.js';
import { LOCAL_CREDENTIALS } from '../local-runtime/stack.js';
import { ORDERS_PARTITION } from '../shared/adapters/aws/dynamodb-order-store.js';

const BATCH = 25;
const IN_FLIGHT = 8;

function peakRssKb(pid: number): number | null {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

async function seed(doc: ReturnType<typeof createContainer>['doc'], table: string, from: number, to: number): Promise<void> {
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  const item = (i: number) => {
    const createdAt = new Date(t0 + i * 1000).toISOString();
    const id = `tw-bench-${String(i).padStart(7, '0')}`;
    return {
      pk: `ORDER#${id}`, sk: 'ORDER', gsi1pk: ORDERS_PARTITION, gsi1sk: `${createdAt}#${id}`,
      id, intentId: `bench-${i}`, correlationId: `bench-${i}`, strategy: 'price-drop', symbol: 'BTC/USDT', side: i % 2 ? 'sell' : 'buy', type: 'market',
      amount: '0.00123', reservedQuote: '0', state: 'FILLED', version: 3, fence: 1, exchangeOrderId: `p-${i}`, filled: '0.00123', cost: '123.45', fees: [{ currency: 'USDT', amount: '0.12345' }],
      notFoundCount: 0, events: [], eventCount: 3, createdAt, updatedAt: createdAt,
    };
  };
  const batches: number[] = [];
  for (let i = from; i < to; i += BATCH) batches.push(i);
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < batches.length) {
        const start = batches[next++] ?? 0;
        let requests: Record<string, unknown>[] = [];
        for (let i = start; i < Math.min(start + BATCH, to); i += 1) requests.push({ PutRequest: { Item: item(i) } });
        while (requests.length > 0) {
          const out = await doc.send(new BatchWriteCommand({ RequestItems: { [table]: requests as never } }));
          requests = (out.UnprocessedItems?.[table] ?? []) as Record<string, unknown>[];
        }
      }
    }),
  );
}

async function exportPeak(env: Record<string, string>, outputsFile: string, outDir: string): Promise<{ peakRssMb: number; seconds: number; bytes: number }> {
  const began = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/ops.ts', '--outputs', outputsFile, 'export', '--out', outDir], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let peak = 0;
  const timer = setInterval(() => {
    peak = Math.max(peak, peakRssKb(child.pid ?? -1) ?? 0);
  }, 50);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearInterval(timer);
  if (code !== 0) throw new Error(`export failed: ${stderr}`);
  return { peakRssMb: Math.round(peak / 1024), seconds: Math.round((Date.now() - began) / 100) / 10, bytes: statSync(join(outDir, 'orders.jsonl')).size };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { orders: { type: 'string', default: '100000' }, json: { type: 'boolean', default: false } } });
  const total = Number(values.orders);
  const stack = await startLocalStack();
  const dir = mkdtempSync(join(tmpdir(), 'tw-export-rss-'));
  try {
    const config = loadConfig({ ...stack.env, POWERTOOLS_LOG_LEVEL: 'SILENT' });
    const c = createContainer('health', config, { credentials: LOCAL_CREDENTIALS });
    const outputsFile = join(dir, 'outputs.json');
    writeOutputsFile(outputsFile, LOCAL_STACK_NAME, localStackOutputs(stack.env));
    const env = {
      AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'bench', AWS_SECRET_ACCESS_KEY: 'bench', AWS_EC2_METADATA_DISABLED: 'true',
      AWS_ENDPOINT_URL_DYNAMODB: stack.dynamo.endpoint, AWS_ENDPOINT_URL_SQS: stack.sqs.endpoint, POWERTOOLS_LOG_LEVEL: 'ERROR',
    };
    const results: Record<string, unknown>[] = [];
    let seeded = 0;
    for (const n of [1000, total]) {
      const t = Date.now();
      await seed(c.doc, config.stateTable, seeded, n);
      seeded = n;
      const r = await exportPeak(env, outputsFile, join(dir, `out-${n}`));
      results.push({ orders: n, seedSeconds: Math.round((Date.now() - t) / 1000), ...r });
      if (!values.json) console.log(`orders ${n}: export peak RSS ${r.peakRssMb} MB, ${r.seconds} s, orders.jsonl ${Math.round(r.bytes / 1024 / 1024)} MB`);
    }
    if (values.json) console.log(JSON.stringify(results));
    c.ddb.destroy();
    c.sqs.destroy();
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await stack.stop();
  }
}

void main();
