/**
 * Embedded DynamoDB (dynalite) and SQS (fauxqs) on 127.0.0.1. Used by `npm start`,
 * `npm run invoke`, `npm run ops` and the integration tests (port 0, in memory).
 */
import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import type { AddressInfo, Server } from 'node:net';
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

/** Starts fauxqs (in memory). Its queue URLs use a `sqs.<region>.localhost` host: clients need an explicit endpoint. */
export async function startSqs(options: { port?: number } = {}): Promise<RunningEmulator> {
  const app = buildApp({ logger: false, host: HOST });
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
