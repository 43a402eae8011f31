/**
 * The Secrets Manager secret that holds the exchange API keys (SEC-1). It is created with an
 * empty placeholder; the operator puts the real keys in it (console or CLI) before going live.
 * CloudFormation never rewrites it afterwards because its template value does not change.
 */
import { RemovalPolicy, SecretValue, Validations } from 'aws-cdk-lib';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

/** The secret's JSON fields. */
export const EXCHANGE_SECRET_FIELDS = ['apiKey', 'secret'] as const;

export interface ExchangeSecretProps {
  /**
   * What happens to the secret (and the keys in it) when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

export class ExchangeSecret extends Construct {
  readonly secret: Secret;

  constructor(scope: Construct, id: string, props: ExchangeSecretProps = {}) {
    super(scope, id);
    this.secret = new Secret(this, 'Secret', {
      description: 'Tradewarden exchange API keys: {"apiKey": "...", "secret": "..."}',
      // Empty placeholders, not keys: safe to appear in the template.
      secretObjectValue: Object.fromEntries(EXCHANGE_SECRET_FIELDS.map((f) => [f, SecretValue.unsafePlainText('')])),
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    Validations.of(this.secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Exchange API keys are issued by the exchange and can only be rotated there; Secrets Manager has no ' +
        'rotation function for them. The operator rotates them on the exchange and updates this secret.',
    });
  }

  /** Lets `grantee` read the keys (functions that call the exchange's private API only). */
  grantRead(grantee: IGrantable): void {
    this.secret.grantRead(grantee);
  }
}
