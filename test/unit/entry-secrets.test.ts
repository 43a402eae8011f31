import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { containerFromEnvironment } from '../../shared/runtime/entry.js';

const LIVE_ENV = {
  TW_MODE: 'live',
  TW_LIVE_TRADING_CONFIRMED: 'true',
  TW_EXCHANGE_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:keys',
  TW_STATE_TABLE: 'state',
  TW_AUDIT_TABLE: 'audit',
  TW_IDEMPOTENCY_TABLE: 'idem',
  TW_PAPER_TABLE: 'paper',
  TW_EXECUTION_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/q.fifo',
  TW_EXECUTION_DLQ_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/dlq.fifo',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
};

const SECRET_VALUE = 'sk-live-DO-NOT-LEAK-4f1c';

describe('Function: containerFromEnvironment (live mode, SEC-1)', () => {
  let secretString: string;
  let send: ReturnType<typeof vi.spyOn>;

  beforeEach(() => {
    for (const [k, v] of Object.entries(LIVE_ENV)) vi.stubEnv(k, v);
    send = vi.spyOn(SecretsManagerClient.prototype, 'send').mockImplementation(async (command: unknown) => {
      expect(command).toBeInstanceOf(GetSecretValueCommand);
      return { SecretString: secretString } as never;
    });
  });

  afterEach(() => {
    vi.unstubAllEnvs();
    send.mockRestore();
  });

  it('refuses the placeholder secret with a coded error that names the setting, not the content', async () => {
    secretString = JSON.stringify({ apiKey: '', secret: SECRET_VALUE });
    const error = await containerFromEnvironment('executor').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CONFIG_INVALID' });
    expect(JSON.stringify(error)).not.toContain(SECRET_VALUE);
    expect(String((error as Error).message)).toMatch(/TW_EXCHANGE_SECRET_ARN/);
  });

  it('never echoes a secret that is not JSON', async () => {
    secretString = SECRET_VALUE;
    const error = await containerFromEnvironment('reconciler').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CONFIG_INVALID' });
    expect(`${String((error as Error).message)} ${JSON.stringify(error)}`).not.toContain(SECRET_VALUE);
  });

  it('reads the keys once for a trading job and not at all for the scanner or health', async () => {
    secretString = JSON.stringify({ apiKey: 'key-123', secret: SECRET_VALUE });
    const executor = await containerFromEnvironment('executor');
    expect(executor.exchange.source).toBe('exchange');
    expect(send).toHaveBeenCalledTimes(1);
    await containerFromEnvironment('scanner');
    await containerFromEnvironment('health');
    expect(send).toHaveBeenCalledTimes(1);
    for (const c of [executor]) {
      c.ddb.destroy();
      c.sqs.destroy();
    }
  });
});
