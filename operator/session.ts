/**
 * An open connection to one stack: the operator ports and how to let go of them.
 */
import type { OperatorDeps } from '../shared/operations/ports.js';
import type { Container } from '../shared/runtime/container.js';

export interface OperatorSession {
  readonly deps: OperatorDeps;
  /** The wired container behind the ports, for read views beyond them (the web console). */
  readonly container: Container;
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
