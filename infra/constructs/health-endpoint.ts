/**
 * The health report over HTTP (HLT-2): a Lambda function URL that requires SigV4-signed
 * requests (SEC-3). Callers need `lambda:InvokeFunctionUrl` (and `lambda:InvokeFunction`) on
 * the health function; nothing grants that to anyone by default.
 */
import { CfnOutput } from 'aws-cdk-lib';
import { FunctionUrlAuthType, type FunctionUrl, type IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

export interface HealthEndpointProps {
  readonly function: IFunction;
}

export class HealthEndpoint extends Construct {
  readonly url: FunctionUrl;

  constructor(scope: Construct, id: string, props: HealthEndpointProps) {
    super(scope, id);
    this.url = props.function.addFunctionUrl({ authType: FunctionUrlAuthType.AWS_IAM });
    new CfnOutput(this, 'Url', { value: this.url.url, description: 'Health report (IAM-authenticated function URL)' });
  }
}
