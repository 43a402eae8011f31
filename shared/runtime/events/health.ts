/** Health's triggers: the scheduler, or its Function URL (zod). */
import * as z from '../../domain/zod-mini.js';

const isoTime = z.iso.datetime({ offset: true });

/** Function URL request (HTTP API v2 shape), authenticated by IAM before it reaches the function. */
const HttpEventSchema = z.looseObject({
  version: z.string(),
  rawPath: z.string(),
  requestContext: z.looseObject({ http: z.looseObject({ method: z.string() }) }),
});
export const HealthEventSchema = z.union([z.strictObject({ scheduledTime: z.optional(isoTime) }), HttpEventSchema]);
export type HealthEvent = z.infer<typeof HealthEventSchema>;

export function isHttpEvent(event: HealthEvent): event is z.infer<typeof HttpEventSchema> {
  return 'requestContext' in event;
}
