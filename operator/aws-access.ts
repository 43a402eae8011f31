/**
 * Checks, before the first call, that the AWS SDK finds a region and credentials in the
 * operator's environment (AWS_REGION / AWS_PROFILE / AWS_ACCESS_KEY_ID ...), so a missing one is
 * a coded error that says what to set rather than an SDK stack trace halfway through a command.
 */
import { StackUnavailableError } from '../shared/operations/errors.js';

interface SdkClientConfig {
  readonly config: { region: () => Promise<string>; credentials: () => Promise<unknown> };
}

/** @returns the region. @throws StackUnavailableError naming what is missing. */
export async function requireAwsAccess(client: SdkClientConfig): Promise<string> {
  let region: string;
  try {
    region = await client.config.region();
  } catch (error) {
    throw new StackUnavailableError('no AWS region', 'set AWS_REGION (e.g. AWS_REGION=eu-west-1) or a region in your AWS_PROFILE', { cause: error });
  }
  if (!region) throw new StackUnavailableError('no AWS region', 'set AWS_REGION (e.g. AWS_REGION=eu-west-1) or a region in your AWS_PROFILE');
  try {
    await client.config.credentials();
  } catch (error) {
    throw new StackUnavailableError(
      'no AWS credentials found',
      'set AWS_PROFILE (after aws configure or aws sso login) or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY',
      { cause: error },
    );
  }
  return region;
}
