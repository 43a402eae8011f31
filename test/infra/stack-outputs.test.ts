/**
 * OPS-7: the stack publishes everything the operator tools need under stable output keys, and
 * the embedded stack's outputs file has the same keys; the published settings rebuild the
 * functions' configuration.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { localStackOutputs, startLocalStack, type LocalStack } from '../../local-runtime/stack.js';
import { OUTPUT_VALUE_MAX_CHARS } from '../../infra/stacks/tradewarden-stack.js';
import { COMMON_OUTPUTS, OPERATOR_OUTPUTS, STACK_OUTPUT, environmentFromOutputs } from '../../shared/definitions/stack-outputs.js';
import { ENV, loadConfig } from '../../shared/runtime/config.js';
import { buildStack, type Built } from './stack-fixture.js';

/** Two synths; minutes on a shared, loaded machine (a bound for the hook, not a timed assertion). */
const SYNTH_TIMEOUT_MS = 180_000;

describe('Stack outputs', () => {
  let paper: Built;
  let live: Built;

  beforeAll(() => {
    paper = buildStack();
    live = buildStack({ live: 'true', alarmEmail: 'ops@example.com' });
  }, SYNTH_TIMEOUT_MS);

  const outputsOf = (b: Built) => b.template.toJSON()['Outputs'] as Record<string, { Value: unknown }>;

  it('publishes every key the operator tools read', () => {
    for (const b of [paper, live]) expect(Object.keys(outputsOf(b))).toEqual(expect.arrayContaining([...COMMON_OUTPUTS, STACK_OUTPUT.eventBusName, STACK_OUTPUT.exchangeSecretArn, STACK_OUTPUT.alarmTopicArn]));
  });

  it('names the real tables and queues', () => {
    const outputs = outputsOf(paper);
    expect(outputs[STACK_OUTPUT.stateTable]?.Value).toEqual({ Ref: expect.stringMatching(/^TablesStateTable/) });
    expect(outputs[STACK_OUTPUT.executionQueueUrl]?.Value).toEqual({ Ref: expect.stringMatching(/^ExecutionExecutionQueue/) });
    expect(outputs[STACK_OUTPUT.executionDlqUrl]?.Value).toEqual({ Ref: expect.stringMatching(/^ExecutionExecutionDlq/) });
  });

  it('publishes the functions\' settings, which rebuild their configuration with the resource outputs', () => {
    for (const [b, mode] of [[paper, 'paper'], [live, 'live']] as const) {
      const raw = outputsOf(b)[STACK_OUTPUT.functionSettings]?.Value;
      expect(typeof raw).toBe('string');
      expect(String(raw).length).toBeLessThanOrEqual(OUTPUT_VALUE_MAX_CHARS);
      const settings = JSON.parse(String(raw)) as Record<string, string>;
      expect(settings[ENV.mode]).toBe(mode);
      // No resource name or endpoint is in the settings: they come from their own outputs.
      for (const name of [ENV.stateTable, ENV.executionQueueUrl, ENV.dynamodbEndpoint, ENV.exchangeSecretArn]) expect(settings).not.toHaveProperty(name);
      const deployed = Object.fromEntries(OPERATOR_OUTPUTS.map((k) => [k, k === STACK_OUTPUT.functionSettings ? String(raw) : k.endsWith('Url') ? 'https://sqs.eu-west-1.amazonaws.com/1/q.fifo' : 'name']));
      const built = environmentFromOutputs({ ...deployed, [STACK_OUTPUT.exchangeSecretArn]: 'arn:secret' });
      if (!('env' in built)) throw new Error(`missing ${built.missing.join(', ')}`);
      expect(loadConfig(built.env)).toMatchObject({ mode, watchlist: ['BTC/USDT', 'ETH/USDT', 'SOL/USDT'] });
    }
  });

  describe('the embedded stack', () => {
    let stack: LocalStack;
    beforeAll(async () => {
      stack = await startLocalStack();
    });

    it('writes the same keys, and they rebuild its configuration', async () => {
      const outputs = localStackOutputs(stack.env);
      expect(Object.keys(outputs).sort()).toEqual([...COMMON_OUTPUTS].sort());
      const built = environmentFromOutputs(outputs);
      if (!('env' in built)) throw new Error(`missing ${built.missing.join(', ')}`);
      const config = loadConfig(built.env);
      const local = loadConfig(stack.env);
      // Endpoints come from the operator's SDK environment, the log level from the operator tool.
      const { dynamodbEndpoint: _d, sqsEndpoint: _s, logLevel: _l, ...rest } = local;
      expect({ ...config, logLevel: undefined }).toEqual(rest);
      await stack.stop();
    });
  });
});
