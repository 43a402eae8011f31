/**
 * Records every AWS call the functions make, as the IAM action it needs and the resource it
 * names, by a middleware on each container's SDK clients (DynamoDB, document client and SQS
 * share stacks) and a stand-in EventBridge endpoint. What a function's code really calls is the
 * oracle of its least privilege (SEC-6).
 */
import type { InitializeMiddleware, MetadataBearer } from '@smithy/types';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JobName } from '../../shared/definitions/schedules.js';
import type { Container } from '../../shared/runtime/container.js';

/** `service:Action` on one named resource (table, `table/index/name`, queue URL, bus, secret). */
export interface RecordedCall {
  readonly job: JobName;
  readonly action: string;
  readonly resource: string;
}

/** SDK command names as IAM actions: the document client's names map to the item actions. */
const DOCUMENT_COMMANDS: Readonly<Record<string, string>> = {
  Get: 'GetItem',
  Put: 'PutItem',
  Update: 'UpdateItem',
  Delete: 'DeleteItem',
  BatchGet: 'BatchGetItem',
  BatchWrite: 'BatchWriteItem',
  TransactGet: 'TransactGetItems',
  TransactWrite: 'TransactWriteItems',
};

function iamAction(service: 'dynamodb' | 'sqs', commandName: string): string {
  const name = commandName.replace(/Command$/, '');
  if (service === 'dynamodb') return `dynamodb:${DOCUMENT_COMMANDS[name] ?? name}`;
  // Batch SQS calls are authorized as their single-message action.
  return `sqs:${name.replace(/Batch$/, '')}`;
}

function resourcesOf(input: Record<string, unknown>): string[] {
  if (typeof input['TableName'] === 'string') {
    return [typeof input['IndexName'] === 'string' ? `${input['TableName']}/index/${input['IndexName']}` : input['TableName']];
  }
  const requestItems = input['RequestItems'];
  if (requestItems && typeof requestItems === 'object') return Object.keys(requestItems);
  if (typeof input['QueueUrl'] === 'string') return [input['QueueUrl']];
  return ['(none)'];
}

export class AwsCallRecorder {
  readonly calls: RecordedCall[] = [];
  #server: Server | undefined;

  /** Records the calls of one job's container. */
  attach(job: JobName, container: Container): void {
    const record = (service: 'dynamodb' | 'sqs'): InitializeMiddleware<object, MetadataBearer> => (next, context) => async (args) => {
      const input = (args.input ?? {}) as Record<string, unknown>;
      for (const resource of resourcesOf(input)) this.calls.push({ job, action: iamAction(service, String(context.commandName)), resource });
      return next(args);
    };
    container.ddb.middlewareStack.add(record('dynamodb') as never, { step: 'initialize', name: `awsCallRecorder-${job}-dynamodb` });
    container.sqs.middlewareStack.add(record('sqs') as never, { step: 'initialize', name: `awsCallRecorder-${job}-sqs` });
  }

  /**
   * An EventBridge endpoint that accepts every PutEvents and records it for `job`. Point the
   * SDK at it with AWS_ENDPOINT_URL_EVENTBRIDGE before the containers are built.
   */
  async startEventBridge(job: JobName): Promise<string> {
    this.#server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const target = String(req.headers['x-amz-target'] ?? '');
        const parsed = JSON.parse(body || '{}') as { Entries?: { EventBusName?: string }[] };
        const entries = parsed.Entries ?? [];
        for (const e of entries) this.calls.push({ job, action: `events:${target.split('.').pop() ?? ''}`, resource: e.EventBusName ?? '(default)' });
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify({ FailedEntryCount: 0, Entries: entries.map((_, i) => ({ EventId: `event-${i}` })) }));
      });
    });
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }

  /** `action resource` pairs per job, sorted and unique. */
  byJob(): Record<string, string[]> {
    const out: Record<string, Set<string>> = {};
    for (const c of this.calls) (out[c.job] ??= new Set()).add(`${c.action} ${c.resource}`);
    return Object.fromEntries(Object.entries(out).map(([job, set]) => [job, [...set].sort()]));
  }
}
