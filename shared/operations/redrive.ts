/**
 * Brings dead-lettered intents back to the execution queue (OPS-2). The executor processes each
 * redriven intent exactly once (EXE-1), so a redrive is always safe to repeat.
 */
import type { OperatorDeps, RedriveResult } from './ports.js';

export function redriveDeadLetters(deps: Pick<OperatorDeps, 'deadLetters'>): Promise<RedriveResult> {
  return deps.deadLetters.redrive();
}
