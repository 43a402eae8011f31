/**
 * The CDK app (cdk.json: `npx tsx infra/app.ts`).
 *
 *   npm run synth                                   dev stage, paper trading
 *   npx cdk deploy -c stage=prod                    prod stage, paper trading
 *   npx cdk deploy -c stage=prod -c live=true -c alarmEmail=ops@example.com
 *
 * See config/stages.ts for the stages and the flags.
 */
import { App } from 'aws-cdk-lib';
import { resolveDeploymentConfig } from './config/stages.js';
import { addNagChecks } from './nag.js';
import { stackName } from './stacks/stack-name.js';
import { TradewardenStack } from './stacks/tradewarden-stack.js';

const app = new App();
const config = resolveDeploymentConfig({
  stage: app.node.tryGetContext('stage'),
  live: app.node.tryGetContext('live'),
  alarmEmail: app.node.tryGetContext('alarmEmail'),
  monitoring: app.node.tryGetContext('monitoring'),
});
new TradewardenStack(app, stackName(config), { config });
addNagChecks(app);
app.synth();
