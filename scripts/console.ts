/**
 * `npm run console -- --stage <name> | --outputs <file> [--port N]`: the web console (OPS-9)
 * against a deployed stack, served on 127.0.0.1 with the operator's AWS credentials (the
 * standard AWS SDK environment). It reads the stack's tables and acts through the same operator
 * use cases as `npm run ops`. Prints one `console: http://127.0.0.1:<port>/?token=<token>` line
 * and saves it in .tradewarden/console.json; Ctrl-C stops it.
 *
 * (`npm start` serves the same console for the embedded stack.)
 */
import { parseArgs } from 'node:util';
import { operatorActions } from '../console/actions.js';
import { ConsoleReadModel } from '../console/read-model.js';
import { newSecrets, removeConsoleFile, saveConsoleFile } from '../console/security.js';
import { startConsoleServer, type RunningConsole } from '../console/server.js';
import { DEFAULT_DATA_DIR } from '../local-runtime/stack.js';
import { openOperatorSession, type OperatorSession, type StackTarget } from '../operator/index.js';
import { ValidationError } from '../shared/domain/errors.js';
import { runAsScript } from './run-as-script.js';

const STAGE_NAME = /^[a-z][a-z0-9-]{0,30}$/;
const MAX_PATH_CHARS = 1024;
const USAGE = 'usage: npm run console -- --stage <name> | --outputs <file> [--port N]';

export interface ConsoleOptions {
  readonly target: Exclude<StackTarget, { kind: 'local' }>;
  readonly port: number;
}

/** @throws ValidationError for a bad command line (nothing is opened). */
export function parseConsoleArgs(argv: readonly string[]): ConsoleOptions {
  let values;
  try {
    ({ values } = parseArgs({ args: [...argv], options: { stage: { type: 'string' }, outputs: { type: 'string' }, port: { type: 'string' } } }));
  } catch (error) {
    throw new ValidationError(`${error instanceof Error ? error.message : String(error)}; ${USAGE}`, [], { cause: error });
  }
  if (values.stage !== undefined && !STAGE_NAME.test(values.stage)) throw new ValidationError(`--stage must be a stage name such as dev or prod, got ${JSON.stringify(values.stage)}`);
  if (values.outputs !== undefined && (values.outputs.length === 0 || values.outputs.length > MAX_PATH_CHARS)) throw new ValidationError(`--outputs must be a file path of 1 to ${MAX_PATH_CHARS} characters`);
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new ValidationError(`--port must be 0 to 65535, got ${JSON.stringify(values.port)}`);
  const target: ConsoleOptions['target'] | undefined =
    values.outputs !== undefined
      ? { kind: 'outputs', file: values.outputs, ...(values.stage !== undefined ? { stage: values.stage } : {}) }
      : values.stage !== undefined
        ? { kind: 'stage', stage: values.stage }
        : undefined;
  if (!target) throw new ValidationError(`name the deployed stack; ${USAGE} (npm start serves the local one)`);
  return { target, port };
}

/** Opens the stack and serves its console; the caller stops both. */
export async function serveDeployedConsole(options: ConsoleOptions): Promise<{ session: OperatorSession; web: RunningConsole }> {
  const session = await openOperatorSession(options.target);
  try {
    const web = await startConsoleServer({ read: new ConsoleReadModel(session.container), actions: operatorActions(session.deps), secrets: newSecrets(), port: options.port });
    return { session, web };
  } catch (error) {
    await session.close();
    throw error;
  }
}

runAsScript(import.meta.url, async () => {
  const options = parseConsoleArgs(process.argv.slice(2));
  const { session, web } = await serveDeployedConsole(options);
  const dataDir = process.env.TW_LOCAL_DATA_DIR ?? DEFAULT_DATA_DIR;
  saveConsoleFile(dataDir, web.url, new URL(web.url).searchParams.get('token') ?? '');
  console.log(`console of ${session.target}: Ctrl-C to stop`);
  console.log(`console: ${web.url}`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await web.stop();
  await session.close();
  removeConsoleFile(dataDir);
  return 0;
});
