/**
 * SEC-5 on the emulators: `npm run ops -- audit verify` checks the audit chain against every
 * checkpoint, so a rewrite that an attacker with write access to the audit table and the head
 * pointers made consistent (record k changed, every later hash recomputed, the head moved) is
 * found when it reaches back to or before a checkpointed head. Locally the checkpoints are an
 * append-only directory; on the deployed transport an Object Lock bucket, here the moto S3
 * emulator reached through the standard SDK environment (AWS_ENDPOINT_URL_S3).
 */
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand, ListObjectVersionsCommand } from '@aws-sdk/client-s3';
import { PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditCheckpointHandler, AUDIT_CHECKPOINT_EVENT } from '../../functions/audit-checkpoint/app.js';
import { localStackOutputs } from '../../local-runtime/stack.js';
import type { LocalRuntime } from '../../local-runtime/runtime.js';
import { writeOutputsFile } from '../../operator/stack-outputs.js';
import { localOperatorDeps } from '../../operator/local-transport.js';
import { runOps, runOpsCommandLine } from '../../scripts/ops.js';
import { DynamoDbAuditLog } from '../../shared/adapters/aws/dynamodb-audit-log.js';
import { auditHeadKey } from '../../shared/adapters/aws/dynamodb-keys.js';
import { S3AuditCheckpointStore } from '../../shared/adapters/aws/s3-audit-checkpoint-store.js';
import { DirectoryAuditCheckpointStore } from '../../shared/adapters/local/directory-audit-checkpoint-store.js';
import { LOCAL_STACK_NAME, STACK_OUTPUT } from '../../shared/definitions/stack-outputs.js';
import { sealRecord, type ChainedRecord } from '../../shared/domain/audit-chain.js';
import { ConcurrentModificationError, ErrorCode } from '../../shared/domain/errors.js';
import { verifyAudit } from '../../shared/operations/checks.js';
import type { Container } from '../../shared/runtime/container.js';
import { sdkEnvFor, withSdkEnv } from '../support/deployed-env.js';
import { ManualClock, startTestStack, type TestStack } from '../support/local-runtime.js';
import { startMotoS3, type MotoS3 } from '../support/moto-s3.js';

const MINUTE = 60_000;
const STREAM = 'BTC/USDT';

async function append(c: Container, clock: ManualClock, stream: string, count: number): Promise<void> {
  for (let i = 0; i < count; i += 1) await c.audit.append(stream, { type: 'test.decision', data: { n: i, stream } }, clock.advance(1000));
  // The executor's log moves each head once per batch, when its owner settles it (as its handler does).
  await c.audit.settle();
}

async function recordsOf(c: Container, stream: string): Promise<ChainedRecord[]> {
  const out = await c.doc.send(
    new QueryCommand({ TableName: c.config.auditTable, KeyConditionExpression: '#s = :s', ExpressionAttributeNames: { '#s': 'stream' }, ExpressionAttributeValues: { ':s': stream }, ConsistentRead: true }),
  );
  return (out.Items ?? []) as ChainedRecord[];
}

/**
 * What an attacker holding PutItem on the audit table and UpdateItem on the state table can do:
 * change record `seq`'s data, recompute the hash of it and of every later record, overwrite them
 * all, and move the head pointer to the new last hash. The chain alone then verifies.
 */
