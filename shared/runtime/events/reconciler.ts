/** The reconciler's trigger: scheduled, or ad hoc for one symbol or one window (zod, strict). */
import * as z from '../../domain/zod-mini.js';

const isoTime = z.iso.datetime({ offset: true });
const symbol = z.string().check(z.regex(/^[A-Z0-9]{2,15}\/[A-Z0-9]{2,15}$/, 'must look like BTC/USDT'));

/** Scheduled, or ad hoc: one symbol (`{symbol}`) or orders created in one window (`{from, to}`). */
export const ReconcilerEventSchema = z
  .strictObject({
    scheduledTime: z.optional(isoTime),
    symbol: z.optional(symbol),
    from: z.optional(isoTime),
    to: z.optional(isoTime),
  })
  .check(
    z.superRefine((e, ctx) => {
      if ((e.from === undefined) !== (e.to === undefined)) ctx.addIssue({ code: 'custom', path: ['from'], message: 'from and to go together' });
      if (e.from && e.to && Date.parse(e.from) >= Date.parse(e.to)) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' });
    }),
  );
export type ReconcilerEvent = z.infer<typeof ReconcilerEventSchema>;
