/**
 * EXE-1 / SEC-4 (INTENT_FINGERPRINT): the fingerprint recorded on an order at its claim changes
 * with every field the intent would trade on, and with nothing else.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { intentFingerprint, intentIdFor, type Intent } from '../../shared/domain/intent.js';

const BASE: Intent = {
  id: '0123456789abcdef0123456789abcdef',
  strategy: 'price-drop',
  symbol: 'BTC/USDT',
  side: 'buy',
  type: 'limit',
  amount: '0.01',
  limitPrice: '50000',
  createdAt: '2026-05-01T12:00:00.000Z',
  expiresAt: '2026-05-01T12:02:00.000Z',
};

describe('intentFingerprint', () => {
  it('is a SHA-256 hex digest, equal for equal trade fields whatever the key order', () => {
    const reordered = Object.fromEntries(Object.entries(BASE).reverse()) as Intent;
    expect(intentFingerprint(BASE)).toMatch(/^[0-9a-f]{64}$/);
    expect(intentFingerprint(reordered)).toBe(intentFingerprint(BASE));
  });

  it('changes with each field the intent trades on', () => {
    const changes: Partial<Intent>[] = [
      { strategy: 'other' },
      { symbol: 'ETH/USDT' },
      { side: 'sell' },
      { type: 'market', limitPrice: undefined },
      { amount: '0.02' },
      { amount: undefined, quoteAmount: '0.01' },
      { limitPrice: '50001' },
    ];
    const prints = changes.map((change) => intentFingerprint({ ...BASE, ...change }));
    for (const print of prints) expect(print).not.toBe(intentFingerprint(BASE));
    expect(new Set(prints).size).toBe(changes.length);
  });

  it('ignores the correlation id, the reason and the times, which do not change the trade (the order keeps its own expiry)', () => {
    expect(intentFingerprint({ ...BASE, correlationId: 'replayed-by-ops', reason: 'rsi below 30' })).toBe(intentFingerprint(BASE));
    expect(intentFingerprint({ ...BASE, createdAt: '2026-05-01T12:00:01.000Z', expiresAt: '2026-05-01T12:03:00.000Z' })).toBe(intentFingerprint(BASE));
  });
});

describe('The intent digests, made with the one-shot hash', () => {
  const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
  it('are the SHA-256 a Hash object gives, for any text (non-ASCII included)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string(), fc.constantFrom('buy', 'sell'), fc.string({ unit: 'binary' }), (strategy, symbol, side, slot) => {
        expect(intentIdFor({ strategy, symbol, side, slot })).toBe(sha256(`${strategy}|${symbol}|${side}|${slot}`).slice(0, 32));
        const intent: Intent = { ...BASE, strategy, symbol, side };
        expect(intentFingerprint(intent)).toBe(sha256(JSON.stringify([strategy, symbol, side, 'limit', '0.01', null, '50000'])));
      }),
      { numRuns: 300 },
    );
  });
});
