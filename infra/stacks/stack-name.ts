import type { DeploymentConfig } from '../config/deployment-config.js';

/** One stack per stage: `Tradewarden-dev`, `Tradewarden-prod`. */
export function stackName(config: Pick<DeploymentConfig, 'stage'>): string {
  return `Tradewarden-${config.stage}`;
}
