/**
 * An S3 (and CloudWatch) emulator for the tests that point the real AWS SDK at AWS: Python's moto server (it ships
 * with this project's machines: `python3 -m moto.server`), on 127.0.0.1 and a free port, stopped
 * by the test that started it. moto implements versioning, Object Lock (a locked version cannot
 * be deleted) and conditional puts (`If-None-Match`), which is what the checkpoint store relies on.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { CreateBucketCommand, PutObjectLockConfigurationCommand, S3Client } from '@aws-sdk/client-s3';
import { TEST_CREDENTIALS, TEST_REGION } from './emulators.js';

export interface MotoS3 {
  readonly endpoint: string;
  readonly pid: number;
  /** A client with the test credentials (path-style addressing, as the emulator needs). */
  client(): S3Client;
  /** A bucket with Object Lock on and a default retention, as the stack creates it. */
  createLockedBucket(name: string, mode?: 'COMPLIANCE' | 'GOVERNANCE'): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  server.close();
  await once(server, 'close');
  return port;
}

/** @throws Error saying how to install moto when it is missing. */
export async function startMotoS3(): Promise<MotoS3> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const ended = once(child, 'close');
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto server did not start (install it with: pip install 'moto[server]'):\n${output}`);
    try {
      const res = await fetch(`${endpoint}/moto-api/`);
      if (res.status < 500) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new Error(`moto server not ready on ${endpoint} within 30 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const client = () => new S3Client({ endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS, forcePathStyle: true });
  return {
    endpoint,
    pid: child.pid ?? -1,
    client,
    async createLockedBucket(name, mode = 'COMPLIANCE') {
      const s3 = client();
      try {
        await s3.send(new CreateBucketCommand({ Bucket: name, ObjectLockEnabledForBucket: true }));
        await s3.send(new PutObjectLockConfigurationCommand({ Bucket: name, ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: mode, Days: 1 } } } }));
      } finally {
        s3.destroy();
      }
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await ended;
      }
    },
  };
}
