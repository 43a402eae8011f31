/**
 * Operator transports (OPS-7): connect the operator use cases (shared/operations) to a stack.
 * Runs on the operator's machine only (`npm run ops`, `npm run invoke`, the console), never in
 * Lambda.
 *
 *   local     the embedded stack (joins a running `npm start`, or starts it for one command)
 *   deployed  a stack found by `--stage <name>` (CloudFormation DescribeStacks) or
 *             `--outputs <file>` (`cdk deploy --outputs-file`), reached through the standard
 *             AWS SDK environment
 *
 * `openOperatorSession(target)` picks one; the use cases never know which.
 */
import type { Clock } from '../shared/ports/clock.js';
import { openDeployedOperatorSession } from './deployed-transport.js';
import { openLocalOperatorSession } from './local-transport.js';
import type { OperatorSession } from './session.js';
import { describeStackOutputs, readOutputsFile, type ResolvedStack } from './stack-outputs.js';

export type { OperatorSession } from './session.js';
export { withSession } from './session.js';
export { localOperatorDeps } from './local-transport.js';
export { openDeployedOperatorSession } from './deployed-transport.js';
export { describeStackOutputs, readOutputsFile, writeOutputsFile, type ResolvedStack, type StackOutputs } from './stack-outputs.js';

/** Which stack a command targets. */
export type StackTarget =
  | { readonly kind: 'local' }
  | { readonly kind: 'stage'; readonly stage: string }
  | { readonly kind: 'outputs'; readonly file: string; readonly stage?: string };

export interface OpenOptions {
  /** Live mode on a deployed stack: read the exchange API keys. */
  readonly exchangeKeys?: boolean;
  readonly clock?: Clock;
}

/** The deployed stack named by a target (its outputs). */
export function resolveStack(target: Exclude<StackTarget, { kind: 'local' }>): Promise<ResolvedStack> {
  return target.kind === 'stage' ? describeStackOutputs(target.stage) : Promise.resolve(readOutputsFile(target.file, target.stage));
}

export async function openOperatorSession(target: StackTarget, options: OpenOptions = {}): Promise<OperatorSession> {
  if (target.kind === 'local') return openLocalOperatorSession();
  return openDeployedOperatorSession(await resolveStack(target), options);
}
