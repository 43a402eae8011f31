/**
 * Audit checkpoints in an S3 bucket with Object Lock (SEC-5). The bucket is versioned and every
 * object version is locked for the retention the deployment chose, so no role can change or
 * remove a checkpoint before it expires (compliance mode: not even the account's root user). Only the
 * checkpoint function may put objects; the operator lists and reads them.
 *
 * - put: one object per checkpoint, named by its time, with `If-None-Match: *` so a second put of
 *   the same name is refused instead of stacking a version on it.
 * - list: every version of every checkpoint object (ListObjectVersions), not only the latest, so
 *   a version stacked on a name by whoever could still put objects hides nothing.
 */
import { GetObjectCommand, ListObjectVersionsCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { checkpointName, parseCheckpoint, serialiseCheckpoint, type AuditCheckpoint, type StoredCheckpoint } from '../../domain/audit-checkpoint.js';
import type { AuditCheckpointStore } from '../../ports/audit-checkpoints.js';

/** Key prefix of the checkpoint objects. */
export const CHECKPOINT_PREFIX = 'checkpoints/';

export interface S3AuditCheckpointStoreOptions {
  readonly s3: S3Client;
  readonly bucket: string;
}

export class S3AuditCheckpointStore implements AuditCheckpointStore {
  constructor(private readonly options: S3AuditCheckpointStoreOptions) {}

  async put(checkpoint: AuditCheckpoint): Promise<StoredCheckpoint> {
    const key = checkpointName(checkpoint.at);
    const out = await this.options.s3.send(
      new PutObjectCommand({
        Bucket: this.options.bucket,
        Key: key,
        Body: serialiseCheckpoint(checkpoint),
        ContentType: 'application/json',
        IfNoneMatch: '*',
      }),
    );
    return { id: versionId(key, out.VersionId), ...checkpoint };
  }

  async list(): Promise<StoredCheckpoint[]> {
    const versions: { key: string; versionId?: string }[] = [];
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    for (;;) {
      const page = await this.options.s3.send(
        new ListObjectVersionsCommand({ Bucket: this.options.bucket, Prefix: CHECKPOINT_PREFIX, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker }),
      );
      for (const v of page.Versions ?? []) if (v.Key) versions.push({ key: v.Key, ...(v.VersionId ? { versionId: v.VersionId } : {}) });
      if (!page.IsTruncated) break;
      keyMarker = page.NextKeyMarker;
      versionIdMarker = page.NextVersionIdMarker;
    }
    const checkpoints: StoredCheckpoint[] = [];
    for (const v of versions) {
      const out = await this.options.s3.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: v.key, ...(v.versionId ? { VersionId: v.versionId } : {}) }));
      const text = (await out.Body?.transformToString('utf-8')) ?? '';
      checkpoints.push(parseCheckpoint(versionId(v.key, v.versionId), text));
    }
    return checkpoints.sort((a, b) => a.at.localeCompare(b.at) || a.id.localeCompare(b.id));
  }
}

function versionId(key: string, version: string | undefined): string {
  return version ? `${key}?versionId=${version}` : key;
}
