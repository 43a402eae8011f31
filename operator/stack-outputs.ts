/**
 * Where a deployed stack's outputs come from: CloudFormation `DescribeStacks` of the stage's
 * stack, or a file written by `cdk deploy --outputs-file` (`npm start` writes one too, for the
 * embedded stack). Each failure is a coded error that names what is missing and what to run.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { stackNameOf } from '../shared/definitions/stack-outputs.js';
import { StackUnavailableError } from '../shared/operations/errors.js';
import { requireAwsAccess } from './aws-access.js';

export type StackOutputs = Readonly<Record<string, string>>;

export interface ResolvedStack {
  readonly stackName: string;
  readonly outputs: StackOutputs;
}

/** Stage names as `cdk deploy -c stage=<name>` takes them. */
const STAGE_NAME = /^[a-z][a-z0-9-]{0,30}$/;

/** The stages this app can deploy (infra/config/stages.ts), loaded only when a stage is named. */
async function knownStages(): Promise<string[]> {
  const { STAGES } = await import('../infra/config/stages.js');
  return Object.keys(STAGES);
}

/**
 * The outputs of `Tradewarden-<stage>` from CloudFormation, with the operator's credentials and region.
 * @throws StackUnavailableError for an unknown stage, missing credentials or region, or no such stack.
 */
export async function describeStackOutputs(stage: string): Promise<ResolvedStack> {
  const stages = await knownStages();
  if (!STAGE_NAME.test(stage) || !stages.includes(stage)) {
    throw new StackUnavailableError(`unknown stage ${JSON.stringify(stage)}`, `use one of ${stages.join(', ')} (infra/config/stages.ts), or --outputs <file> from npx cdk deploy --outputs-file <file>`);
  }
  const stackName = stackNameOf(stage);
  const cfn = new CloudFormationClient({});
  try {
    const region = await requireAwsAccess(cfn);
    let out;
    try {
      out = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (/does not exist/i.test(message)) {
        throw new StackUnavailableError(`no stack ${stackName} in ${region}`, `deploy it with npx cdk deploy -c stage=${stage}, or set AWS_REGION / AWS_PROFILE to where it is`, { cause: error });
      }
      throw new StackUnavailableError(`cannot describe stack ${stackName} in ${region}: ${message}`, 'check the credentials (cloudformation:DescribeStacks) and the network', { cause: error });
    }
    const stack = out.Stacks?.[0];
    if (!stack) throw new StackUnavailableError(`no stack ${stackName} in ${region}`, `deploy it with npx cdk deploy -c stage=${stage}`);
    const outputs: Record<string, string> = {};
    for (const o of stack.Outputs ?? []) if (o.OutputKey && o.OutputValue !== undefined) outputs[o.OutputKey] = o.OutputValue;
    return { stackName, outputs };
  } finally {
    cfn.destroy();
  }
}

const regenerate = (file: string) =>
  `write it with npx cdk deploy --outputs-file ${file} (npm start writes .tradewarden/outputs.json for the local stack), or use --stage <name>`;

/**
 * The outputs of one stack from a `cdk deploy --outputs-file` file. With `stage`, the entry of
 * `Tradewarden-<stage>`; without it, the file's only Tradewarden stack.
 * @throws StackUnavailableError for a missing or malformed file, or when the stack is not in it.
 */
export function readOutputsFile(file: string, stage?: string): ResolvedStack {
  if (!existsSync(file)) throw new StackUnavailableError(`no outputs file ${file}`, regenerate(file));
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new StackUnavailableError(`${file} is not JSON`, regenerate(file), { cause: error });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new StackUnavailableError(`${file} is not an outputs file ({"<stack>": {"<OutputKey>": "<value>"}})`, regenerate(file));
  }
  const stacks = Object.keys(parsed).filter((name) => name.startsWith('Tradewarden-'));
  const wanted = stage !== undefined ? stackNameOf(stage) : undefined;
  let stackName: string | undefined;
  if (wanted !== undefined) stackName = stacks.includes(wanted) ? wanted : undefined;
  else if (stacks.length === 1) stackName = stacks[0];
  else if (stacks.length > 1) throw new StackUnavailableError(`${file} holds the stacks ${stacks.join(', ')}`, 'add --stage <name> to pick one');
  if (stackName === undefined) {
    throw new StackUnavailableError(`${file} has no outputs of ${wanted ?? 'a Tradewarden stack'}${stacks.length > 0 ? ` (it holds ${stacks.join(', ')})` : ''}`, regenerate(file));
  }
  const entry = (parsed as Record<string, unknown>)[stackName];
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) throw new StackUnavailableError(`${file}: the entry of ${stackName} is not an object`, regenerate(file));
  const outputs: Record<string, string> = {};
  for (const [key, value] of Object.entries(entry)) if (typeof value === 'string') outputs[key] = value;
  return { stackName, outputs };
}

/** Writes an outputs file in the `cdk deploy --outputs-file` format, atomically (write, then rename). */
export function writeOutputsFile(file: string, stackName: string, outputs: StackOutputs): void {
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify({ [stackName]: outputs }, null, 2)}\n`);
  renameSync(temp, file);
}
