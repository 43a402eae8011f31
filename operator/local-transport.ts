/**
 * The local transport: the operator ports on the embedded stack (joining a running `npm start`,
 * or starting the emulators on its state for one command).
 */
import type { LocalRuntime } from '../local-runtime/runtime.js';
import { openLocalSession } from '../local-runtime/session.js';
import { SqsDeadLetterRedrive } from '../shared/adapters/aws/sqs-dead-letter-redrive.js';
import type { OperatorDeps } from '../shared/operations/ports.js';
import { operatorDeps } from './deps.js';
import type { OperatorSession } from './session.js';

/** The operator ports of a local runtime (tests use it on their own embedded stack). */
export function localOperatorDeps(runtime: LocalRuntime): OperatorDeps {
  return operatorDeps(runtime.containers.health, {
    health: { run: () => runtime.health() },
    checkpoints: runtime.checkpointStore,
    // The embedded SQS has no message move tasks.
    deadLetters: new SqsDeadLetterRedrive({
      sqs: runtime.sqs,
      queues: { queueUrl: runtime.config.executionQueueUrl, dlqUrl: runtime.config.executionDlqUrl },
      preferMoveTask: false,
    }),
  });
}

export async function openLocalOperatorSession(): Promise<OperatorSession> {
  const local = await openLocalSession();
  return {
    deps: localOperatorDeps(local.runtime),
    container: local.runtime.containers.health,
    target: `local (${local.dataDir})`,
    close: () => local.close(),
  };
}
