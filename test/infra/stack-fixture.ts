/**
 * Builds the Tradewarden stack for infra tests without bundling (`aws:cdk:bundling-stacks` is
 * empty), with every handler replaced by a stub file: the template does not depend on handler
 * code, and tests stay fast and independent of functions/.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { JOBS, type JobName } from '../../shared/definitions/schedules.js';
import type { DeploymentConfig } from '../../infra/config/deployment-config.js';
import { resolveDeploymentConfig, type StageContext } from '../../infra/config/stages.js';
import { addNagChecks } from '../../infra/nag.js';
import { TradewardenStack } from '../../infra/stacks/tradewarden-stack.js';

export const STUB_HANDLER = fileURLToPath(new URL('./fixtures/stub-handler.ts', import.meta.url));

/** The context of cdk.json (feature flags included), so tests synthesize what `cdk synth` does. */
export const CDK_JSON_CONTEXT = (JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as { context: Record<string, unknown> }).context;

const stubEntries = Object.fromEntries(JOBS.map((job) => [job, STUB_HANDLER])) as Record<JobName, string>;

export interface Built {
  readonly config: DeploymentConfig;
  readonly app: App;
  readonly stack: TradewardenStack;
  readonly template: Template;
}

/**
 * The app and stack of a stage context, with cdk-nag registered as on every real synth, not yet
 * synthesized (an app synthesizes once: change it before calling `synth`).
 */
export function createStack(context: StageContext = {}, options: { nag?: boolean } = {}): Omit<Built, 'template'> {
  const app = new App({ context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
  const config = resolveDeploymentConfig(context);
  const stack = new TradewardenStack(app, 'Tradewarden-test', { config, entries: stubEntries, notifierEntry: STUB_HANDLER, auditCheckpointEntry: STUB_HANDLER });
  if (options.nag !== false) addNagChecks(app);
  return { config, app, stack };
}

/** A synthesized stack of the given stage context and its template. */
export function buildStack(context: StageContext = {}, options: { nag?: boolean } = {}): Built {
  const built = createStack(context, options);
  return { ...built, template: Template.fromStack(built.stack) };
}

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown>; DeletionPolicy?: string; UpdateReplacePolicy?: string }>;

/** Every resource of a type, by logical id. */
export function resourcesOf(template: Template, type: string): Resources {
  return template.findResources(type) as Resources;
}

/** Logical id of each job's function, found by its Powertools service name. */
export function functionIds(template: Template): Record<JobName, string> {
  const ids: Partial<Record<JobName, string>> = {};
  for (const [id, fn] of Object.entries(resourcesOf(template, 'AWS::Lambda::Function'))) {
    const env = (fn.Properties?.['Environment'] as { Variables?: Record<string, unknown> } | undefined)?.Variables;
    const service = env?.['POWERTOOLS_SERVICE_NAME'];
    if (typeof service === 'string' && (JOBS as readonly string[]).includes(service)) ids[service as JobName] = id;
  }
  for (const job of JOBS) if (!ids[job]) throw new Error(`no function for ${job}`);
  return ids as Record<JobName, string>;
}

/** Logical id of a construct's CloudFormation resource. */
export function logicalId(stack: Stack, construct: { node: { defaultChild?: unknown } }): string {
  return stack.resolve((construct.node.defaultChild as { logicalId: string }).logicalId) as string;
}

export interface Statement {
  readonly Sid?: string;
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
}

/** Every statement of every identity policy in the template, with its policy's logical id. */
export function policyStatements(template: Template): { policy: string; roles: unknown; statement: Statement }[] {
  const out: { policy: string; roles: unknown; statement: Statement }[] = [];
  for (const [id, policy] of Object.entries(resourcesOf(template, 'AWS::IAM::Policy'))) {
    const doc = policy.Properties?.['PolicyDocument'] as { Statement: Statement[] };
    for (const statement of doc.Statement) out.push({ policy: id, roles: policy.Properties?.['Roles'], statement });
  }
  return out;
}

export function actionsOf(statement: Statement): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

export function resourcesOfStatement(statement: Statement): unknown[] {
  return Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
}

/** The EventBridge Scheduler rate expression CDK renders for an interval in whole minutes. */
export function rateExpression(seconds: number): string {
  const minutes = seconds / 60;
  if (!Number.isInteger(minutes)) throw new Error(`${seconds}s is not whole minutes`);
  return `rate(${minutes} minute${minutes === 1 ? '' : 's'})`;
}
