/**
 * The one place a Lambda entry point reads its environment: at cold start, once.
 */
import type { JobName } from '../definitions/schedules.js';
import { loadConfig } from './config.js';
import { createContainer, type Container } from './container.js';

/** Parses the configuration from the process environment and wires the container. */
export function containerFromEnvironment(job: JobName): Container {
  return createContainer(job, loadConfig(process.env));
}
