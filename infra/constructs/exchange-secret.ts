/**
 * The Secrets Manager secret that holds the exchange API keys (SEC-1), referenced by name from
 * the deployment config, never created by the stack. The template therefore holds no secret
 * value and no generator for one: no deploy, update, rollback or replacement can overwrite the
 * keys the operator stored, and deleting the stack leaves them alone. The operator creates the
 * secret once (`aws secretsmanager create-secret --name <name> --secret-string file://keys.json`)
 * before the first live deploy; paper mode never reads it.
 */
import { Secret, type ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/** The secret's JSON fields. */
export const EXCHANGE_SECRET_FIELDS = ['apiKey', 'secret'] as const;

export interface ExchangeSecretProps {
  /** Name of the existing secret (Secrets Manager appends a random suffix to its ARN). */
  readonly secretName: string;
}

export class ExchangeSecret extends Construct {
  readonly secret: ISecret;
  /** What the functions pass as `SecretId`: the name, which does not depend on the ARN suffix. */
  readonly secretId: string;

  constructor(scope: Construct, id: string, props: ExchangeSecretProps) {
    super(scope, id);
    this.secret = Secret.fromSecretNameV2(this, 'Secret', props.secretName);
    this.secretId = props.secretName;
  }

  /** Lets `grantee` read the keys (functions that call the exchange's private API only). */
  grantRead(grantee: IGrantable): void {
    this.secret.grantRead(grantee);
  }
}
