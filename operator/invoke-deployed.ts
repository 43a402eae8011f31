/**
 * Ad hoc invocation of a deployed function (OPS-3): `Lambda Invoke` of the function the stack
 * outputs as `<Job>FunctionName`, with the operator's credentials and region (AWS_ENDPOINT_URL_LAMBDA
 * redirects it). The result is the function's JSON, printed like a local invocation.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { functionNameOutput } from '../shared/definitions/stack-outputs.js';
import type { JobName } from '../shared/definitions/schedules.js';
import { ErrorCode, TradewardenError } from '../shared/domain/errors.js';
import { StackUnavailableError } from '../shared/operations/errors.js';
import { requireAwsAccess } from './aws-access.js';
import type { ResolvedStack } from './stack-outputs.js';

/** The function ran and failed: its error type and message, as Lambda reports them. */
export class FunctionFailedError extends TradewardenError {
  constructor(functionName: string, errorType: string, errorMessage: string) {
    super(ErrorCode.FunctionFailed, `${functionName} failed: ${errorType}: ${errorMessage}`, false, { details: { functionName, errorType, errorMessage } });
    this.name = 'FunctionFailedError';
  }
}

/**
 * Invokes `job`'s function of `stack` synchronously with `event`.
 * @returns the function's JSON result.
 * @throws StackUnavailableError (no function name output, no credentials), FunctionFailedError.
 */
export async function invokeDeployed(stack: ResolvedStack, job: JobName, event: unknown): Promise<unknown> {
  const key = functionNameOutput(job);
  const functionName = stack.outputs[key];
  if (!functionName) {
    throw new StackUnavailableError(`the outputs of ${stack.stackName} lack ${key}`, 'deploy this version (npx cdk deploy -c stage=<name>), then rewrite the outputs file (--outputs-file) if you use one');
  }
  const lambda = new LambdaClient({});
  try {
    await requireAwsAccess(lambda);
    const out = await lambda.send(new InvokeCommand({ FunctionName: functionName, InvocationType: 'RequestResponse', Payload: new TextEncoder().encode(JSON.stringify(event)) }));
    const text = out.Payload ? new TextDecoder().decode(out.Payload) : '';
    const payload: unknown = text === '' ? null : JSON.parse(text);
    if (out.FunctionError) {
      const e = (payload ?? {}) as { errorType?: unknown; errorMessage?: unknown };
      throw new FunctionFailedError(functionName, String(e.errorType ?? out.FunctionError), String(e.errorMessage ?? text));
    }
    return payload;
  } finally {
    lambda.destroy();
  }
}
