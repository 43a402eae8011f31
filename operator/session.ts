/**
 * An open connection to one stack: the operator ports and how to let go of them.
 */
import type { OperatorDeps } from '../shared/operations/ports.js';

export interface OperatorSession {
  readonly deps: OperatorDeps;
  /** Which stack this is, for messages: `local (.tradewarden)` or `Tradewarden-prod`. */
  readonly target: string;
  close(): Promise<void>;
}

/** Runs `fn` on an open session and always closes it. */
export async function withSession<T>(session: OperatorSession, fn: (deps: OperatorDeps) => Promise<T>): Promise<T> {
  try {
    return await fn(session.deps);
  } finally {
    await session.close();
  }
}
