/**
 * Audit checkpoints (SEC-5), pure. The hash chain (audit-chain.ts) makes an edit visible only to
 * someone who cannot recompute it: a writer of the audit table and of the head pointers could
 * rewrite record k, recompute every later hash and move the head, and the chain would verify.
 * A checkpoint anchors the chain where no writer can reach: it is each stream's head (sequence and
 * hash) at one moment, stored write-once (S3 Object Lock on AWS, an append-only directory
 * locally). A hash is a commitment to the whole prefix, so a record at or before a checkpointed
 * head that is rewritten, however consistently, changes the hash at that sequence number and no
 * longer matches the checkpoint.
 *
 * Limits, by construction: records appended after the latest checkpoint are anchored only by the
 * next one; a rewrite made before a checkpoint is taken is what that checkpoint anchors.
 */
import * as z from './zod-mini.js';
import type { ChainHead, ChainedRecord } from './audit-chain.js';
import { ValidationError } from './errors.js';

/** Each stream's head at one moment. */
export interface AuditCheckpoint {
  /** ISO-8601 instant the heads were read. */
  readonly at: string;
  readonly heads: Readonly<Record<string, ChainHead>>;
}

/** A checkpoint as stored: where it lives (object key and version, or file name). */
export interface StoredCheckpoint extends AuditCheckpoint {
  readonly id: string;
}

/** A stream whose records no longer agree with a checkpoint. */
export interface CheckpointProblem {
  readonly stream: string;
  readonly seq: number;
  /** The checkpoint's id and time. */
  readonly checkpoint: string;
  readonly detail: string;
}

const HASH = /^[0-9a-f]{64}$/;

const CheckpointSchema = z.strictObject({
  at: z.iso.datetime(),
  heads: z.record(z.string().check(z.minLength(1)), z.strictObject({ seq: z.number().check(z.int(), z.minimum(1)), hash: z.string().check(z.regex(HASH)) })),
});

/** The object name of a checkpoint: its time first, so names sort in time. */
export function checkpointName(at: string): string {
  return `checkpoints/${at.replace(/:/g, '-')}.json`;
}

/** The stored text of a checkpoint (canonical: streams sorted). */
export function serialiseCheckpoint(checkpoint: AuditCheckpoint): string {
  const heads = Object.fromEntries(Object.keys(checkpoint.heads).sort().map((s) => [s, { seq: checkpoint.heads[s]?.seq, hash: checkpoint.heads[s]?.hash }]));
  return `${JSON.stringify({ at: checkpoint.at, heads })}\n`;
}

/**
 * Reads a stored checkpoint.
 * @throws ValidationError naming what is wrong: a checkpoint that cannot be read cannot vouch for anything.
 */
export function parseCheckpoint(id: string, text: string): StoredCheckpoint {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new ValidationError(`audit checkpoint ${id} is not JSON`);
  }
  const parsed = CheckpointSchema.safeParse(raw);
  if (!parsed.success) throw new ValidationError(`audit checkpoint ${id} is malformed: ${parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
  return { id, ...parsed.data };
}

/**
 * Checks the records of every stream against one checkpoint: for each stream it names, the
 * record at the checkpointed sequence number must exist and carry the checkpointed hash. Run
 * together with `verifyChain` (which proves each record's hash and links), a match proves the
 * whole prefix up to that number is what it was when the checkpoint was taken.
 */
export function checkAgainstCheckpoint(recordsByStream: ReadonlyMap<string, readonly ChainedRecord[]>, checkpoint: StoredCheckpoint): CheckpointProblem[] {
  const problems: CheckpointProblem[] = [];
  const label = `${checkpoint.id} (${checkpoint.at})`;
  for (const [stream, head] of Object.entries(checkpoint.heads)) {
    const record = recordsByStream.get(stream)?.find((r) => r.seq === head.seq);
    if (!record) {
      problems.push({ stream, seq: head.seq, checkpoint: label, detail: `record ${head.seq} was anchored by the checkpoint and is gone: deleted` });
    } else if (record.hash !== head.hash) {
      problems.push({ stream, seq: head.seq, checkpoint: label, detail: `record ${head.seq} differs from the anchored one: the stream was rewritten at or before ${head.seq}` });
    }
  }
  return problems;
}
