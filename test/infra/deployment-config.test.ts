import { describe, it, expect } from 'vitest';
import { ConfigError } from '../../shared/domain/errors.js';
import { ENV } from '../../shared/runtime/config.js';
import { JOBS } from '../../shared/definitions/schedules.js';
import { DeploymentConfigError, parseDeploymentConfig, tradingMode } from '../../infra/config/deployment-config.js';
import { validateFunctionEnvironment, functionEnvironment, type FunctionResources } from '../../infra/config/function-environment.js';
import { resolveDeploymentConfig, STAGES } from '../../infra/config/stages.js';

const resources: FunctionResources = {
  stateTable: 'state',
  auditTable: 'audit',
  idempotencyTable: 'idempotency',
  paperTable: 'paper',
  executionQueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/q.fifo',
  executionDlqUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/dlq.fifo',
  eventBusName: 'bus',
  exchangeSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:keys',
};

function issuesOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof DeploymentConfigError || error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error('expected the configuration to be rejected');
}

describe('Config: deployment configuration', () => {
  describe('Method: resolveDeploymentConfig', () => {
    it('deploys the dev stage in paper mode when nothing is given', () => {
      const config = resolveDeploymentConfig({});
      expect(config.stage).toBe('dev');
      expect(config.live).toBe(false);
      expect(tradingMode(config)).toBe('paper');
    });

    it('keeps every stage on paper unless the live flag is given', () => {
      for (const stage of Object.keys(STAGES)) expect(tradingMode(resolveDeploymentConfig({ stage }))).toBe('paper');
      expect(tradingMode(resolveDeploymentConfig({ stage: 'prod', live: 'true', alarmEmail: 'ops@example.com' }))).toBe('live');
    });

    it('refuses a live flag that is not exactly true or false', () => {
      expect(() => resolveDeploymentConfig({ live: 'yes' })).toThrow(/"live" must be true or false/);
    });

    it('refuses live trading without an alarm email', () => {
      expect(issuesOf(() => resolveDeploymentConfig({ live: 'true' }))).toMatch(/alarmEmail: live trading needs an alarm email/);
    });

    it('names the known stages when the stage is unknown', () => {
      expect(() => resolveDeploymentConfig({ stage: 'staging' })).toThrow(/unknown stage "staging"; known stages: dev, prod/);
    });

    it('rejects a malformed alarm email', () => {
      expect(issuesOf(() => resolveDeploymentConfig({ alarmEmail: 'not-an-email' }))).toMatch(/alarmEmail/);
    });
  });

  describe('Method: parseDeploymentConfig', () => {
    const dev = { ...STAGES['dev'] };

    it('names each invalid field', () => {
      const message = issuesOf(() =>
        parseDeploymentConfig({ ...dev, logRetentionDays: 10, executor: { batchSize: 11, maxConcurrency: 1 } }),
      );
      expect(message).toMatch(/logRetentionDays/);
      expect(message).toMatch(/executor\.batchSize/);
      expect(message).toMatch(/executor\.maxConcurrency/);
    });

    it('keeps the executor timeout within a sixth of the execution queue visibility timeout', () => {
      const functions = { ...dev.functions, executor: { memoryMb: 512, timeoutSeconds: 60 } };
      expect(issuesOf(() => parseDeploymentConfig({ ...dev, functions }))).toMatch(/functions\.executor\.timeoutSeconds: must be at most 30/);
    });

    it('keeps a scheduled job timeout within its schedule interval so runs do not overlap', () => {
      const functions = { ...dev.functions, scanner: { memoryMb: 512, timeoutSeconds: 90 } };
      expect(issuesOf(() => parseDeploymentConfig({ ...dev, functions }))).toMatch(/functions\.scanner\.timeoutSeconds/);
    });

    it('rejects watchlist symbols not quoted in the quote currency', () => {
      expect(issuesOf(() => parseDeploymentConfig({ ...dev, watchlist: ['BTC/EUR'] }))).toMatch(/BTC\/EUR is not quoted in USDT/);
    });

    it('accepts only tunable settings, not the ones the stack owns', () => {
      expect(issuesOf(() => parseDeploymentConfig({ ...dev, settings: { stateTable: 'x' } }))).toMatch(/settings/);
      expect(parseDeploymentConfig({ ...dev, settings: { maxOpenPositions: '3' } }).settings).toEqual({ maxOpenPositions: '3' });
    });
  });
});

describe('Config: function environment', () => {
  it('sets every function up for its own Powertools service and the resources of the stack', () => {
    const config = resolveDeploymentConfig({});
    for (const job of JOBS) {
      const env = functionEnvironment(config, job, resources);
      expect(env['POWERTOOLS_SERVICE_NAME']).toBe(job);
      expect(env[ENV.stateTable]).toBe('state');
      expect(env[ENV.executionDlqUrl]).toBe(resources.executionDlqUrl);
      expect(env[ENV.eventBusName]).toBe('bus');
      expect(env[ENV.exchangeSecretArn]).toBeUndefined();
      expect(() => validateFunctionEnvironment(env)).not.toThrow();
    }
  });

  it('uses only variable names the functions read (the shared ENV map) besides Powertools and Node options', () => {
    const known = new Set<string>([...Object.values(ENV), 'POWERTOOLS_SERVICE_NAME', 'POWERTOOLS_METRICS_NAMESPACE', 'NODE_OPTIONS']);
    const config = resolveDeploymentConfig({ live: 'true', alarmEmail: 'ops@example.com' });
    for (const name of Object.keys(functionEnvironment(config, 'executor', resources))) expect(known.has(name), name).toBe(true);
  });

  it('passes tunables through under their environment names', () => {
    const config = parseDeploymentConfig({ ...STAGES['dev'], settings: { maxOpenPositions: '3', dropPercent: '2.5' } });
    const env = functionEnvironment(config, 'scanner', resources);
    expect(env[ENV.maxOpenPositions]).toBe('3');
    expect(env[ENV.dropPercent]).toBe('2.5');
  });

  it('fails before deploying when the functions would reject a setting at cold start', () => {
    const config = parseDeploymentConfig({ ...STAGES['dev'], settings: { maxOpenPositions: 'many' } });
    expect(issuesOf(() => validateFunctionEnvironment(functionEnvironment(config, 'scanner', resources)))).toMatch(/TW_MAX_OPEN_POSITIONS/);
  });
});
