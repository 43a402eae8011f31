/**
 * Records every AWS call the functions make, as the IAM action it needs and the resource it
 * names, by a middleware on each container's SDK clients (DynamoDB, document client and SQS
 * share stacks, and the EventBridge client) with a stand-in EventBridge endpoint. What a function's code really calls is the
 * oracle of its least privilege (SEC-6).
 */
import type { InitializeMiddleware, MetadataBearer } from '@smithy/types';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JobName } from '../../shared/definitions/schedules.js';
import { EventBridgePublisher } from '../../shared/adapters/aws/event-publishers.js';
import type { Container } from '../../shared/runtime/container.js';

/** `service:Action` on one named resource (table, `table/index/name`, queue URL, bus, secret). */
export interface RecordedCall {
  readonly job: JobName | 'audit-checkpoint';
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

type Service = 'dynamodb' | 'sqs' | 'events' | 's3' | 'cloudwatch';

function iamAction(service: Service, commandName: string): string {
  const name = commandName.replace(/Command$/, '');
  if (service === 's3') return `s3:${name}`;
  if (service === 'cloudwatch') return `cloudwatch:${name}`;
  if (service === 'events') return `events:${name}`;
  if (service === 'dynamodb') return `dynamodb:${DOCUMENT_COMMANDS[name] ?? name}`;
  // Batch SQS calls are authorized as their single-message action.
  return `sqs:${name.replace(/Batch$/, '')}`;
}

function resourcesOf(service: Service, input: Record<string, unknown>): string[] {
  // CloudWatch's metric reads name no resource an IAM policy can scope.
  if (service === 'cloudwatch') return ['*'];
  // S3: the bucket and the object key (its first path segment is what a policy's prefix names).
  if (service === 's3' && typeof input['Bucket'] === 'string') return [typeof input['Key'] === 'string' ? `${input['Bucket']}/${input['Key']}` : input['Bucket']];
  if (typeof input['TableName'] === 'string') {
    return [typeof input['IndexName'] === 'string' ? `${input['TableName']}/index/${input['IndexName']}` : input['TableName']];
  }
  const entries = input['Entries'];
  if (service === 'events' && Array.isArray(entries)) return entries.map((e: { EventBusName?: string }) => e.EventBusName ?? '(default)');
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
    const record = (service: 'dynamodb' | 'sqs' | 'events'): InitializeMiddleware<object, MetadataBearer> => (next, context) => async (args) => {
      const input = (args.input ?? {}) as Record<string, unknown>;
      for (const resource of resourcesOf(service, input)) this.calls.push({ job, action: iamAction(service, String(context.commandName)), resource });
      return next(args);
    };
    container.ddb.middlewareStack.add(record('dynamodb') as never, { step: 'initialize', name: `awsCallRecorder-${job}-dynamodb` });
    container.sqs.middlewareStack.add(record('sqs') as never, { step: 'initialize', name: `awsCallRecorder-${job}-sqs` });
    // Every job's audit log may announce a decision on the bus: its publishes are its own calls.
    if (container.events instanceof EventBridgePublisher) {
      container.events.client.middlewareStack.add(record('events') as never, { step: 'initialize', name: `awsCallRecorder-${job}-events` });
    }
  }

  /** Records the calls one SDK client makes outside a container (the audit checkpoint, health's CloudWatch client). */
  attachClient(job: RecordedCall['job'], service: 'dynamodb' | 's3' | 'cloudwatch', client: { middlewareStack: { add(middleware: never, options: { step: 'initialize'; name: string }): void } }): void {
    const record: InitializeMiddleware<object, MetadataBearer> = (next, context) => async (args) => {
      const input = (args.input ?? {}) as Record<string, unknown>;
      for (const resource of resourcesOf(service, input)) this.calls.push({ job, action: iamAction(service, String(context.commandName)), resource });
      return next(args);
    };
    client.middlewareStack.add(record as never, { step: 'initialize', name: `awsCallRecorder-${job}-${service}` });
  }

  /**
   * An EventBridge endpoint that accepts every PutEvents (each job's publishes are recorded by
   * `attach`). Point the SDK at it with AWS_ENDPOINT_URL_EVENTBRIDGE before the containers are
   * built.
   */
  async startEventBridge(): Promise<string> {
    this.#server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const parsed = JSON.parse(body || '{}') as { Entries?: { EventBusName?: string }[] };
        const entries = parsed.Entries ?? [];
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
