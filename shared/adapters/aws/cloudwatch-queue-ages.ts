/**
 * The age of the oldest message of each queue on AWS, for health (HLT-2, EXE-13): SQS's own
 * `ApproximateAgeOfOldestMessage` metric (namespace AWS/SQS, dimension QueueName), read with one
 * CloudWatch GetMetricData request for every queue. It is the figure the IntentsExpiringInQueue
 * alarm watches, so health and the alarm agree. Reading it touches no message.
 *
 * SQS publishes the metric once a minute, a few minutes late, and not at all for a queue that has
 * been idle for hours (then it is empty): the newest datapoint of the last LOOKBACK_SECONDS is
 * taken, and no datapoint reads as 0 (no message waiting).
 */
import { GetMetricDataCommand, type CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { StorageError } from '../../domain/errors.js';
import type { Clock } from '../../ports/clock.js';
import type { QueueAgeReader } from '../../ports/intent-queue.js';

export const SQS_NAMESPACE = 'AWS/SQS';
export const OLDEST_MESSAGE_METRIC = 'ApproximateAgeOfOldestMessage';
/** SQS's metrics arrive a few minutes late: ten minutes back always holds the newest one of an active queue. */
export const LOOKBACK_SECONDS = 600;
/** SQS publishes one datapoint a minute. */
const PERIOD_SECONDS = 60;

export interface CloudWatchQueueAgesOptions {
  readonly client: Pick<CloudWatchClient, 'send'>;
  /** Name (as health reports it) -> queue URL; the metric's QueueName is the URL's last segment. */
  readonly queues: Readonly<Record<string, string>>;
  readonly clock: Clock;
}

export class CloudWatchQueueAges implements QueueAgeReader {
  constructor(private readonly options: CloudWatchQueueAgesOptions) {}

  /** @throws StorageError when CloudWatch cannot be read or answers for a queue only in part. */
  async oldestAges(): Promise<Readonly<Record<string, number>>> {
    const entries = Object.entries(this.options.queues);
    if (entries.length === 0) return {};
    const now = this.options.clock.now().getTime();
    const ids = new Map(entries.map(([name], i) => [`q${i}`, name]));
    let out;
    try {
      out = await this.options.client.send(
        new GetMetricDataCommand({
          StartTime: new Date(now - LOOKBACK_SECONDS * 1000),
          // One period ahead: the newest datapoint is stamped at the start of its minute.
          EndTime: new Date(now + PERIOD_SECONDS * 1000),
          ScanBy: 'TimestampDescending',
          MetricDataQueries: entries.map(([, url], i) => ({
            Id: `q${i}`,
            ReturnData: true,
            MetricStat: {
              Metric: { Namespace: SQS_NAMESPACE, MetricName: OLDEST_MESSAGE_METRIC, Dimensions: [{ Name: 'QueueName', Value: queueNameOf(url) }] },
              Period: PERIOD_SECONDS,
              Stat: 'Maximum',
            },
          })),
        }),
      );
    } catch (error) {
      throw new StorageError(`queue ages cannot be read from CloudWatch: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    const ages: Record<string, number> = Object.fromEntries(entries.map(([name]) => [name, 0]));
    for (const result of out.MetricDataResults ?? []) {
      const name = result.Id === undefined ? undefined : ids.get(result.Id);
      if (name === undefined) continue;
      if (result.StatusCode !== undefined && result.StatusCode !== 'Complete') {
        throw new StorageError(`queue age of ${name} is incomplete in CloudWatch (${result.StatusCode})`, { details: { queue: name } });
      }
      const values = result.Values ?? [];
      const stamps = (result.Timestamps ?? []).map((t) => new Date(t).getTime());
      // The newest datapoint, whatever order the answer lists them in.
      let newest = -1;
      for (let i = 0; i < values.length; i += 1) if (newest < 0 || (stamps[i] ?? 0) > (stamps[newest] ?? 0)) newest = i;
      const value = newest < 0 ? 0 : (values[newest] ?? 0);
      ages[name] = Number.isFinite(value) && value > 0 ? Math.round(value) : 0;
    }
    return ages;
  }
}

/** A queue's name: the last path segment of its URL (https://sqs.<region>.amazonaws.com/<account>/<name>). */
export function queueNameOf(url: string): string {
  return url.split('/').filter(Boolean).at(-1) ?? '';
}
