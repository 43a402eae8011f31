/** The scanner's trigger: the scheduler's payload or an ad hoc dry run (zod, strict). */
import * as z from 'zod';

const isoTime = z.iso.datetime({ offset: true });

/** Scheduler payload: `{"scheduledTime": "<aws.scheduler.scheduled-time>"}`; ad hoc adds `dryRun`. */
export const ScannerEventSchema = z
  .object({
    scheduledTime: isoTime.optional(),
    dryRun: z.boolean().optional(),
  })
  .strict();
export type ScannerEvent = z.infer<typeof ScannerEventSchema>;
