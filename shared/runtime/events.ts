/**
 * Event schemas of every function's triggers and ad hoc payloads (zod, strict: an unknown field
 * is a bad input).
 */
import * as z from 'zod';
import { IntentSchema } from '../domain/intent.js';

const isoTime = z.iso.datetime({ offset: true });
const symbol = z.string().regex(/^[A-Z0-9]{2,15}\/[A-Z0-9]{2,15}$/, 'must look like BTC/USDT');

/** Scheduler payload: `{"scheduledTime": "<aws.scheduler.scheduled-time>"}`; ad hoc adds `dryRun`. */
export const ScannerEventSchema = z
  .object({
    scheduledTime: isoTime.optional(),
    dryRun: z.boolean().optional(),
  })
  .strict();
export type ScannerEvent = z.infer<typeof ScannerEventSchema>;

const SqsRecordSchema = z
  .object({
    messageId: z.string().min(1),
    receiptHandle: z.string().optional(),
    body: z.string(),
    attributes: z.record(z.string(), z.unknown()).optional(),
    messageAttributes: z.record(z.string(), z.unknown()).optional(),
    md5OfBody: z.string().optional(),
    eventSource: z.literal('aws:sqs').optional(),
    eventSourceARN: z.string().optional(),
    awsRegion: z.string().optional(),
  })
  .loose();

export const SqsEventSchema = z.object({ Records: z.array(SqsRecordSchema).min(1).max(10_000) }).strict();
/** Ad hoc replay of one intent (OPS-3): `{"intent": {...}}`. */
export const ReplayEventSchema = z.object({ intent: IntentSchema }).strict();
export const ExecutorEventSchema = z.union([SqsEventSchema, ReplayEventSchema]);
export type ExecutorEvent = z.infer<typeof ExecutorEventSchema>;

/** Scheduled, or ad hoc: one symbol (`{symbol}`) or orders created in one window (`{from, to}`). */
export const ReconcilerEventSchema = z
  .object({
    scheduledTime: isoTime.optional(),
    symbol: symbol.optional(),
    from: isoTime.optional(),
    to: isoTime.optional(),
  })
  .strict()
  .superRefine((e, ctx) => {
    if ((e.from === undefined) !== (e.to === undefined)) ctx.addIssue({ code: 'custom', path: ['from'], message: 'from and to go together' });
    if (e.from && e.to && Date.parse(e.from) >= Date.parse(e.to)) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' });
  });
export type ReconcilerEvent = z.infer<typeof ReconcilerEventSchema>;

/** Function URL request (HTTP API v2 shape), authenticated by IAM before it reaches the function. */
const HttpEventSchema = z
  .object({
    version: z.string(),
    rawPath: z.string(),
    requestContext: z.object({ http: z.object({ method: z.string() }).loose() }).loose(),
  })
  .loose();
export const HealthEventSchema = z.union([z.object({ scheduledTime: isoTime.optional() }).strict(), HttpEventSchema]);
export type HealthEvent = z.infer<typeof HealthEventSchema>;

export function isHttpEvent(event: HealthEvent): event is z.infer<typeof HttpEventSchema> {
  return 'requestContext' in event;
}
