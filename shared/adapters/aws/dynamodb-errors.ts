/**
 * The one DynamoDB failure adapters translate: a lost condition. Everything else (throttling,
 * network, validation) propagates so the invocation fails and is retried (HLT-5).
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';

export function isConditionFailed(error: unknown): boolean {
  return (
    error instanceof ConditionalCheckFailedException ||
    (error instanceof Error && error.name === 'ConditionalCheckFailedException')
  );
}
