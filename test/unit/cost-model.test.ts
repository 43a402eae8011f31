import { describe, expect, it } from 'vitest';
import { billedMetricSeries, growthPerMonthOfHistory, monthlyBill, SECONDS_PER_MONTH, type UsageModel } from '../../infra/cost/cost-model.js';
import { PRICES } from '../../infra/cost/prices.js';
import { rateSeconds, templateFacts, type CfnTemplate } from '../../infra/cost/template-facts.js';

/** One scheduled function, one alarm on two metrics, one plain alarm, two dashboards, a FIFO queue feeding a second function. */
const TEMPLATE: CfnTemplate = {
  Resources: {
    ScanFn: { Type: 'AWS::Lambda::Function', Properties: { MemorySize: 1024, Architectures: ['arm64'], TracingConfig: { Mode: 'Active' }, Environment: { Variables: { POWERTOOLS_SERVICE_NAME: 'scanner' } } } },
    ExecFn: { Type: 'AWS::Lambda::Function', Properties: { MemorySize: 512, Architectures: ['arm64'], Environment: { Variables: { POWERTOOLS_SERVICE_NAME: 'executor' } } } },
    Every5: { Type: 'AWS::Scheduler::Schedule', Properties: { ScheduleExpression: 'rate(5 minutes)', Target: { Arn: { 'Fn::GetAtt': ['ScanFn', 'Arn'] } } } },
    Rate: {
      Type: 'AWS::CloudWatch::Alarm',
      Properties: { AlarmName: 'rate', Metrics: [{ Id: 'e', Expression: 'a / b' }, { Id: 'a', MetricStat: { Period: 300 } }, { Id: 'b', MetricStat: { Period: 300 } }] },
    },
    Plain: { Type: 'AWS::CloudWatch::Alarm', Properties: { AlarmName: 'plain', MetricName: 'X', Period: 60 } },
    Dash1: { Type: 'AWS::CloudWatch::Dashboard', Properties: {} },
    Dash2: { Type: 'AWS::CloudWatch::Dashboard', Properties: {} },
    Logs: { Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: 30 } },
    Queue: { Type: 'AWS::SQS::Queue', Properties: { FifoQueue: true } },
    Source: { Type: 'AWS::Lambda::EventSourceMapping', Properties: {} },
    State: { Type: 'AWS::DynamoDB::GlobalTable', Properties: { Replicas: [{ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } }] } },
  },
};

const zero = { durationMs: 0, dynamoReadUnits: 0, dynamoWriteUnits: 0, sqsRequests: 0, eventsPublished: 0 };
const USAGE: UsageModel = {
  perRun: {
    scanner: { ...zero, durationMs: 1000, dynamoReadUnits: 10, dynamoWriteUnits: 2, sqsRequests: 1 },
    executor: { ...zero, durationMs: 200, dynamoWriteUnits: 8 },
    reconciler: zero,
    health: zero,
  },
  scannerMsPerSymbol: 0,
  measuredSymbols: 3,
  healthReadUnitsPerStoredOrder: 0,
  storedBytesPerIntent: 1024,
  metricSeries: Array.from({ length: 14 }, (_, i) => ({ series: `M${i}|scanner`, share: 1 })),
};
const PROFILE = { name: 'test', symbols: 3, tradesPerDay: 10 };
const usd = (name: string, bill: ReturnType<typeof monthlyBill>) => bill.items.find((i) => i.name === name);

describe('Function: templateFacts', () => {
  it('reads functions, schedules, billed alarm metrics, dashboards, retention, FIFO queues and PITR from a template', () => {
    const facts = templateFacts(TEMPLATE);
    expect(facts.functions.map((f) => [f.name, f.memoryMb, f.arm, f.tracing])).toEqual([
      ['scanner', 1024, true, true],
      ['executor', 512, true, false],
    ]);
    expect(facts.schedules).toEqual([{ target: 'scanner', everySeconds: 300 }]);
    expect(facts.alarms).toEqual([
      { name: 'rate', metrics: 2, highResolution: false },
      { name: 'plain', metrics: 1, highResolution: false },
    ]);
    expect(facts).toMatchObject({ dashboards: 2, logRetentionDays: [30], fifoQueues: 1, queueEventSources: 1, tablesWithPitr: 1 });
  });

  it('refuses a schedule expression it cannot model', () => {
    expect(rateSeconds('rate(1 minute)')).toBe(60);
    expect(() => rateSeconds('cron(0 * * * ? *)')).toThrow(/unsupported schedule expression/);
  });
});

