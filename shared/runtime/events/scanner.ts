/** The scanner's trigger: the scheduler's payload or an ad hoc dry run (zod, strict). */
import * as z from '../../domain/zod-mini.js';

const isoTime = z.iso.datetime({ offset: true });

/** Scheduler payload: `{"scheduledTime": "<aws.scheduler.scheduled-time>"}`; ad hoc adds `dryRun`. */
export const ScannerEventSchema = z.strictObject({
  scheduledTime: z.optional(isoTime),
  dryRun: z.optional(z.boolean()),
});
export type ScannerEvent = z.infer<typeof ScannerEventSchema>;
