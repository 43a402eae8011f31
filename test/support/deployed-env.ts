/**
 * Points the deployed transport at an embedded stack the way an operator would point it at AWS:
 * an outputs file in the `cdk deploy --outputs-file` format, and the standard AWS SDK
 * environment (AWS_REGION, credentials, AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL_SQS).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localStackOutputs, type LocalStack } from '../../local-runtime/stack.js';
import { writeOutputsFile } from '../../operator/stack-outputs.js';
import { LOCAL_STACK_NAME } from '../../shared/definitions/stack-outputs.js';

/** The SDK environment of an operator whose endpoints are the emulators of `stack`. */
export function sdkEnvFor(stack: Pick<LocalStack, 'dynamo' | 'sqs'>): Record<string, string> {
  return {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'operator',
    AWS_SECRET_ACCESS_KEY: 'operator',
    AWS_ENDPOINT_URL_DYNAMODB: stack.dynamo.endpoint,
    AWS_ENDPOINT_URL_SQS: stack.sqs.endpoint,
    // Never reach for real credentials or instance metadata from a test.
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
    AWS_CONFIG_FILE: '/nonexistent/config',
  };
}

/** Names of the SDK variables `withEnv` restores. */
const SDK_VARIABLES = ['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_PROFILE', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_DYNAMODB', 'AWS_ENDPOINT_URL_SQS', 'AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL_CLOUDFORMATION', 'AWS_ENDPOINT_URL_LAMBDA', 'AWS_EC2_METADATA_DISABLED', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_CONFIG_FILE'];

/** Replaces the process's AWS SDK environment with `env` while `fn` runs (this test file's process only). */
export async function withSdkEnv<T>(env: Readonly<Record<string, string>>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(SDK_VARIABLES.map((name) => [name, process.env[name]]));
  for (const name of SDK_VARIABLES) delete process.env[name];
  Object.assign(process.env, env);
  try {
    return await fn();
  } finally {
    for (const name of SDK_VARIABLES) delete process.env[name];
    for (const [name, value] of Object.entries(saved)) if (value !== undefined) process.env[name] = value;
  }
}

/** An outputs file of the embedded stack in a fresh temporary directory. */
export function writeLocalOutputs(stack: Pick<LocalStack, 'env'>): { file: string; dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'tw-outputs-'));
  const file = join(dir, 'outputs.json');
  writeOutputsFile(file, LOCAL_STACK_NAME, localStackOutputs(stack.env));
  return { file, dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
