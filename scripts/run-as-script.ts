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
    .then((code) => process.exit(code))
    .catch((error: unknown) => {
      console.error(JSON.stringify({ error: toTradewardenError(error).toJSON() }, null, 2));
      process.exit(1);
    });
}

function samePath(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    // A path that cannot be resolved is not this module.
    return false;
  }
}
