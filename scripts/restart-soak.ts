/**
 * `npm run restart-soak -- [--kills 20] [--max-delay-ms 20000] [--seed s]`
 *
 * Kills `npm start` with SIGKILL at random moments, again and again, on one state directory
 * (a fresh temporary one), and checks that no start is ever refused: each start must still be
 * running when it is killed (a refused start exits by itself), and a last start after the
 * loop must take over, say what it recovered and complete a scanner cycle. Exit 1 otherwise.
 * The moments are seeded: some kills land while the emulators open their files, some while
 * jobs run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ValidationError } from '../shared/domain/errors.js';
import { seededRandom } from '../testkit/seeded-random.js';
import { START_CYCLE, START_READY, START_RECOVERED, startProcess } from '../testkit/local-processes.js';
import { runAsScript } from './run-as-script.js';

const READY_MS = 180_000;

export interface RestartSoakResult {
  readonly kills: number;
  readonly refused: number;
  readonly recoveredLines: number;
  /** How many kills landed in each phase of a start. */
  readonly killedWhile: Readonly<Record<string, number>>;
  readonly finalCycle: boolean;
  readonly seconds: number;
}

export async function restartSoak(options: { kills: number; maxDelayMs: number; seed: string; log?: (line: string) => void }): Promise<RestartSoakResult> {
  const log = options.log ?? (() => undefined);
  const random = seededRandom(options.seed);
  const dataDir = mkdtempSync(join(tmpdir(), 'tw-restart-soak-'));
  const env = { TW_LOCAL_DATA_DIR: dataDir, POWERTOOLS_LOG_LEVEL: 'ERROR' };
  const began = Date.now();
  let refused = 0;
  let recoveredLines = 0;
  const phases: Record<string, number> = {};
  try {
    for (let i = 1; i <= options.kills; i += 1) {
      const p = startProcess('scripts/start.ts', [], env);
      const delay = Math.floor(random() * options.maxDelayMs);
      const ended = await Promise.race([p.exited.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), delay))]);
      if (ended) {
        refused += 1;
        log(`#${i}: start ended by itself before the kill: ${p.output().trim().split('\n').slice(-3).join(' / ')}`);
        continue;
      }
      p.child.kill('SIGKILL');
      await p.exited;
      const phase = START_CYCLE.test(p.output()) ? 'running jobs' : START_READY.test(p.output()) ? 'stack up' : p.output().trim() ? 'starting the stack' : 'loading';
      phases[phase] = (phases[phase] ?? 0) + 1;
      if (START_RECOVERED.test(p.output())) recoveredLines += 1;
      log(`#${i}: killed pid ${p.pid} after ${delay} ms while ${phase}${START_RECOVERED.test(p.output()) ? ' (it had recovered from an earlier kill)' : ''}`);
    }
    const last = startProcess('scripts/start.ts', [], env);
    let finalCycle = false;
    try {
      await last.waitFor(START_CYCLE, READY_MS);
      finalCycle = true;
      if (START_RECOVERED.test(last.output())) recoveredLines += 1;
      log(`final start: ${last.output().split('\n').find((l) => START_RECOVERED.test(l)) ?? '(no recovery line)'}`);
    } catch (error) {
      log(`final start failed: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      last.child.kill('SIGINT');
      await last.exited;
    }
    return { kills: options.kills, refused, recoveredLines, killedWhile: phases, finalCycle, seconds: Math.round((Date.now() - began) / 1000) };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { kills: { type: 'string', default: '20' }, 'max-delay-ms': { type: 'string', default: '20000' }, seed: { type: 'string', default: 'restart' }, json: { type: 'boolean', default: false } } });
  const kills = Number(values.kills);
  const maxDelayMs = Number(values['max-delay-ms']);
  if (!Number.isInteger(kills) || kills < 1 || kills > 1000) throw new ValidationError('--kills must be 1 to 1000');
  if (!Number.isInteger(maxDelayMs) || maxDelayMs < 0 || maxDelayMs > 600_000) throw new ValidationError('--max-delay-ms must be 0 to 600000');
  const result = await restartSoak({ kills, maxDelayMs, seed: values.seed, log: values.json ? undefined : (l) => console.log(l) });
  console.log(values.json ? JSON.stringify(result) : `kills ${result.kills} (while ${Object.entries(result.killedWhile).map(([k, n]) => `${k} ${n}`).join(', ')}) | refused ${result.refused} | recovery lines ${result.recoveredLines} | final start cycled ${result.finalCycle} | ${result.seconds} s`);
  return result.refused === 0 && result.finalCycle ? 0 : 1;
}

runAsScript(import.meta.url, main);
