/**
 * DATA-6 on a deployed stage: the `paperMarket` deployment setting. With `exchange`, the functions
 * that read market data get TW_PAPER_MARKET=exchange and bundle the configured exchange's ccxt
 * class; health, the notifier and the audit anchor stay exchange-free, and so does every function
 * of a default paper stage.
 */
import { describe, expect, it } from 'vitest';
import { JOBS, type JobName } from '../../shared/definitions/schedules.js';
import { ENV } from '../../shared/runtime/config.js';
import { bundledExchange, DeploymentConfigError, parseDeploymentConfig } from '../../infra/config/deployment-config.js';
import { resolveDeploymentConfig, STAGES } from '../../infra/config/stages.js';
import { buildStack, functionIds, resourcesOf } from './stack-fixture.js';

/** A synth bundles every function with esbuild: over a minute on a loaded two-core machine (as in stack.test.ts). */
const SYNTH_TIMEOUT_MS = 180_000;

/** Each job's TW_PAPER_MARKET in the synthesized template (undefined: not set). */
function paperMarketOf(built: ReturnType<typeof buildStack>): Record<JobName, unknown> {
  const ids = functionIds(built.template);
  const functions = resourcesOf(built.template, 'AWS::Lambda::Function');
  return Object.fromEntries(JOBS.map((job) => [job, (functions[ids[job]]?.Properties?.['Environment'] as { Variables: Record<string, unknown> }).Variables[ENV.paperMarket]])) as Record<JobName, unknown>;
}

/** Which ccxt module each job's bundle aliases: the exchange-free one or one exchange's. */
function ccxtOf(built: ReturnType<typeof buildStack>): Record<JobName, string> {
  return Object.fromEntries(JOBS.map((job) => [job, /ccxt-(\w+)\.mjs$/.exec(built.stack.functions[job].bundle.alias['ccxt'] ?? '')?.[1] ?? 'missing'])) as Record<JobName, string>;
}

describe('Config: paperMarket (DATA-6)', () => {
  it('is synthetic unless a stage or the command line says exchange', () => {
    expect(resolveDeploymentConfig({}).paperMarket).toBe('synthetic');
    expect(resolveDeploymentConfig({ paperMarket: 'exchange' }).paperMarket).toBe('exchange');
  });

  it('refuses any other value, naming the field', () => {
    expect(() => resolveDeploymentConfig({ paperMarket: 'replay' })).toThrow(DeploymentConfigError);
    expect(() => resolveDeploymentConfig({ paperMarket: 'replay' })).toThrow(/paperMarket/);
  });

  it('cannot be set as a function setting, which would leave the bundles without the exchange', () => {
    expect(() => parseDeploymentConfig({ ...STAGES['dev'], settings: { paperMarket: 'exchange' } })).toThrow(/settings/);
    expect(parseDeploymentConfig({ ...STAGES['dev'], paperMarket: 'exchange' }).paperMarket).toBe('exchange');
  });

  it('bundles the exchange only for the jobs that read market data, and only on real prices or live', () => {
    const paper = resolveDeploymentConfig({});
    const real = resolveDeploymentConfig({ paperMarket: 'exchange' });
    const live = resolveDeploymentConfig({ live: true, alarmEmail: 'ops@example.com', paperMarket: 'exchange' });
    expect(JOBS.map((job) => bundledExchange(paper, job))).toEqual(JOBS.map(() => undefined));
    expect(Object.fromEntries(JOBS.map((job) => [job, bundledExchange(real, job)]))).toEqual({ scanner: 'binance', executor: 'binance', reconciler: 'binance', health: undefined });
    expect(JOBS.map((job) => bundledExchange(live, job))).toEqual(JOBS.map(() => 'binance'));
  });
});

describe('Stack: a paper stage on real prices (DATA-6)', () => {
  it('sets TW_PAPER_MARKET=exchange and bundles binance for scanner, executor and reconciler, not for health', () => {
    const built = buildStack({ paperMarket: 'exchange' });

    expect(paperMarketOf(built)).toEqual({ scanner: 'exchange', executor: 'exchange', reconciler: 'exchange', health: undefined });
    expect(ccxtOf(built)).toEqual({ scanner: 'binance', executor: 'binance', reconciler: 'binance', health: 'none' });
  }, SYNTH_TIMEOUT_MS);

  it('keeps a default paper stage free of any exchange, with no TW_PAPER_MARKET', () => {
    const built = buildStack({});

    expect(paperMarketOf(built)).toEqual({ scanner: undefined, executor: undefined, reconciler: undefined, health: undefined });
    expect(ccxtOf(built)).toEqual({ scanner: 'none', executor: 'none', reconciler: 'none', health: 'none' });
  }, SYNTH_TIMEOUT_MS);

  it('ignores it in live mode: every function trades on the exchange and none is told to paper-trade', () => {
    const built = buildStack({ live: true, alarmEmail: 'ops@example.com', paperMarket: 'exchange' });

    expect(paperMarketOf(built)).toEqual({ scanner: undefined, executor: undefined, reconciler: undefined, health: undefined });
    expect(ccxtOf(built)).toEqual({ scanner: 'binance', executor: 'binance', reconciler: 'binance', health: 'binance' });
  }, SYNTH_TIMEOUT_MS);
});
