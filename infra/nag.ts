/**
 * cdk-nag's AwsSolutions rules run on every synth as a CDK validation plugin: any finding that
 * is not acknowledged (each acknowledgement names its rule id and a concrete reason, next to the
 * construct it is about) fails the synth.
 */
import { Validations, type App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';

export function addNagChecks(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
}
