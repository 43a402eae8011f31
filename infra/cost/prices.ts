/**
 * AWS list prices used by the cost model (`npm run cost`), us-east-1, on-demand, in USD. One
 * table, one date: update both together. Compiled from the public AWS pricing pages (Lambda,
 * DynamoDB, SQS, EventBridge, CloudWatch, X-Ray, Secrets Manager, S3); the model does not fetch
 * prices. Check them against the pricing pages before quoting a bill.
 *
 * `free` is the always-free monthly allowance (never expires, unlike the 12-month free tier).
 */
export const PRICES_AS_OF = '2026-12-01';
export const PRICES_REGION = 'us-east-1';

export const PRICES = {
  lambda: {
    /** Arm64, per GB-second (first pricing tier). */
    armGbSecond: 0.0000133334,
    perMillionRequests: 0.2,
    free: { gbSeconds: 400_000, requests: 1_000_000 },
  },
  dynamodb: {
    /** On-demand, per million write request units (1 KB each). */
    perMillionWriteUnits: 0.625,
    /** On-demand, per million read request units (4 KB strongly consistent, 8 KB eventually). */
    perMillionReadUnits: 0.125,
    storageGbMonth: 0.25,
    /** Continuous backups (point-in-time recovery), per GB-month of table size. */
    pitrGbMonth: 0.2,
    free: { storageGb: 25 },
  },
  sqs: {
    perMillionStandardRequests: 0.4,
    perMillionFifoRequests: 0.5,
    free: { requests: 1_000_000 },
  },
  scheduler: {
    perMillionInvocations: 1.0,
    free: { invocations: 14_000_000 },
  },
  eventbridge: {
    perMillionCustomEvents: 1.0,
    /** Event archive, per GB processed into the archive (plus storage, negligible here). */
    archiveGbProcessed: 0.1,
  },
  cloudwatch: {
    /** Each custom metric (namespace + name + dimensions) per month, first tier. */
    metricMonth: 0.3,
    /** Standard-resolution alarm, per metric it evaluates (a metric-math alarm pays per metric). */
    alarmMetricMonth: 0.1,
    dashboardMonth: 3.0,
    /** GetMetricData, per thousand metrics requested (health reads the execution queue's age). */
    perThousandMetricsRequested: 0.01,
    logsIngestedGb: 0.5,
    logsStoredGbMonth: 0.03,
    free: { metrics: 10, alarmMetrics: 10, dashboards: 3, logsGb: 5 },
  },
  xray: {
    perMillionTracesRecorded: 5.0,
    free: { traces: 100_000 },
  },
  secretsManager: {
    secretMonth: 0.4,
    perTenThousandCalls: 0.05,
  },
  s3: {
    storageGbMonth: 0.023,
    perThousandPuts: 0.005,
  },
  sns: {
    /** Email notifications after the first 1,000 per month. */
    perHundredThousandEmails: 2.0,
  },
} as const;

export type Prices = typeof PRICES;
