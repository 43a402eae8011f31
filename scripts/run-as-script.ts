/**
 * Runs `main` when the module is the script node was started with (not when a test imports it),
 * exiting with its code; a failure prints a coded error and exits 1.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { toTradewardenError } from '../shared/domain/errors.js';

export function runAsScript(moduleUrl: string, main: () => Promise<number>): void {
  const script = process.argv[1];
  if (!script || !samePath(script, fileURLToPath(moduleUrl))) return;
  main()
    .then((code) => exitWhenWritten(code))
    .catch((error: unknown) => {
      console.error(JSON.stringify({ error: toTradewardenError(error).toJSON() }, null, 2));
      exitWhenWritten(1);
    });
}

/**
 * Exits once stdout and stderr have taken everything written to them: writes to a pipe are
 * asynchronous, and exiting at once cut a large `--json` report piped to another program at 64 KiB.
 */
function exitWhenWritten(code: number): void {
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

function samePath(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    // A path that cannot be resolved is not this module.
    return false;
  }
}