async function rewriteConsistently(c: Container, stream: string, seq: number): Promise<void> {
  const records = (await recordsOf(c, stream)).sort((a, b) => a.seq - b.seq);
  let prev = records[seq - 2] ? { seq: seq - 1, hash: records[seq - 2]?.hash ?? '' } : null;
  for (const record of records.filter((r) => r.seq >= seq)) {
    const data = record.seq === seq ? { ...record.data, n: 999, note: 'rewritten' } : record.data;
    const forged = sealRecord(stream, prev, { type: record.type, ...(record.correlationId ? { correlationId: record.correlationId } : {}), data }, record.at);
    await c.doc.send(new PutCommand({ TableName: c.config.auditTable, Item: { ...forged } }));
    prev = { seq: forged.seq, hash: forged.hash };
  }
  await c.doc.send(
    new UpdateCommand({
      TableName: c.config.stateTable,
      Key: auditHeadKey(stream),
      UpdateExpression: 'SET #seq = :seq, #hash = :hash',
      ExpressionAttributeNames: { '#seq': 'seq', '#hash': 'hash' },
      ExpressionAttributeValues: { ':seq': prev?.seq, ':hash': prev?.hash },
    }),
  );
}

describe('Audit checkpoints on the local transport (SEC-5)', () => {
  let t: TestStack;
  let runtime: LocalRuntime;
  let dir: string;
  const clock = new ManualClock(new Date(Date.now() - 600 * MINUTE));
  const c = () => runtime.containers.executor;
  const ops = async (...argv: string[]) => {
    const out: string[] = [];
    const code = await runOps(argv, runtime, (line) => out.push(line));
    return { code, out: JSON.parse(out.join('\n')) as { valid: boolean; checkpoints: number; anchored: boolean; problems: { stream: string; seq: number; problem: string }[] } };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tw-checkpoints-'));
    t = await startTestStack({ TW_AUDIT_CHECKPOINT_DIR: dir });
    runtime = t.runtime({ clock });
  });

  afterAll(async () => {
    await t?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('anchors every stream\'s head in a new read-only file and verifies against it', async () => {
    // Prepare
    await append(c(), clock, STREAM, 5);
    await append(c(), clock, 'control', 3);

    // Act
    const result = await runtime.checkpoint();
    await append(c(), clock, STREAM, 2);
    const { code, out } = await ops('audit', 'verify', '--json');

    // Assess
    expect(result).toMatchObject({ streams: 2, records: 8 });
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    expect(statSync(join(dir, files[0] ?? '')).mode & 0o222).toBe(0);
    expect(code).toBe(0);
    expect(out).toMatchObject({ valid: true, checkpoints: 1, anchored: true, problems: [] });
  });

  it('fails verify when a record before the checkpoint is rewritten, even with the chain recomputed and the head moved', async () => {
    // Act: record 3 of a stream anchored at 5, rewritten consistently.
    await rewriteConsistently(c(), STREAM, 3);
    const chainAlone = await c().audit.verify();
    const { code, out } = await ops('audit', 'verify', '--json');

    // Assess: the chain alone cannot see it; the checkpoint does, at the anchored record.
    expect(chainAlone.valid).toBe(true);
    expect(code).toBe(1);
    expect(out.valid).toBe(false);
    expect(out.problems).toEqual([{ stream: STREAM, seq: 5, problem: expect.stringMatching(/^checkpoint-mismatch: record 5 differs from the anchored one/) }]);
  });

  it('never replaces a checkpoint, and refuses to vouch with one it cannot read', async () => {
    const store = new DirectoryAuditCheckpointStore(dir);
    const [first] = await store.list();
    await expect(store.put({ at: first?.at ?? '', heads: {} })).rejects.toBeInstanceOf(ConcurrentModificationError);
    expect((await store.list())[0]).toEqual(first);

    writeFileSync(join(dir, '2099-01-01T00-00-00.000Z.json'), '{"at":"2099-01-01T00:00:00.000Z","heads":{"BTC/USDT":{"seq":1}}}');
    await expect(verifyAudit(localOperatorDeps(runtime))).rejects.toMatchObject({ code: ErrorCode.ValidationFailed, message: expect.stringContaining('malformed') });
  });
});

describe('Audit checkpoints on the deployed transport: Object Lock bucket (moto S3) through the SDK environment (SEC-5)', () => {
  let t: TestStack;
  let runtime: LocalRuntime;
  let moto: MotoS3;
  let outputsDir: string;
  let outputsFile: string;
  let sdkEnv: Record<string, string>;
  const bucket = 'tw-test-audit-checkpoints';
  const clock = new ManualClock(new Date(Date.now() - 600 * MINUTE));
  const c = () => runtime.containers.executor;
  const deployed = async (...argv: string[]) => {
    const out: string[] = [];
    const code = await withSdkEnv(sdkEnv, () => runOpsCommandLine(['--outputs', outputsFile, ...argv], (line) => out.push(line)));
    return { code, out: JSON.parse(out.join('\n')) as { valid: boolean; checkpoints: number; anchored: boolean; problems: { stream: string; seq: number; problem: string }[] } };
  };
  /** The checkpoint function as deployed: its handler over the heads index and the S3 store. */
  const checkpointFunction = () => {
    const s3 = moto.client();
    const handler = createAuditCheckpointHandler({
      heads: new DynamoDbAuditLog({ doc: c().doc, auditTable: t.config.auditTable, stateTable: t.config.stateTable }),
      checkpoints: new S3AuditCheckpointStore({ s3, bucket }),
      clock,
      logger: c().observability.logger,
    });
    return (handler as unknown as (e: unknown, ctx: unknown) => Promise<{ id: string; streams: number }>)(AUDIT_CHECKPOINT_EVENT, {}).finally(() => s3.destroy());
  };

  beforeAll(async () => {
    moto = await startMotoS3();
    await moto.createLockedBucket(bucket);
    t = await startTestStack();
    runtime = t.runtime({ clock });
    outputsDir = mkdtempSync(join(tmpdir(), 'tw-outputs-'));
    outputsFile = join(outputsDir, 'outputs.json');
    writeOutputsFile(outputsFile, LOCAL_STACK_NAME, { ...localStackOutputs(t.stack.env), [STACK_OUTPUT.auditCheckpointBucket]: bucket });
    sdkEnv = { ...sdkEnvFor(t.stack), AWS_ENDPOINT_URL_S3: moto.endpoint };
  }, 60_000);

  afterAll(async () => {
    await t?.stop();
    await moto?.stop();
    if (outputsDir) rmSync(outputsDir, { recursive: true, force: true });
  });

  it('verifies against every checkpoint the function put in the bucket', async () => {
    await append(c(), clock, STREAM, 4);
    const first = await checkpointFunction();
    await append(c(), clock, STREAM, 3);
    await append(c(), clock, 'control', 2);
    clock.advance(15 * MINUTE);
    await checkpointFunction();

    const { code, out } = await deployed('audit', 'verify', '--json');

    expect(first.streams).toBe(1);
    expect(code).toBe(0);
    expect(out).toMatchObject({ valid: true, checkpoints: 2, anchored: true });
  });

  it('keeps each checkpoint: a second put of the same name and a delete of a locked version are refused', async () => {
    const s3 = moto.client();
    try {
      const store = new S3AuditCheckpointStore({ s3, bucket });
      const [first] = await store.list();
      await expect(store.put({ at: first?.at ?? '', heads: {} })).rejects.toMatchObject({ name: 'PreconditionFailed' });
      const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
      const version = versions.Versions?.[0];
      await expect(s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: version?.Key, VersionId: version?.VersionId }))).rejects.toMatchObject({ name: 'AccessDenied' });
      expect(await store.list()).toHaveLength(2);
    } finally {
      s3.destroy();
    }
  });

  it('fails verify when a record before a checkpoint is rewritten consistently, head pointer included', async () => {
    await rewriteConsistently(c(), STREAM, 2);
    expect((await c().audit.verify()).valid).toBe(true);

    const { code, out } = await deployed('audit', 'verify', '--json');

    expect(code).toBe(1);
    // The earliest anchored record that no longer matches: the first checkpoint's head (4).
    expect(out.problems).toEqual([{ stream: STREAM, seq: 4, problem: expect.stringMatching(/^checkpoint-mismatch/) }]);
  });
});
