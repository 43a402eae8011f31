/**
 * The measured usage the cost model prices: written by `npm run bench -- --write-usage`
 * (bench/usage.ts), read by `npm run cost`.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as z from 'zod';
import type { UsageModel } from './cost-model.js';

export const MEASURED_USAGE_FILE = fileURLToPath(new URL('./measured-usage.json', import.meta.url));

const run = z.object({
  durationMs: z.number().nonnegative(),
  dynamoReadUnits: z.number().nonnegative(),
  dynamoWriteUnits: z.number().nonnegative(),
  sqsRequests: z.number().nonnegative(),
  eventsPublished: z.number().nonnegative(),
});

const schema = z.object({
  measuredAt: z.string(),
  measuredSymbols: z.int().positive(),
  perRun: z.object({ scanner: run, executor: run, reconciler: run, health: run }),
  healthReadUnitsPerStoredOrder: z.number().nonnegative(),
  storedBytesPerIntent: z.number().nonnegative(),
  metricSeries: z.array(z.object({ series: z.string().regex(/^[A-Za-z]+\|[a-z-]+$/), share: z.number().min(0).max(1) })),
  scannerMsPerSymbol: z.number().nonnegative(),
});

export type MeasuredUsageFile = z.infer<typeof schema>;

/** Reads and checks the measured usage file. */
export function readMeasuredUsage(file: string = MEASURED_USAGE_FILE): MeasuredUsageFile & UsageModel {
  const parsed = schema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new Error(`${file} is not a measured usage file: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}
