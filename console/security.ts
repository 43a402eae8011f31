/**
 * The console's secrets (SEC-7): a random token per start, and the CSRF token derived from it.
 * The token opens every page and API call; a state change also needs the CSRF token in a header,
 * which a page on another origin cannot read or set.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Cookie that carries the token after the first page load (HttpOnly, SameSite=Strict). */
export const TOKEN_COOKIE = 'tw_console';
/** Header a state-changing call carries the CSRF token in. */
export const CSRF_HEADER = 'x-csrf-token';

export interface ConsoleSecrets {
  readonly token: string;
  readonly csrf: string;
}

export function newSecrets(): ConsoleSecrets {
  const token = randomBytes(32).toString('base64url');
  return { token, csrf: csrfFor(token) };
}

export function csrfFor(token: string): string {
  return createHmac('sha256', token).update('tradewarden-console-csrf').digest('base64url');
}

export { sameSecret } from '../shared/runtime/secrets.js';

/** Saves the console's address for the operator (owner-only file in the data directory). */
export function saveConsoleFile(dataDir: string, url: string, token: string): string {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'console.json');
  writeFileSync(file, JSON.stringify({ url, token, pid: process.pid }, null, 2), { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}

/** Removes the saved address when the console stops: its token opens nothing any more. */
export function removeConsoleFile(dataDir: string): void {
  rmSync(join(dataDir, 'console.json'), { force: true });
}
