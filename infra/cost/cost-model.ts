/**
 * The monthly AWS bill of a deployment (PERF-4): template facts (what is deployed) x measured
 * usage per run (what each run costs in requests) x a traffic profile (how often things run),
 * priced with the list prices of prices.ts. Pure: no I/O, so its arithmetic is tested on a small
 * template.
 *
 * Two totals: `usd` after the always-free allowances (the target), and `grossUsd` without them.
 * Growth with history: the bill at month `m` minus the bill at month 1, per month, so a per-run
 * cost that grows with stored orders (a table Scan) or unbounded storage shows up.
 */
import type { JobName } from '../../shared/definitions/schedules.js';
import type { Prices } from './prices.js';
import type { TemplateFacts } from './template-facts.js';

export const SECONDS_PER_MONTH = 730 * 3600;
const GB = 1024 ** 3;

/** Billable requests of one run of a function (one scan, one executed intent, ...). */
export interface RunUsage {
  readonly dynamoReadUnits: number;
  readonly dynamoWriteUnits: number;
  readonly sqsRequests: number;
  readonly eventsPublished: number;
  /** Billed duration of one run, in milliseconds. */
  readonly durationMs: number;
}

export interface UsageModel {
  readonly perRun: Readonly<Record<JobName, RunUsage>>;
  /** Extra scanner milliseconds per watched symbol beyond the measured watchlist. */
  readonly scannerMsPerSymbol: number;
  /** Symbols the scanner's measured run watched. */
  readonly measuredSymbols: number;
  /** Health read units per run for each order stored (0 when health does not read history). */
  readonly healthReadUnitsPerStoredOrder: number;
  /** Bytes the state and audit tables keep per executed intent. */
  readonly storedBytesPerIntent: number;
  /**
   * Custom metric series the functions emit (`name|service`), each with the share of its job's
   * runs that published it (1: every run; a count published only when not zero: the share of
   * runs where it was not). CloudWatch bills a series for each hour in which it has data.
   */
  readonly metricSeries: readonly MetricSeriesUsage[];
}

export interface MetricSeriesUsage {
  readonly series: string;
  /** Share of the publishing job's runs (for the executor: of its intents) that published it. */
  readonly share: number;
}

export interface TrafficProfile {
  readonly name: string;
  readonly symbols: number;
  readonly tradesPerDay: number;
}

/** Assumptions that are not prices and not measured here; each is printed with the bill. */
export interface ModelAssumptions {
  /** Log bytes per invocation: Lambda's START/END/REPORT lines, the EMF blob and warnings. */
  readonly logBytesPerInvocation: number;
  /** Concurrent long-polling requests the Lambda event source keeps on an idle SQS queue. */
  readonly eventSourcePollers: number;
  /** Seconds each of those long polls waits. */
  readonly eventSourcePollSeconds: number;
  /** Executor invocations per intent (intents arrive apart: one per batch). */
  readonly executorInvocationsPerIntent: number;
  /** SQS requests per executor invocation made by the event source (receive, delete). */
  readonly sqsRequestsPerExecutorInvocation: number;
  /** Bytes archived per domain event. */
  readonly bytesPerEvent: number;
  /** Metrics health reads with GetMetricData per run (the execution queue's ApproximateAgeOfOldestMessage). */
  readonly metricsReadPerHealthRun: number;
}

export const DEFAULT_ASSUMPTIONS: ModelAssumptions = {
  logBytesPerInvocation: 1024,
  eventSourcePollers: 5,
  eventSourcePollSeconds: 20,
  executorInvocationsPerIntent: 1,
  sqsRequestsPerExecutorInvocation: 2,
  bytesPerEvent: 1024,
  metricsReadPerHealthRun: 1,
};

export interface CostItem {
  readonly name: string;
  /** After the always-free allowance. */
  readonly usd: number;
  /** Without any free allowance. */
  readonly grossUsd: number;
  /** What was counted, for the printed table. */
  readonly quantity: string;
}

export interface Bill {
  readonly profile: TrafficProfile;
  readonly monthOfHistory: number;
  readonly items: readonly CostItem[];
  readonly usd: number;
  readonly grossUsd: number;
  /** grossUsd before rounding to cents. */
  readonly exactGrossUsd: number;
}

function item(name: string, quantity: string, gross: number, freeShare: number): CostItem {
  return { name, quantity, grossUsd: gross, usd: Math.max(0, gross - freeShare) };
}

/** Cost of `used` units at `price` per unit, with `free` units free. */
function priced(used: number, price: number, free = 0): { gross: number; free: number } {
  return { gross: used * price, free: Math.min(used, free) * price };
}

/**
 * The bill of month `monthOfHistory` (1 = the first month) for a traffic profile.
 */
