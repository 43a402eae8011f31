/**
 * `emergency-stop --all` asks for a typed phrase on a terminal (RISK-2): the prompt of the ops
 * command line, run as a real process on a pseudo-terminal (util-linux `script`) and on a pipe.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PROBE = join(ROOT, 'test', 'fixtures', 'confirm-probe.ts');
const node = `${JSON.stringify(process.execPath)} --import tsx ${JSON.stringify(PROBE)}`;

/** Runs the probe, typing `typed` once it has asked; resolves with everything it printed. */
function run(typed: string, terminal: boolean): Promise<string> {
  const child = terminal ? spawn('script', ['-qec', node, '/dev/null'], { cwd: ROOT }) : spawn('sh', ['-c', node], { cwd: ROOT });
  let output = '';
  let sent = false;
  return new Promise((resolve, reject) => {
    const take = (chunk: Buffer) => {
      output += chunk.toString();
      if (!sent && /Type "cancel all" to confirm:/.test(output)) {
        sent = true;
        child.stdin.write(`${typed}\n`);
      }
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', reject);
    child.on('close', () => resolve(output));
    // Off a terminal nothing is asked: stdin simply closes.
    if (!terminal) child.stdin.end();
  });
}

describe('Ops: typed confirmation of emergency-stop --all', () => {
  it.skipIf(!existsSync('/usr/bin/script'))('confirms on a terminal only when the phrase is typed', async () => {
    expect(await run('cancel all', true)).toMatch(/Type "cancel all" to confirm:[\s\S]*DECIDED: confirmed/);
    expect(await run('yes', true)).toMatch(/DECIDED: refused/);
  }, 120_000);

  it('asks nothing and refuses off a terminal', async () => {
    const output = await run('cancel all', false);
    expect(output).not.toMatch(/to confirm/);
    expect(output).toMatch(/DECIDED: refused/);
  }, 120_000);
});
