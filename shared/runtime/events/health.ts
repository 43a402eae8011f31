/** Health's triggers: the scheduler, or its Function URL (zod). */
import * as z from 'zod';

const isoTime = z.iso.datetime({ offset: true });

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
