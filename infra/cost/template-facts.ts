/**
 * What a synthesized CloudFormation template says about a deployment's bill: functions and
 * their memory, schedules, alarms (and how many metrics each evaluates), dashboards, log
 * retention, tables with point-in-time recovery, queues, event archives and secrets.
 */

interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

export interface CfnTemplate {
  readonly Resources: Readonly<Record<string, CfnResource>>;
}

export interface FunctionFact {
  readonly logicalId: string;
  /** The job it runs (its POWERTOOLS_SERVICE_NAME), or its logical id. */
  readonly name: string;
  readonly memoryMb: number;
  readonly arm: boolean;
  readonly tracing: boolean;
}

export interface ScheduleFact {
  /** The function it invokes (FunctionFact.name), when it targets one. */
  readonly target: string;
  readonly everySeconds: number;
}

export interface AlarmFact {
  readonly name: string;
  /** Metrics the alarm evaluates: CloudWatch bills an alarm per metric (metric math included). */
  readonly metrics: number;
  /** Period under 60 s: a high-resolution alarm. */
  readonly highResolution: boolean;
}

export interface TemplateFacts {
  readonly functions: readonly FunctionFact[];
  readonly schedules: readonly ScheduleFact[];
  readonly alarms: readonly AlarmFact[];
  readonly dashboards: number;
  readonly logRetentionDays: readonly number[];
  readonly tables: number;
  readonly tablesWithPitr: number;
  readonly fifoQueues: number;
  /** SQS event source mappings (each keeps pollers on its queue). */
  readonly queueEventSources: number;
  readonly eventArchives: number;
  readonly secrets: number;
}

const UNIT_SECONDS: Readonly<Record<string, number>> = { minute: 60, minutes: 60, hour: 3600, hours: 3600, day: 86_400, days: 86_400 };

/** Seconds between runs of an EventBridge Scheduler `rate(...)` expression. */
export function rateSeconds(expression: string): number {
  const match = /^rate\((\d+) (minutes?|hours?|days?)\)$/.exec(expression.trim());
  if (!match) throw new Error(`unsupported schedule expression ${JSON.stringify(expression)} (only rate(...) is modelled)`);
  return Number(match[1]) * (UNIT_SECONDS[match[2] ?? ''] ?? Number.NaN);
}

/** The logical id a `Ref` or `Fn::GetAtt` points at, if any. */
function referenced(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as { Ref?: unknown; 'Fn::GetAtt'?: unknown };
  if (typeof v.Ref === 'string') return v.Ref;
  if (Array.isArray(v['Fn::GetAtt']) && typeof v['Fn::GetAtt'][0] === 'string') return v['Fn::GetAtt'][0];
  return undefined;
}

function alarmFact(name: string, p: Record<string, unknown>): AlarmFact {
  const metrics = Array.isArray(p['Metrics']) ? (p['Metrics'] as { MetricStat?: { Period?: number } }[]) : undefined;
  if (metrics) {
    const stats = metrics.filter((m) => m.MetricStat !== undefined);
    return { name, metrics: stats.length, highResolution: stats.some((m) => (m.MetricStat?.Period ?? 60) < 60) };
  }
  return { name, metrics: 1, highResolution: Number(p['Period'] ?? 60) < 60 };
}

/** Reads the billable facts out of a template. */
export function templateFacts(template: CfnTemplate): TemplateFacts {
  const resources = Object.entries(template.Resources);
  const ofType = (type: string) => resources.filter(([, r]) => r.Type === type).map(([id, r]) => [id, r.Properties ?? {}] as const);

  const functions: FunctionFact[] = ofType('AWS::Lambda::Function').map(([id, p]) => {
    const variables = ((p['Environment'] as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {}) as Record<string, unknown>;
    const service = variables['POWERTOOLS_SERVICE_NAME'];
    return {
      logicalId: id,
      name: typeof service === 'string' ? service : id,
      memoryMb: Number(p['MemorySize'] ?? 128),
      arm: Array.isArray(p['Architectures']) && (p['Architectures'] as unknown[]).includes('arm64'),
      tracing: (p['TracingConfig'] as { Mode?: string } | undefined)?.Mode === 'Active',
    };
  });
  const nameOf = new Map(functions.map((f) => [f.logicalId, f.name]));

  const schedules: ScheduleFact[] = ofType('AWS::Scheduler::Schedule').map(([id, p]) => {
    const target = nameOf.get(referenced((p['Target'] as { Arn?: unknown } | undefined)?.Arn) ?? '') ?? id;
    return { target, everySeconds: rateSeconds(String(p['ScheduleExpression'])) };
  });

  const tables = [...ofType('AWS::DynamoDB::GlobalTable'), ...ofType('AWS::DynamoDB::Table')];
  const pitr = (p: Record<string, unknown>): boolean => {
    const direct = (p['PointInTimeRecoverySpecification'] as { PointInTimeRecoveryEnabled?: boolean } | undefined)?.PointInTimeRecoveryEnabled;
    const replicas = (p['Replicas'] as { PointInTimeRecoverySpecification?: { PointInTimeRecoveryEnabled?: boolean } }[] | undefined) ?? [];
    return direct === true || replicas.some((r) => r.PointInTimeRecoverySpecification?.PointInTimeRecoveryEnabled === true);
  };

  return {
    functions,
    schedules,
    alarms: ofType('AWS::CloudWatch::Alarm').map(([id, p]) => alarmFact(String(p['AlarmName'] ?? id), p)),
    dashboards: ofType('AWS::CloudWatch::Dashboard').length,
    logRetentionDays: ofType('AWS::Logs::LogGroup').map(([, p]) => Number(p['RetentionInDays'] ?? 3653)),
    tables: tables.length,
    tablesWithPitr: tables.filter(([, p]) => pitr(p)).length,
    fifoQueues: ofType('AWS::SQS::Queue').filter(([, p]) => p['FifoQueue'] === true).length,
    queueEventSources: ofType('AWS::Lambda::EventSourceMapping').length,
    eventArchives: ofType('AWS::Events::Archive').length,
    secrets: ofType('AWS::SecretsManager::Secret').length,
  };
}
