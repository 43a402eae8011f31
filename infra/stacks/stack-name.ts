import { stackNameOf } from '../../shared/definitions/stack-outputs.js';
import type { DeploymentConfig } from '../config/deployment-config.js';

/** One stack per stage: `Tradewarden-dev`, `Tradewarden-prod` (the operator tools find it by this name). */
export function stackName(config: Pick<DeploymentConfig, 'stage'>): string {
  return stackNameOf(config.stage);
}
