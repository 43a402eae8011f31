/**
 * Audit checkpoint handler (SEC-5): on its schedule, anchors every audit stream's head in the
 * write-once checkpoint store. Thin: parse the event, run the use case, log the result. A failure
 * is rethrown: the schedule retries, then dead-letters, and the dead letter is alarmed. No custom
 * metric: Lambda's own Errors metric and the DLQ carry the signal at no extra cost.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Logger } from '@aws-lambda-powertools/logger';
import * as z from '../../shared/domain/zod-mini.js';
import { AUDIT_CHECKPOINT_EVENT } from '../../shared/definitions/schedules.js';
import { toTradewardenError } from '../../shared/domain/errors.js';
import { parseWith } from '../../shared/runtime/handler-stack.js';
import { checkpointAudit, type CheckpointAuditDeps, type CheckpointResult } from '../../shared/use-cases/checkpoint-audit.js';

/** The schedule's constant payload; an ad hoc invoke sends the same. */
export const AuditCheckpointEventSchema = z.strictObject({ checkpoint: z.literal(AUDIT_CHECKPOINT_EVENT.checkpoint) });
export { AUDIT_CHECKPOINT_EVENT };

export interface AuditCheckpointHandlerDeps extends CheckpointAuditDeps {
  readonly logger: Logger;
}

export function createAuditCheckpointHandler(deps: AuditCheckpointHandlerDeps) {
  const { logger } = deps;
  const run = async (event: unknown): Promise<CheckpointResult> => {
    parseWith(AuditCheckpointEventSchema, event, 'audit checkpoint event');
    try {
      const result = await checkpointAudit(deps);
      logger.info('audit checkpoint stored', { ...result });
      return result;
    } catch (error) {
      logger.error('audit checkpoint not stored', { error: toTradewardenError(error).toJSON() });
      throw error;
    }
  };
  return middy(run).use(injectLambdaContext(logger));
}
