/**
 * Audit checkpoints in a local directory (SEC-5), for `npm start` and the local operator tools:
 * the same port as the S3 bucket. Append-only: each checkpoint is a new read-only file created
 * with O_EXCL (`wx`), so an existing checkpoint is never replaced, and nothing here removes one.
 * The directory lives beside the embedded stack's state, outside the DynamoDB emulator that
 * holds the audit log.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { checkpointName, parseCheckpoint, serialiseCheckpoint, type AuditCheckpoint, type StoredCheckpoint } from '../../domain/audit-checkpoint.js';
import { ConcurrentModificationError } from '../../domain/errors.js';
import type { AuditCheckpointStore } from '../../ports/audit-checkpoints.js';

export class DirectoryAuditCheckpointStore implements AuditCheckpointStore {
  constructor(private readonly dir: string) {}

  /** @throws ConcurrentModificationError when a checkpoint of the same instant exists (it is kept). */
  async put(checkpoint: AuditCheckpoint): Promise<StoredCheckpoint> {
    await mkdir(this.dir, { recursive: true });
    const name = basename(checkpointName(checkpoint.at));
    try {
      await writeFile(join(this.dir, name), serialiseCheckpoint(checkpoint), { flag: 'wx', mode: 0o444 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new ConcurrentModificationError(`audit checkpoint ${name} exists already and is never replaced`, { details: { name } });
      }
      throw error;
    }
    return { id: name, ...checkpoint };
  }

  async list(): Promise<StoredCheckpoint[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const checkpoints: StoredCheckpoint[] = [];
    for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
      checkpoints.push(parseCheckpoint(name, await readFile(join(this.dir, name), 'utf8')));
    }
    return checkpoints.sort((a, b) => a.at.localeCompare(b.at) || a.id.localeCompare(b.id));
  }
}
