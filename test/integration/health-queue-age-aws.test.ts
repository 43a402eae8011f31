/**
 * HLT-2 / EXE-13 on AWS: health reads the age of the oldest intent from CloudWatch, SQS's own
 * ApproximateAgeOfOldestMessage, the figure the IntentsExpiringInQueue alarm watches. The health
 * container is wired by the Lambda entry from the environment (healthContainerFromEnvironment), its
 * tables and queues on the emulators, CloudWatch on a moto server (AWS_ENDPOINT_URL_CLOUDWATCH,
 * the standard SDK setting) where the test puts the metric as SQS would.
 */
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHealthHandler } from '../../functions/health/app.js';
import { LOCAL_CREDENTIALS, localContext } from '../../local-runtime/stack.js';
import { CloudWatchQueueAges, OLDEST_MESSAGE_METRIC, SQS_NAMESPACE, queueNameOf } from '../../shared/adapters/aws/cloudwatch-queue-ages.js';
import { EXECUTOR_NORMAL_LATENCY_SECONDS } from '../../shared/domain/timing.js';
import { EXECUTION_QUEUE_NAME, type Container } from '../../shared/runtime/container.js';
import { healthContainerFromEnvironment } from '../../shared/runtime/health-entry.js';
import type { HealthReport } from '../../shared/use-cases/check-health.js';
import { startMotoS3, type MotoS3 } from '../support/moto-s3.js';
import { startTestStack, type TestStack } from '../support/local-runtime.js';

const TTL_SECONDS = 120;

describe('Health on AWS: the oldest intent\'s age from CloudWatch (HLT-2, EXE-13)', () => {
  let moto: MotoS3;
  let t: TestStack;
  let cloudwatch: CloudWatchClient;
  let container: Container;
  let health: () => Promise<HealthReport>;
  const saved: Record<string, string | undefined> = {};

  /** Sets process variables for the entry to read, remembering what was there. */
  const setEnv = (vars: Record<string, string>) => {
    for (const [name, value] of Object.entries(vars)) {
      if (!(name in saved)) saved[name] = process.env[name];
      process.env[name] = value;
    }
  };

  beforeAll(async () => {
    moto = await startMotoS3();
    t = await startTestStack({ TW_PAPER_SEED: 'queue-age-aws', TW_WATCHLIST: 'BTC/USDT', TW_INTENT_TTL_SECONDS: String(TTL_SECONDS) });
    setEnv({
      ...t.stack.env,
      AWS_ENDPOINT_URL_CLOUDWATCH: moto.endpoint,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
    });
    container = await healthContainerFromEnvironment();
    const handler = createHealthHandler(container) as unknown as (event: unknown, context: unknown) => Promise<HealthReport>;
    health = () => handler({ scheduledTime: new Date().toISOString() }, localContext('tradewarden-health', 30_000));
    cloudwatch = new CloudWatchClient({ endpoint: moto.endpoint, region: t.config.region, credentials: LOCAL_CREDENTIALS });
  }, 60_000);

  afterAll(async () => {
    cloudwatch?.destroy();
    container?.ddb.destroy();
    container?.sqs.destroy();
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await t?.stop();
    await moto?.stop();
  });

  /** SQS's datapoint for the execution queue, as AWS publishes it. */
  const publishAge = (seconds: number) =>
    cloudwatch.send(
      new PutMetricDataCommand({
        Namespace: SQS_NAMESPACE,
        MetricData: [{ MetricName: OLDEST_MESSAGE_METRIC, Dimensions: [{ Name: 'QueueName', Value: queueNameOf(t.config.executionQueueUrl) }], Value: seconds, Unit: 'Seconds', Timestamp: new Date() }],
      }),
    );
  const ageCheck = (report: HealthReport) => report.checks.find((c) => c.name === `queue:${EXECUTION_QUEUE_NAME}:age`);

  it('wires the CloudWatch reader into the health container of the Lambda entry', () => {
    expect(container.queueAges).toBeInstanceOf(CloudWatchQueueAges);
  });

  it('is OK while CloudWatch has no datapoint of the queue', async () => {
    expect(ageCheck(await health())).toMatchObject({ status: 'OK', detail: 'no message waiting' });
  });

  it('is DEGRADED with the figure when the metric says an intent waited longer than the executor normally takes, FAILING past the time-to-live', async () => {
    await publishAge(EXECUTOR_NORMAL_LATENCY_SECONDS + 30);
    const degraded = await health();
    await publishAge(TTL_SECONDS + 10);
    const failing = await health();

    expect(ageCheck(degraded)?.status).toBe('DEGRADED');
    expect(ageCheck(degraded)?.detail).toMatch(new RegExp(`^oldest message waited ${EXECUTOR_NORMAL_LATENCY_SECONDS + 30} s, more than the executor's normal ${EXECUTOR_NORMAL_LATENCY_SECONDS} s`));
    expect(degraded.status).not.toBe('OK');
    expect(degraded.metrics.oldestIntentAgeSeconds).toBe(EXECUTOR_NORMAL_LATENCY_SECONDS + 30);
    expect(ageCheck(failing)?.status).toBe('FAILING');
    expect(failing.status).toBe('FAILING');
  });

  it('answers STORAGE_FAILED, not an age of 0, when CloudWatch cannot be read', async () => {
    const unreachable = new CloudWatchQueueAges({
      client: new CloudWatchClient({ endpoint: 'http://127.0.0.1:9', region: t.config.region, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 }),
      queues: { [EXECUTION_QUEUE_NAME]: t.config.executionQueueUrl },
      clock: { now: () => new Date() },
    });
    await expect(unreachable.oldestAges()).rejects.toMatchObject({ code: 'STORAGE_FAILED' });
  });
});
