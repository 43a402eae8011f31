/**
 * `npm run invoke -- <function> <event-file>`: one handler invocation against the local state,
 * printing its JSON result. Exit 1 with a coded error on failure.
 */
import { readFileSync } from 'node:fs';
import { JOBS, type JobName } from '../shared/definitions/schedules.js';
import { ValidationError, toTradewardenError } from '../shared/domain/errors.js';
import { withLocalRuntime } from '../local-runtime/session.js';

async function main(): Promise<void> {
  const [fn, file] = process.argv.slice(2);
  if (!fn || !file || !(JOBS as readonly string[]).includes(fn)) {
    throw new ValidationError(`usage: npm run invoke -- <${JOBS.join('|')}> <event-file>`);
  }
  let event: unknown;
  try {
    event = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ValidationError(`cannot read ${file} as JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  const result = await withLocalRuntime((runtime) => runtime.invoke(fn as JobName, event));
  console.log(JSON.stringify(result, null, 2));
}

main().catch((error: unknown) => {
  console.error(JSON.stringify({ error: toTradewardenError(error).toJSON() }, null, 2));
  process.exit(1);
});
