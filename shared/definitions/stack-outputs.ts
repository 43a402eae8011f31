/**
 * The stack outputs an operator needs, described once. The CDK stack publishes them as
 * CloudFormation outputs; `npm start` writes the same keys to `.tradewarden/outputs.json` in the
 * format of `cdk deploy --outputs-file` (`{"<stack name>": {"<OutputKey>": "<value>"}}`). The
 * operator tools (`npm run ops`, `npm run invoke`, the console) read them back to find the
 * tables, queues and functions of a stack, whichever way it runs.
 *
 * Output keys are part of the operator interface: never rename one.
 */
import { ENV } from '../runtime/config.js';
import { JOBS, type JobName } from './schedules.js';

/** Stable CloudFormation output keys. */
export const STACK_OUTPUT = {
  stateTable: 'StateTableName',
  auditTable: 'AuditTableName',
  idempotencyTable: 'IdempotencyTableName',
  paperTable: 'PaperExchangeTableName',
  executionQueueUrl: 'ExecutionQueueUrl',
  executionDlqUrl: 'ExecutionDlqUrl',
  /** JSON object: the settings every function runs with (`TW_*` variables other than resources). */
  functionSettings: 'FunctionSettings',
  tradingMode: 'TradingMode',
  /** Absent locally: the embedded stack has no event bus. */
  eventBusName: 'EventBusName',
  exchangeSecretArn: 'ExchangeSecretArn',
  alarmTopicArn: 'AlarmTopicArn',
  /** The Object Lock bucket of the audit checkpoints (SEC-5); absent locally (a directory there). */
  auditCheckpointBucket: 'AuditCheckpointBucket',
} as const;

/** `scanner` -> `ScannerFunctionName`. */
export function functionNameOutput(job: JobName): string {
  return `${job.charAt(0).toUpperCase()}${job.slice(1)}FunctionName`;
}

/** Output keys every operator command needs from a stack; a missing one is named in the error. */
export const OPERATOR_OUTPUTS: readonly string[] = [
  STACK_OUTPUT.stateTable,
  STACK_OUTPUT.auditTable,
  STACK_OUTPUT.idempotencyTable,
  STACK_OUTPUT.paperTable,
  STACK_OUTPUT.executionQueueUrl,
  STACK_OUTPUT.executionDlqUrl,
  STACK_OUTPUT.functionSettings,
  STACK_OUTPUT.tradingMode,
];

/** Every output key both the deployed and the local stack publish. */
export const COMMON_OUTPUTS: readonly string[] = [...OPERATOR_OUTPUTS, ...JOBS.map(functionNameOutput)];

/** The name of the stack of the embedded local stack in its outputs file. */
export const LOCAL_STACK_NAME = 'Tradewarden-local';

/** One stack per stage: `Tradewarden-dev`, `Tradewarden-prod`. */
export function stackNameOf(stage: string): string {
  return `Tradewarden-${stage}`;
}

/** Environment variables that name resources or endpoints: they come from other outputs, or from the operator's own environment. */
const RESOURCE_SETTINGS: ReadonlySet<string> = new Set([
  ENV.region,
  ENV.stateTable,
  ENV.auditTable,
  ENV.idempotencyTable,
  ENV.paperTable,
  ENV.executionQueueUrl,
  ENV.executionDlqUrl,
  ENV.dynamodbEndpoint,
  ENV.sqsEndpoint,
  ENV.eventBusName,
  ENV.exchangeSecretArn,
  ENV.auditCheckpointBucket,
  ENV.auditCheckpointDir,
]);

/**
 * The function settings published in the `FunctionSettings` output: every `TW_*` variable of a
 * function's environment except the resource names and endpoints.
 */
export function functionSettingsOf(env: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter(([name]) => name.startsWith('TW_') && !RESOURCE_SETTINGS.has(name)).sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * The function environment rebuilt from a stack's outputs: its settings plus the resource names.
 * Endpoints and region are not part of it: the AWS SDK takes them from the operator's environment.
 * @returns the environment, or the list of output keys that are missing or unreadable.
 */
export function environmentFromOutputs(outputs: Readonly<Record<string, string>>): { env: Record<string, string> } | { missing: string[] } {
  const missing = OPERATOR_OUTPUTS.filter((key) => !outputs[key]);
  let settings: Record<string, string> = {};
  const raw = outputs[STACK_OUTPUT.functionSettings];
  if (raw) {
    try {
      const parsed: unknown = JSON.parse(raw);
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed) || Object.values(parsed).some((v) => typeof v !== 'string')) throw new Error('not an object of strings');
      settings = parsed as Record<string, string>;
    } catch {
      missing.push(`${STACK_OUTPUT.functionSettings} (not a JSON object of strings)`);
    }
  }
  if (missing.length > 0) return { missing };
  const env: Record<string, string> = {
    ...functionSettingsOf(settings),
    [ENV.stateTable]: outputs[STACK_OUTPUT.stateTable] ?? '',
    [ENV.auditTable]: outputs[STACK_OUTPUT.auditTable] ?? '',
    [ENV.idempotencyTable]: outputs[STACK_OUTPUT.idempotencyTable] ?? '',
    [ENV.paperTable]: outputs[STACK_OUTPUT.paperTable] ?? '',
    [ENV.executionQueueUrl]: outputs[STACK_OUTPUT.executionQueueUrl] ?? '',
    [ENV.executionDlqUrl]: outputs[STACK_OUTPUT.executionDlqUrl] ?? '',
  };
  const bus = outputs[STACK_OUTPUT.eventBusName];
  if (bus) env[ENV.eventBusName] = bus;
  const checkpoints = outputs[STACK_OUTPUT.auditCheckpointBucket];
  if (checkpoints) env[ENV.auditCheckpointBucket] = checkpoints;
  const secret = outputs[STACK_OUTPUT.exchangeSecretArn];
  if (secret && settings[ENV.mode] === 'live') env[ENV.exchangeSecretArn] = secret;
  return { env };
}
