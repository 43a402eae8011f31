/**
 * The age of the oldest message of each queue on the embedded SQS (fauxqs), for health: what
 * CloudWatch's ApproximateAgeOfOldestMessage is on AWS. fauxqs answers it without touching the
 * messages (`GET /_fauxqs/queues/<name>`: ready, delayed and in-flight messages with the time they
 * were sent), so reading it changes no receive count and no visibility. Local only.
 */
import { StorageError } from '../shared/domain/errors.js';
import type { QueueAgeReader } from '../shared/ports/intent-queue.js';

interface InspectedMessage {
  readonly sentTimestamp?: unknown;
}

interface InspectedQueue {
  readonly messages?: {
    readonly ready?: readonly InspectedMessage[];
    readonly delayed?: readonly InspectedMessage[];
    readonly inflight?: readonly { readonly message?: InspectedMessage }[];
  };
}

export interface FauxqsQueueAgesOptions {
  /** The emulator's endpoint (http://127.0.0.1:port). */
  readonly endpoint: string;
  /** Name (as health reports it) -> queue URL. */
  readonly queues: Readonly<Record<string, string>>;
  /** The emulator's clock (it stamps messages with the wall clock). @default Date.now */
  readonly now?: () => number;
}

export class FauxqsQueueAges implements QueueAgeReader {
  constructor(private readonly options: FauxqsQueueAgesOptions) {}

  async oldestAges(): Promise<Readonly<Record<string, number>>> {
    const ages: Record<string, number> = {};
    for (const [name, url] of Object.entries(this.options.queues)) {
      // The queue's name is the last segment of its URL (whose host fauxqs makes up: not a valid URL).
      const queueName = url.split('/').filter(Boolean).at(-1) ?? '';
      const response = await fetch(`${this.options.endpoint}/_fauxqs/queues/${encodeURIComponent(queueName)}`);
      if (!response.ok) throw new StorageError(`queue ${queueName} cannot be inspected: HTTP ${response.status}`, { details: { queue: queueName } });
      const inspected = (await response.json()) as InspectedQueue;
      const m = inspected.messages ?? {};
      const sent = [...(m.ready ?? []), ...(m.delayed ?? []), ...(m.inflight ?? []).map((i) => i.message ?? {})]
        .map((message) => message.sentTimestamp)
        .filter((t): t is number => typeof t === 'number');
      const oldest = sent.length > 0 ? Math.min(...sent) : undefined;
      ages[name] = oldest === undefined ? 0 : Math.max(0, Math.round(((this.options.now ?? Date.now)() - oldest) / 1000));
    }
    return ages;
  }
}
