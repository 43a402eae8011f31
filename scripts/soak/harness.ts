/** The soak's stage: dynalite on its own thread, the simulated clock, reading queues and tables. */
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { Worker as Thread } from 'node:worker_threads';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Clock } from '../../shared/ports/clock.js';
import type { Container } from '../../shared/runtime/container.js';
import type { ExecutorStep } from '../../shared/use-cases/execute-intent.js';

const SOAK_START = new Date('2026-06-01T00:00:00.000Z');

/**
 * dynalite on its own thread (a second core): the functions, fauxqs and the soak share the main
 * thread. fauxqs stays there because it reads the simulated `Date.now`; dynalite keeps no time.
 * Its answers carry no Date header: the SDK compares that header with the (simulated) local
 * clock, and a "skew" of more than five minutes makes it retry every error answer, the
 * conditional-check failures included, as if the clock had been corrected.
 */
const DYNALITE_THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const server = require(workerData.dynalite)({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
server.on('request', (req, res) => { res.sendDate = false; });
server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
`;

export async function startDynamoThread(): Promise<{ endpoint: string; stop: () => Promise<void> }> {
  const thread = new Thread(DYNALITE_THREAD, { eval: true, workerData: { dynalite: createRequire(import.meta.url).resolve('dynalite') } });
  const [port] = (await once(thread, 'message')) as [number];
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: async () => {
      await thread.terminate();
    },
  };
}

/** The simulated clock of the functions, with `Date.now` moving along with it while installed. */
export class SoakClock implements Clock {
  private offset = 0;
  private readonly realNow = Date.now.bind(Date);
  private readonly originalNow = Date.now;

  now(): Date {
    return new Date(SOAK_START.getTime() + this.offset);
  }
  advance(ms: number): void {
    this.offset += ms;
  }
  get elapsedMs(): number {
    return this.offset;
  }
  /** From now on `Date.now()` is real time plus the simulated time that has passed. */
  install(): void {
    Date.now = () => this.realNow() + this.offset;
  }
  uninstall(): void {
    Date.now = this.originalNow;
  }
}

/** The error a killed invocation dies with: not a TradewardenError, so it is retried like a crash. */
export class SimulatedCrash extends Error {
  constructor(step: ExecutorStep) {
    super(`simulated crash at ${step}`);
    this.name = 'SimulatedCrash';
  }
}

export async function queueCounts(sqs: SQSClient, url: string): Promise<number> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'] }),
  );
  const a = out.Attributes ?? {};
  return Number(a.ApproximateNumberOfMessages ?? '0') + Number(a.ApproximateNumberOfMessagesNotVisible ?? '0') + Number(a.ApproximateNumberOfMessagesDelayed ?? '0');
}

export async function scanAll(container: Container, table: string, filter?: { expression: string; values: Record<string, unknown> }): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await container.doc.send(
      new ScanCommand({
        TableName: table,
        ConsistentRead: true,
        ...(filter ? { FilterExpression: filter.expression, ExpressionAttributeValues: filter.values } : {}),
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}
