/**
 * One process at a time owns the local state directory (.tradewarden/): `npm start`, or a single
 * `npm run invoke` / `npm run ops` that starts the emulators on it when no `npm start` runs.
 * dynalite's LevelDB and fauxqs's SQLite cannot be opened twice, so a second owner would fail with
 * a bare "Database is closed".
 *
 * The lock is a proper-lockfile directory lock (`state.lock`, an atomic mkdir whose mtime the
 * owner refreshes) plus an owner record (`state.owner.json`: pid, process start time, role).
 * A lock whose owner is gone is taken over at once; "gone" includes a zombie (killed but not yet
 * reaped: in containers PID 1 often never reaps) and a pid reused by an unrelated process (the
 * start time differs). A lock whose owner cannot be judged (another host, no /proc) is taken
 * over when proper-lockfile finds it stale (no refresh for STATE_LOCK_STALE_MS).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';

/** A lock not refreshed for this long is stale; the owner refreshes it every STATE_LOCK_UPDATE_MS. */
export const STATE_LOCK_STALE_MS = 30_000;
export const STATE_LOCK_UPDATE_MS = 5_000;
/** Pause between two attempts while the lock is held by a live owner we wait for. */
const RETRY_EVERY_MS = 250;

const LOCK_DIR = 'state.lock';
const OWNER_FILE = 'state.owner.json';

/** Who holds the state: `npm start`, or one command (invoke, ops) on its own embedded stack. */
export type StateRole = 'npm-start' | 'command';

export interface StateOwner {
  readonly pid: number;
  /** Process start time in clock ticks since boot (Linux /proc), to tell a reused pid. */
  readonly startTicks: string | null;
  readonly host: string;
  readonly role: StateRole;
  readonly command: string;
  readonly acquiredAt: string;
  /** Identity of the lock directory this record describes (inode and birth time). */
  readonly lock: { readonly ino: number; readonly birthtimeMs: number };
}

/** Why the previous owner counts as gone. */
export type GoneReason = 'exited' | 'zombie' | 'pid-reused' | 'stale';

export interface Recovered {
  readonly previous: StateOwner | null;
  readonly reason: GoneReason;
}

export interface HeldStateLock {
  /** The previous owner, when it did not release the lock (killed, crashed, power loss). */
  readonly recovered: Recovered | null;
  release(): Promise<void>;
}

/** The state of a process as far as this machine can tell. */
export type ProcessState = 'alive' | 'exited' | 'zombie' | 'pid-reused' | 'unknown';

/** `/proc/<pid>/stat` fields after the command name: state is the first, starttime the 20th. */
function procStat(pid: number | 'self'): { state: string; startTicks: string } | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name is in parentheses and may itself contain spaces or parentheses.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '', startTicks: fields[19] ?? '' };
}

const hasProc = (): boolean => procStat('self') !== null;

/** This process's start time in clock ticks since boot, or null without /proc. */
export function ownStartTicks(): string | null {
  return procStat('self')?.startTicks ?? null;
}

/**
 * Whether `pid` (started at `startTicks`) still runs. A zombie and a reused pid are not running.
 * Without /proc only "exited" (no such process) can be told from "alive".
 */
export function processState(pid: number, startTicks: string | null): ProcessState {
  if (hasProc()) {
    const stat = procStat(pid);
    if (!stat) return 'exited';
    if (stat.state === 'Z' || stat.state === 'X') return 'zombie';
    if (startTicks !== null && stat.startTicks !== startTicks) return 'pid-reused';
    return 'alive';
  }
  try {
    process.kill(pid, 0);
    return 'alive';
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH' ? 'exited' : 'alive';
  }
}

/** Whether an owner record's process is gone, and why; null while it (or someone we cannot judge) lives. */
export function ownerGone(owner: Pick<StateOwner, 'pid' | 'startTicks' | 'host'>): Exclude<GoneReason, 'stale'> | null {
  if (owner.host !== hostname()) return null;
  const state = processState(owner.pid, owner.startTicks);
  return state === 'exited' || state === 'zombie' || state === 'pid-reused' ? state : null;
}

function readOwner(dataDir: string): StateOwner | null {
  try {
    return JSON.parse(readFileSync(join(dataDir, OWNER_FILE), 'utf8')) as StateOwner;
  } catch {
    return null;
  }
}