describe('Function: monthlyBill', () => {
  const facts = templateFacts(TEMPLATE);
  const bill = monthlyBill(facts, USAGE, PROFILE, PRICES);
  const scans = SECONDS_PER_MONTH / 300; // 8,760
  const intents = (10 * SECONDS_PER_MONTH) / 86_400; // 304.17

  it('prices DynamoDB request units from runs per month x units per run', () => {
    expect(usd('DynamoDB reads (on demand)', bill)?.grossUsd).toBe(round((scans * 10 * 0.125) / 1e6));
    expect(usd('DynamoDB writes (on demand)', bill)?.grossUsd).toBe(round(((scans * 2 + intents * 8) * 0.625) / 1e6));
  });

  it('charges Lambda GB-seconds per function memory and subtracts the always-free allowance', () => {
    const gbSeconds = scans * 1 * 1 + intents * 0.2 * 0.5;
    const compute = usd('Lambda compute (arm64)', bill);
    expect(compute?.grossUsd).toBe(round(gbSeconds * PRICES.lambda.armGbSecond));
    expect(compute?.usd).toBe(0);
  });

  it('bills custom metrics and alarm metrics beyond the free ten, and dashboards beyond the free three', () => {
    expect(usd('CloudWatch custom metrics', bill)).toMatchObject({ grossUsd: round(14 * 0.3), usd: round(4 * 0.3) });
    expect(usd('CloudWatch alarms', bill)).toMatchObject({ grossUsd: round(3 * 0.1), usd: 0 });
    expect(usd('CloudWatch dashboards', bill)).toMatchObject({ grossUsd: 6, usd: 0 });
  });

  it('bills a metric series for the hours it has data: one published only on rare runs costs a fraction of a month', () => {
    const perHour = (runs: number) => () => runs;
    expect(billedMetricSeries([{ series: 'Signals|scanner', share: 1 }], perHour(60))).toBe(1);
    // Published in half the scans, 60 scans an hour: almost every hour has data.
    expect(billedMetricSeries([{ series: 'Signals|scanner', share: 0.5 }], perHour(60))).toBeCloseTo(1, 10);
    // Published in one run of 1,000, one run an hour: about a thousandth of the month.
    expect(billedMetricSeries([{ series: 'StaleData|scanner', share: 0.001 }], perHour(1))).toBeCloseTo(0.001, 6);
    expect(billedMetricSeries([{ series: 'OrdersRejected|executor', share: 0 }], perHour(4))).toBe(0);

    // In the bill: 14 series every run plus 6 never published in the measured runs bill as 14.
    const sparse = { ...USAGE, metricSeries: [...USAGE.metricSeries, ...Array.from({ length: 6 }, (_, i) => ({ series: `R${i}|executor`, share: 0 }))] };
    expect(usd('CloudWatch custom metrics', monthlyBill(facts, sparse, PROFILE, PRICES))?.grossUsd).toBe(round(14 * 0.3));
  });

  it('counts the event source long polls of an idle FIFO queue at the FIFO price', () => {
    const requests = scans * 1 + intents * 2 + 5 * (SECONDS_PER_MONTH / 20);
    expect(usd('SQS requests (incl. event source polling)', bill)?.grossUsd).toBe(round((requests * 0.5) / 1e6));
  });

  it('adds up its items', () => {
    expect(bill.usd).toBe(round(bill.items.reduce((n, i) => n + i.usd, 0)));
    expect(bill.grossUsd).toBeCloseTo(bill.items.reduce((n, i) => n + i.grossUsd, 0), 1);
  });
});

describe('Function: growthPerMonthOfHistory', () => {
  const facts = templateFacts(TEMPLATE);
  it('grows only by storage when no run reads history', () => {
    const storagePerMonth = ((((10 * SECONDS_PER_MONTH) / 86_400) * 1024) / 1024 ** 3) * (0.25 + 0.2);
    expect(growthPerMonthOfHistory(facts, USAGE, PROFILE, PRICES)).toBeCloseTo(storagePerMonth, 4);
  });

  it('grows with every stored order a scheduled run reads', () => {
    const withScan = { ...USAGE, healthReadUnitsPerStoredOrder: 1 };
    const scheduledHealth = templateFacts({
      Resources: { ...TEMPLATE.Resources, HealthFn: { Type: 'AWS::Lambda::Function', Properties: { Environment: { Variables: { POWERTOOLS_SERVICE_NAME: 'health' } } } }, H: { Type: 'AWS::Scheduler::Schedule', Properties: { ScheduleExpression: 'rate(1 minute)', Target: { Arn: { 'Fn::GetAtt': ['HealthFn', 'Arn'] } } } } },
    });
    const readsPerMonth = (SECONDS_PER_MONTH / 60) * ((10 * SECONDS_PER_MONTH) / 86_400);
    expect(growthPerMonthOfHistory(scheduledHealth, withScan, PROFILE, PRICES)).toBeGreaterThan((readsPerMonth * 0.125) / 1e6);
  });
});

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
