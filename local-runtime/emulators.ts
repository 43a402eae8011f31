/**
 * Embedded DynamoDB (dynalite) and SQS (fauxqs) on 127.0.0.1. Used by `npm start`,
 * `npm run invoke`, `npm run ops` and the integration tests (port 0, in memory).
 */
import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import type { AddressInfo, Server } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildApp } from 'fauxqs';

const require = createRequire(import.meta.url);

export interface RunningEmulator {
  readonly endpoint: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** Loopback only: never bind every interface. */
const HOST = '127.0.0.1';

/** Starts dynalite. With `path` its LevelDB data lives on disk and survives a restart. */
export async function startDynamo(options: { port?: number; path?: string } = {}): Promise<RunningEmulator> {
  const dynalite = require('dynalite') as (opts: Record<string, unknown>) => Server;
  if (options.path) mkdirSync(options.path, { recursive: true });
  const server = dynalite({
    ...(options.path ? { path: options.path } : {}),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, HOST, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://${HOST}:${port}`,
    port,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

/**
 * Starts fauxqs. In memory by default; with `dataDir` its queues and messages (ready, delayed
 * and in flight) are kept in SQLite and survive a restart. fauxqs only wires persistence in
 * `startFauxqs`, which binds every interface, so the same wiring is done here on loopback with
 * its store classes (fauxqs is pinned; its package exports only the app entry).
 */
export async function startSqs(options: { port?: number; dataDir?: string } = {}): Promise<RunningEmulator> {
  const stores = options.dataDir ? await persistentFauxqsStores(options.dataDir) : undefined;
  const app = buildApp({ logger: false, host: HOST, ...(stores ? { stores: stores.stores } : {}) });
  if (stores) app.addHook('preClose', () => stores.close());
  await app.listen({ port: options.port ?? 0, host: HOST });
  const address = app.server.address() as AddressInfo;
  return {
    endpoint: `http://${HOST}:${address.port}`,
    port: address.port,
    stop: async () => {
      await app.close();
    },
  };
}

interface PersistentStores {
  readonly stores: NonNullable<Parameters<typeof buildApp>[0]>['stores'] & object;
  close(): void;
}

async function persistentFauxqsStores(dataDir: string): Promise<PersistentStores> {
  mkdirSync(dataDir, { recursive: true });
  const dist = dirname(fileURLToPath(import.meta.resolve('fauxqs')));
  const load = async (file: string) => (await import(pathToFileURL(join(dist, file)).href)) as Record<string, new (...args: unknown[]) => never>;
  const { SqsStore } = await load('sqs/sqsStore.js');
  const { SnsStore } = await load('sns/snsStore.js');
  const { S3Store } = await load('s3/s3Store.js');
  const { PersistenceManager } = await load('persistence.js');
  if (!SqsStore || !SnsStore || !S3Store || !PersistenceManager) throw new Error('unexpected fauxqs layout: cannot enable persistence');
  type Persisting = { persistence?: unknown; allQueues?: () => { persistence?: unknown }[] };
  const sqsStore = new SqsStore() as unknown as Persisting;
  const snsStore = new SnsStore() as unknown as Persisting;
  const s3Store = new S3Store() as unknown as Persisting;
  const manager = new PersistenceManager(dataDir) as unknown as { load(a: unknown, b: unknown, c: unknown): void; close(): void };
  manager.load(sqsStore, snsStore, s3Store);
  sqsStore.persistence = manager;
  snsStore.persistence = manager;
  s3Store.persistence = manager;
  for (const queue of sqsStore.allQueues?.() ?? []) queue.persistence = manager;
  return {
    stores: { sqsStore, snsStore, s3Store } as unknown as PersistentStores['stores'],
    close: () => manager.close(),
  };
}
