/**
 * `npm run invoke -- [--stage <name> | --outputs <file>] <function> <event-file>`: one invocation
 * of a function with a payload from events/, printing its JSON result. Exit 1 with a coded error
 * on failure.
 *
 * Without `--stage`/`--outputs` the handler runs against the local state (joining a running
 * `npm start`, or opening the state itself). With them, the deployed function is called with
 * Lambda Invoke (its name from the stack's `<Job>FunctionName` output), with the operator's
 * AWS credentials and region.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { invokeDeployed } from '../operator/invoke-deployed.js';
import { resolveStack, type StackTarget } from '../operator/index.js';
import { JOBS, type JobName } from '../shared/definitions/schedules.js';
import { ValidationError, toTradewardenError } from '../shared/domain/errors.js';
import { withLocalRuntime } from '../local-runtime/session.js';

const STAGE_NAME = /^[a-z][a-z0-9-]{0,30}$/;
const usage = () => `usage: npm run invoke -- [--stage <name> | --outputs <file>] <${JOBS.join('|')}> <event-file>`;

export interface InvokeCommandLine {
  readonly job: JobName;
  readonly event: unknown;
  readonly target: StackTarget;
}

/** @throws ValidationError for a bad command line or an unreadable event file. */
export function parseInvokeArgs(argv: readonly string[]): InvokeCommandLine {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], allowPositionals: true, options: { stage: { type: 'string' }, outputs: { type: 'string' } } });
  } catch (error) {
    throw new ValidationError(`${error instanceof Error ? error.message : String(error)}; ${usage()}`, [], { cause: error });
  }
  const [fn, file, ...extra] = parsed.positionals;
  if (!fn || !file || extra.length > 0 || !(JOBS as readonly string[]).includes(fn)) throw new ValidationError(usage());
  const { stage, outputs } = parsed.values;
  if (stage !== undefined && !STAGE_NAME.test(stage)) throw new ValidationError(`--stage must be a stage name such as dev or prod, got ${JSON.stringify(stage)}`);
  if (outputs !== undefined && outputs.trim() === '') throw new ValidationError('--outputs needs a file');
  let event: unknown;
  try {
    event = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ValidationError(`cannot read ${file} as JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  const target: StackTarget =
    outputs !== undefined ? { kind: 'outputs', file: outputs, ...(stage !== undefined ? { stage } : {}) } : stage !== undefined ? { kind: 'stage', stage } : { kind: 'local' };
  return { job: fn as JobName, event, target };
}

export async function runInvoke(argv: readonly string[]): Promise<unknown> {
  const { job, event, target } = parseInvokeArgs(argv);
  if (target.kind === 'local') return withLocalRuntime((runtime) => runtime.invoke(job, event), { command: `npm run invoke -- ${job}` });
  return invokeDeployed(await resolveStack(target), job, event);
}

function isEntryPoint(): boolean {
  return (process.argv[1] ?? '').replace(/\\/g, '/').endsWith('scripts/invoke.ts');
}

if (isEntryPoint()) {
  runInvoke(process.argv.slice(2))
    .then((result) => {
      console.log(JSON.stringify(result, null, 2));
    })
    .catch((error: unknown) => {
      console.error(JSON.stringify({ error: toTradewardenError(error).toJSON() }, null, 2));
      process.exit(1);
    });
}