function lockIdentity(dataDir: string): { ino: number; birthtimeMs: number } | null {
  try {
    const s = statSync(join(dataDir, LOCK_DIR));
    return { ino: s.ino, birthtimeMs: s.birthtimeMs };
  } catch {
    return null;
  }
}

/** The current holder of the state lock, when its record describes the lock directory that exists now. */
export function currentOwner(dataDir: string): StateOwner | null {
  const owner = readOwner(dataDir);
  const lock = lockIdentity(dataDir);
  if (!owner || !lock) return null;
  return owner.lock.ino === lock.ino && owner.lock.birthtimeMs === lock.birthtimeMs ? owner : null;
}

export interface AcquireOptions {
  readonly role: StateRole;
  /** What runs, for the messages of whoever waits for this lock. */
  readonly command: string;
  /**
   * Called while a live owner holds the lock: 'wait' keeps trying, 'give-up' stops and returns
   * null. Without it, acquire waits.
   */
  readonly whileHeld?: (owner: StateOwner | null) => 'wait' | 'give-up';
  /** How long to keep trying. @default STATE_LOCK_STALE_MS + 5 s (a dead owner's lock is stale by then) */
  readonly waitMs?: number;
  /** Called when the lock is lost to another process after it was acquired (it went stale). */
  readonly onCompromised?: (error: Error) => void;
}

/** The lock is held by a live owner for longer than the caller waits. */
export class StateBusyError extends Error {
  constructor(readonly owner: StateOwner | null) {
    super(owner ? `held by ${owner.command} (pid ${owner.pid}) since ${owner.acquiredAt}` : 'held by a process that is starting');
    this.name = 'StateBusyError';
  }
}

/**
 * Takes the state lock of `dataDir`, taking over from an owner that is gone.
 * @returns the held lock, or null when `whileHeld` gave up.
 * @throws StateBusyError after `waitMs` while a live owner holds it.
 */
export async function acquireStateLock(dataDir: string, options: AcquireOptions): Promise<HeldStateLock | null> {
  mkdirSync(dataDir, { recursive: true });
  const deadline = Date.now() + (options.waitMs ?? STATE_LOCK_STALE_MS + 5_000);
  const lockfilePath = join(dataDir, LOCK_DIR);
  const previous = readOwner(dataDir);
  let recovered: Recovered | null = null;
  for (;;) {
    const hadLock = existsSync(lockfilePath);
    try {
      const release = await lockfile.lock(dataDir, {
        lockfilePath,
        realpath: false,
        stale: STATE_LOCK_STALE_MS,
        update: STATE_LOCK_UPDATE_MS,
        retries: 0,
        onCompromised: options.onCompromised ?? ((error) => console.error(`tradewarden: lost the lock on ${dataDir}: ${error.message}`)),
      });
      // proper-lockfile removed a stale lock on the way in: its owner never refreshed it again.
      if (hadLock && !recovered) recovered = { previous, reason: 'stale' };
      const identity = lockIdentity(dataDir);
      const owner: StateOwner = {
        pid: process.pid,
        startTicks: ownStartTicks(),
        host: hostname(),
        role: options.role,
        command: options.command,
        acquiredAt: new Date().toISOString(),
        lock: identity ?? { ino: 0, birthtimeMs: 0 },
      };
      const temp = join(dataDir, `${OWNER_FILE}.${process.pid}.tmp`);
      writeFileSync(temp, JSON.stringify(owner, null, 2));
      renameSync(temp, join(dataDir, OWNER_FILE));
      return {
        recovered,
        release: async () => {
          if (currentOwner(dataDir)?.pid === process.pid) rmSync(join(dataDir, OWNER_FILE), { force: true });
          await release();
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') throw error;
    }
    const owner = currentOwner(dataDir);
    const gone = owner ? ownerGone(owner) : null;
    if (owner && gone) {
      // Take over: the owner will never release it. Removing the directory lets mkdir win again.
      recovered = { previous: owner, reason: gone };
      rmSync(lockfilePath, { recursive: true, force: true });
      continue;
    }
    if (options.whileHeld?.(owner) === 'give-up') return null;
    if (Date.now() > deadline) throw new StateBusyError(owner);
    await new Promise((resolve) => setTimeout(resolve, RETRY_EVERY_MS));
  }
}