export function monthlyBill(
  facts: TemplateFacts,
  usage: UsageModel,
  profile: TrafficProfile,
  prices: Prices,
  monthOfHistory = 1,
  assumptions: ModelAssumptions = DEFAULT_ASSUMPTIONS,
): Bill {
  const intents = (profile.tradesPerDay * SECONDS_PER_MONTH) / 86_400;
  const runs = new Map<string, number>();
  for (const s of facts.schedules) runs.set(s.target, (runs.get(s.target) ?? 0) + SECONDS_PER_MONTH / s.everySeconds);
  runs.set('executor', intents * assumptions.executorInvocationsPerIntent);
  const perRun = (job: string): RunUsage | undefined => usage.perRun[job as JobName];
  const storedOrders = intents * monthOfHistory;
  const items: CostItem[] = [];

  // Lambda: requests and GB-seconds per function.
  let requests = 0;
  let gbSeconds = 0;
  for (const f of facts.functions) {
    const count = runs.get(f.name) ?? 0;
    const run = perRun(f.name);
    let ms = run?.durationMs ?? 0;
    if (f.name === 'scanner') ms += Math.max(0, profile.symbols - usage.measuredSymbols) * usage.scannerMsPerSymbol;
    // The executor's measured duration is per intent; its invocations carry one each.
    requests += count;
    gbSeconds += count * (Math.ceil(ms) / 1000) * (f.memoryMb / 1024);
  }
  const lambdaRequests = priced(requests / 1e6, prices.lambda.perMillionRequests, prices.lambda.free.requests / 1e6);
  items.push(item('Lambda requests', `${fmt(requests)} invocations`, lambdaRequests.gross, lambdaRequests.free));
  const lambdaCompute = priced(gbSeconds, prices.lambda.armGbSecond, prices.lambda.free.gbSeconds);
  items.push(item('Lambda compute (arm64)', `${fmt(gbSeconds)} GB-s`, lambdaCompute.gross, lambdaCompute.free));

  // DynamoDB on demand: request units of every run, health's reads of stored history, storage.
  let readUnits = 0;
  let writeUnits = 0;
  for (const [job, count] of runs) {
    const run = perRun(job);
    if (!run) continue;
    readUnits += count * run.dynamoReadUnits;
    writeUnits += count * run.dynamoWriteUnits;
  }
  readUnits += (runs.get('health') ?? 0) * usage.healthReadUnitsPerStoredOrder * storedOrders;
  items.push(item('DynamoDB reads (on demand)', `${fmt(readUnits)} RRU`, (readUnits / 1e6) * prices.dynamodb.perMillionReadUnits, 0));
  items.push(item('DynamoDB writes (on demand)', `${fmt(writeUnits)} WRU`, (writeUnits / 1e6) * prices.dynamodb.perMillionWriteUnits, 0));
  const storedGb = (storedOrders * usage.storedBytesPerIntent) / GB;
  const storage = priced(storedGb, prices.dynamodb.storageGbMonth, prices.dynamodb.free.storageGb);
  items.push(item('DynamoDB storage', `${storedGb.toFixed(3)} GB`, storage.gross, storage.free));
  if (facts.tablesWithPitr > 0) items.push(item('DynamoDB point-in-time recovery', `${storedGb.toFixed(3)} GB`, storedGb * prices.dynamodb.pitrGbMonth, 0));

  // SQS: requests of the functions, the event source's receive/delete, and its idle long polls.
  let sqsRequests = 0;
  for (const [job, count] of runs) sqsRequests += count * (perRun(job)?.sqsRequests ?? 0);
  sqsRequests += (runs.get('executor') ?? 0) * assumptions.sqsRequestsPerExecutorInvocation;
  sqsRequests += facts.queueEventSources * assumptions.eventSourcePollers * (SECONDS_PER_MONTH / assumptions.eventSourcePollSeconds);
  const sqsPrice = facts.fifoQueues > 0 ? prices.sqs.perMillionFifoRequests : prices.sqs.perMillionStandardRequests;
  const sqs = priced(sqsRequests / 1e6, sqsPrice, prices.sqs.free.requests / 1e6);
  items.push(item('SQS requests (incl. event source polling)', `${fmt(sqsRequests)} requests`, sqs.gross, sqs.free));

  // EventBridge Scheduler and domain events.
  const scheduled = facts.schedules.reduce((n, s) => n + SECONDS_PER_MONTH / s.everySeconds, 0);
  const scheduler = priced(scheduled / 1e6, prices.scheduler.perMillionInvocations, prices.scheduler.free.invocations / 1e6);
  items.push(item('EventBridge Scheduler', `${fmt(scheduled)} invocations`, scheduler.gross, scheduler.free));
  let events = 0;
  for (const [job, count] of runs) events += count * (perRun(job)?.eventsPublished ?? 0);
  const archived = facts.eventArchives > 0 ? ((events * assumptions.bytesPerEvent) / GB) * prices.eventbridge.archiveGbProcessed : 0;
  items.push(item('EventBridge events and archive', `${fmt(events)} events`, (events / 1e6) * prices.eventbridge.perMillionCustomEvents + archived, 0));

  // CloudWatch: custom metrics (billed per series for each hour it has data), alarms, dashboards, logs.
  const metrics = billedMetricSeries(usage.metricSeries, (job) => (runs.get(job) ?? 0) / (SECONDS_PER_MONTH / 3600));
  const metricCost = priced(metrics, prices.cloudwatch.metricMonth, prices.cloudwatch.free.metrics);
  items.push(item('CloudWatch custom metrics', `${usage.metricSeries.length} series, ${metrics.toFixed(1)} billed series-months`, metricCost.gross, metricCost.free));
  const alarmMetrics = facts.alarms.reduce((n, a) => n + a.metrics * (a.highResolution ? 3 : 1), 0);
  const alarms = priced(alarmMetrics, prices.cloudwatch.alarmMetricMonth, prices.cloudwatch.free.alarmMetrics);
  items.push(item('CloudWatch alarms', `${facts.alarms.length} alarms, ${alarmMetrics} billed metrics`, alarms.gross, alarms.free));
  const metricsRead = (runs.get('health') ?? 0) * assumptions.metricsReadPerHealthRun;
  items.push(item('CloudWatch GetMetricData (health: queue age)', `${fmt(metricsRead)} metrics read`, (metricsRead / 1000) * prices.cloudwatch.perThousandMetricsRequested, 0));
  const dashboards = priced(facts.dashboards, prices.cloudwatch.dashboardMonth, prices.cloudwatch.free.dashboards);
  items.push(item('CloudWatch dashboards', `${facts.dashboards}`, dashboards.gross, dashboards.free));
  const logGb = (requests * assumptions.logBytesPerInvocation) / GB;
  const logs = priced(logGb, prices.cloudwatch.logsIngestedGb, prices.cloudwatch.free.logsGb);
  const retentionMonths = Math.max(...facts.logRetentionDays, 0) / 30.4;
  // Retention bounds what is stored: at most `retention` months of logs, however long it runs.
  const storedLogGb = logGb * Math.min(monthOfHistory, retentionMonths);
  items.push(item('CloudWatch Logs', `${logGb.toFixed(3)} GB/month, kept ${Math.round(retentionMonths * 30.4)} days`, logs.gross + storedLogGb * prices.cloudwatch.logsStoredGbMonth, logs.free));

  // X-Ray: one trace per invocation of a traced function.
  const traced = facts.functions.filter((f) => f.tracing).reduce((n, f) => n + (runs.get(f.name) ?? 0), 0);
  const xray = priced(traced / 1e6, prices.xray.perMillionTracesRecorded, prices.xray.free.traces / 1e6);
  items.push(item('X-Ray traces', `${fmt(traced)} traces`, xray.gross, xray.free));

  if (facts.secrets > 0) items.push(item('Secrets Manager', `${facts.secrets} secret(s)`, facts.secrets * prices.secretsManager.secretMonth, 0));

  const rounded = items.map((i) => ({ ...i, usd: cents(i.usd), grossUsd: cents(i.grossUsd) }));
  return {
    profile,
    monthOfHistory,
    items: rounded,
    usd: cents(items.reduce((n, i) => n + i.usd, 0)),
    grossUsd: cents(items.reduce((n, i) => n + i.grossUsd, 0)),
    exactGrossUsd: items.reduce((n, i) => n + i.grossUsd, 0),
  };
}

/** How much the monthly bill grows per month of accumulated history (orders, audit, logs). */
export function growthPerMonthOfHistory(facts: TemplateFacts, usage: UsageModel, profile: TrafficProfile, prices: Prices, months = 12): number {
  const first = monthlyBill(facts, usage, profile, prices, 1);
  const later = monthlyBill(facts, usage, profile, prices, 1 + months);
  // Without free allowances (they only delay growth) and unrounded, so a slow growth shows.
  return Math.round(((later.exactGrossUsd - first.exactGrossUsd) / months) * 10_000) / 10_000;
}

/**
 * Series-months billed: a series costs a full month only if every hour has data. With its job
 * running `runsPerHour` times an hour and publishing it in `share` of the runs, an hour has data
 * with probability 1 - (1 - share)^runsPerHour.
 */
export function billedMetricSeries(series: readonly MetricSeriesUsage[], runsPerHour: (job: string) => number): number {
  return series.reduce((n, s) => {
    const job = s.series.split('|')[1] ?? '';
    const share = Math.min(1, Math.max(0, s.share));
    return n + (share >= 1 ? 1 : 1 - (1 - share) ** runsPerHour(job));
  }, 0);
}

function cents(usd: number): number {
  return Math.round(usd * 100) / 100;
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}
