import { describe, expect, it } from 'vitest';
import { ConfigError, ErrorCode, UnknownSettingError } from '../../shared/domain/errors.js';
import { loadConfig, scanDeadlineSeconds } from '../../shared/runtime/config.js';

const REQUIRED = {
  TW_STATE_TABLE: 'state',
  TW_AUDIT_TABLE: 'audit',
  TW_IDEMPOTENCY_TABLE: 'idem',
  TW_PAPER_TABLE: 'paper',
  TW_EXECUTION_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/1/q.fifo',
  TW_EXECUTION_DLQ_URL: 'https://sqs.us-east-1.amazonaws.com/1/dlq.fifo',
};

describe('Function: loadConfig', () => {
  it('defaults to paper mode with typed values', () => {
    const config = loadConfig(REQUIRED);
    expect(config.mode).toBe('paper');
    expect(config.watchlist).toEqual(['BTC/USDT', 'ETH/USDT', 'SOL/USDT']);
    expect(config.intentTtlSeconds).toBe(120);
  });

  it('names every missing or invalid field in one error', () => {
    let error: unknown;
    try {
      loadConfig({ ...REQUIRED, TW_STATE_TABLE: undefined, TW_INTENT_TTL_SECONDS: 'soon', TW_ORDER_QUOTE_AMOUNT: '-5' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toMatch(/TW_STATE_TABLE/);
    expect(message).toMatch(/TW_INTENT_TTL_SECONDS/);
    expect(message).toMatch(/TW_ORDER_QUOTE_AMOUNT/);
  });

  it('refuses live mode without the explicit confirmation and the API key secret', () => {
    expect(() => loadConfig({ ...REQUIRED, TW_MODE: 'live' })).toThrow(/TW_LIVE_TRADING_CONFIRMED.*TW_EXCHANGE_SECRET_ARN|TW_EXCHANGE_SECRET_ARN.*TW_LIVE_TRADING_CONFIRMED/);
    const live = loadConfig({ ...REQUIRED, TW_MODE: 'live', TW_LIVE_TRADING_CONFIRMED: 'true', TW_EXCHANGE_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:1:secret:x' });
    expect(live.mode).toBe('live');
  });

  it('takes the paper fee asset as quote, base or an asset code, and refuses anything else by its variable', () => {
    expect(loadConfig(REQUIRED).paperFeeAsset).toBe('quote');
    expect(loadConfig({ ...REQUIRED, TW_PAPER_FEE_ASSET: 'base' }).paperFeeAsset).toBe('base');
    expect(loadConfig({ ...REQUIRED, TW_PAPER_FEE_ASSET: 'BNB', TW_PAPER_INITIAL_FEE_ASSET: '25' })).toMatchObject({ paperFeeAsset: 'BNB', paperInitialFeeAsset: '25' });
    expect(() => loadConfig({ ...REQUIRED, TW_PAPER_FEE_ASSET: 'bnb' })).toThrow(/TW_PAPER_FEE_ASSET/);
    expect(() => loadConfig({ ...REQUIRED, TW_PAPER_FEE_ASSET: 'USDT' })).toThrow(/TW_PAPER_FEE_ASSET: use quote/);
    expect(() => loadConfig({ ...REQUIRED, TW_PAPER_INITIAL_FEE_ASSET: '-1' })).toThrow(/TW_PAPER_INITIAL_FEE_ASSET/);
  });

  it('refuses a watchlist symbol quoted in another currency', () => {
    expect(() => loadConfig({ ...REQUIRED, TW_WATCHLIST: 'BTC/USDT,ETH/BTC' })).toThrow(/TW_WATCHLIST: ETH\/BTC is not quoted in USDT/);
  });

  it('stops on an unknown TW_ variable, naming it and the closest known setting (CFG-3)', () => {
    let error: unknown;
    try {
      loadConfig({ ...REQUIRED, TW_STRATEGY_DROP_PRECENT: '2', TW_WATCHLSIT: 'BTC/USDT' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UnknownSettingError);
    const failure = error as UnknownSettingError;
    expect(failure.code).toBe(ErrorCode.ConfigUnknownSetting);
    expect(failure.message).toContain('TW_STRATEGY_DROP_PRECENT (did you mean TW_STRATEGY_DROP_PERCENT?)');
    expect(failure.message).toContain('TW_WATCHLSIT (did you mean TW_WATCHLIST?)');
  });
});

describe('Scan settings in the configuration (DATA-7, DATA-8, RISK-6)', () => {
  it('refuses a scan deadline at or above the scanner period, and defaults it below', () => {
    expect(() => loadConfig({ ...REQUIRED, TW_SCANNER_EVERY_SECONDS: '60', TW_SCAN_DEADLINE_SECONDS: '60' })).toThrow(/TW_SCAN_DEADLINE_SECONDS: must be below the scanner period of 60 s/);
    expect(scanDeadlineSeconds(loadConfig({ ...REQUIRED, TW_SCANNER_EVERY_SECONDS: '60' }))).toBe(20);
    expect(scanDeadlineSeconds(loadConfig({ ...REQUIRED, TW_SCANNER_EVERY_SECONDS: '10' }))).toBe(5);
  });

  it('reads the pair list rule and the order limits', () => {
    const config = loadConfig({ ...REQUIRED, TW_PAIRLIST_TOP: '50', TW_PAIRLIST_MIN_QUOTE_VOLUME: '1000000', TW_PAIRLIST_DENY: 'LUNA/USDT, UST/USDT', TW_EXCHANGE_ORDERS_PER_10S: '50' });
    expect(config).toMatchObject({ pairListTop: 50, pairListMinQuoteVolume: '1000000', pairListDeny: ['LUNA/USDT', 'UST/USDT'], pairListAllow: [], exchangeOrdersPer10s: 50, exchangeOrdersPerDay: 200_000 });
    expect(() => loadConfig({ ...REQUIRED, TW_PAIRLIST_TOP: '1001' })).toThrow(/TW_PAIRLIST_TOP/);
    expect(() => loadConfig({ ...REQUIRED, TW_PAIRLIST_ALLOW: 'bitcoin' })).toThrow(/TW_PAIRLIST_ALLOW/);
  });
});
