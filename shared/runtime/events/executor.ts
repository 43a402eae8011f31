/** The executor's triggers: an SQS batch of intents, or an ad hoc replay of one (zod, strict). */
import * as z from '../../domain/zod-mini.js';
import { IntentSchema } from '../../domain/intent.js';

const SqsRecordSchema = z.looseObject({
  messageId: z.string().check(z.minLength(1)),
  receiptHandle: z.optional(z.string()),
  body: z.string(),
  attributes: z.optional(z.record(z.string(), z.unknown())),
  messageAttributes: z.optional(z.record(z.string(), z.unknown())),
  md5OfBody: z.optional(z.string()),
  eventSource: z.optional(z.literal('aws:sqs')),
  eventSourceARN: z.optional(z.string()),
  awsRegion: z.optional(z.string()),
});

export const SqsEventSchema = z.strictObject({ Records: z.array(SqsRecordSchema).check(z.minLength(1), z.maxLength(10_000)) });
/** Ad hoc replay of one intent (OPS-3): `{"intent": {...}}`. */
export const ReplayEventSchema = z.strictObject({ intent: IntentSchema });
export const ExecutorEventSchema = z.union([SqsEventSchema, ReplayEventSchema]);
export type ExecutorEvent = z.infer<typeof ExecutorEventSchema>;
