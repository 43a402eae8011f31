/** The executor's triggers: an SQS batch of intents, or an ad hoc replay of one (zod, strict). */
import * as z from 'zod';
import { IntentSchema } from '../../domain/intent.js';

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
