/**
 * SEC-4, generated: every handler against malformed events made by fast-check (invalid JSON,
 * missing and extra fields, wrong types, NaN, Infinity, negative, zero and huge amounts,
 * unicode in ids, oversized bodies, plain garbage). Each gets a coded VALIDATION_FAILED error
 * and changes no state; a poison SQS record is moved to the dead-letter queue at once with its
 * error code and reason, changing nothing else but the executor's heartbeat, instead of being
 * redelivered until maxReceiveCount. A well-formed intent
 * for a symbol that is not traded (ZZZZ/USDT) is refused the same way: no order of any kind.
 *
 * The schemas are the oracle of "malformed": a generated value the schema accepts is skipped,
 * so the properties hold for exactly the inputs the handlers must refuse.
 */
import fc from 'fast-check';
import { DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../local-runtime/runtime.js';
import type { JobName } from '../../shared/definitions/schedules.js';
import { EXECUTION_QUEUE } from '../../shared/definitions/queues.js';
import { IntentSchema, MAX_INTENT_NOTIONAL } from '../../shared/domain/intent.js';
import { MAX_EVENT_BYTES } from '../../shared/runtime/handler-stack.js';
import { ExecutorEventSchema, HealthEventSchema, ReconcilerEventSchema, ScannerEventSchema } from '../../shared/runtime/events.js';
import { ManualClock, startTestStack, type TestStack } from '../support/local-runtime.js';
import { snapshotState } from '../support/snapshot.js';

/** Runs per property: enough variety, a few seconds each against the emulators. */
const RUNS = 40;
const MAX_RECEIVES = EXECUTION_QUEUE.deadLetter?.maxReceiveCount ?? 5;
let poisonCounter = 0;

const GOOD_INTENT: Readonly<Record<string, unknown>> = {
  id: 'd'.repeat(32),
  strategy: 'price-drop',
  symbol: 'BTC/USDT',
  side: 'buy',
  type: 'market',
  quoteAmount: '100',
  createdAt: '2026-03-02T10:00:00.000Z',
  expiresAt: '2026-03-02T10:02:00.000Z',
};

/** Values that are wrong wherever a decimal string, an id or a name belongs. */
const badAmount = fc.oneof(
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -1, 0, -0, 100, 1e308, Number.MAX_SAFE_INTEGER),
  fc.constantFrom('NaN', 'Infinity', '-Infinity', '-1', '-0.5', '0', '0.0', '', ' 100', '1e3', '1,5', '0x10', '١٠٠', '１００'),
  fc.bigInt({ min: BigInt(MAX_INTENT_NOTIONAL) + 1n, max: 10n ** 30n }).map(String),
  fc.double({ noNaN: false }).filter((d) => !(d > 0 && d <= MAX_INTENT_NOTIONAL)).map(String),
);
const unicodeText = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 });
const wrongType = fc.oneof(fc.constant(null), fc.boolean(), fc.integer(), fc.array(fc.integer(), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 3 }));
const anyBad = fc.oneof(badAmount, unicodeText, wrongType, fc.constant(undefined));

type Mutation = { drop: string } | { set: string; value: unknown } | { extra: string; value: unknown };

/** One to three mutations of a valid record. */
function mutated(base: Readonly<Record<string, unknown>>, fieldValues: fc.Arbitrary<unknown>): fc.Arbitrary<Record<string, unknown>> {
  const fields = Object.keys(base);
  const mutation: fc.Arbitrary<Mutation> = fc.oneof(
    fc.constantFrom(...fields).map((f) => ({ drop: f })),
    fc.record({ set: fc.constantFrom(...fields, 'amount', 'limitPrice', 'correlationId', 'reason'), value: fieldValues }),
    fc.record({ extra: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }).filter((k) => !(k in base)), value: fieldValues }),
  );
  return fc.array(mutation, { minLength: 1, maxLength: 3 }).map((ms) => {
    const out: Record<string, unknown> = { ...base };
    for (const m of ms) {
      if ('drop' in m) delete out[m.drop];
      else if ('set' in m) out[m.set] = m.value;
      else out[m.extra] = m.value;
    }
    return out;
  });
}

const badIntent = fc
  .oneof(
    mutated(GOOD_INTENT, anyBad),
    // Unicode in ids: look-alike digits and letters where hex belongs.
    fc.constantFrom('é', '٣', '𝟘', 'Ａ', '\u200b', 'ß').map((ch) => ({ ...GOOD_INTENT, id: ch.repeat(32) })),
    unicodeText.map((s) => ({ ...GOOD_INTENT, correlationId: `${s}-x` })),
    // Oversized: one field far beyond any schema limit.
    fc.integer({ min: MAX_EVENT_BYTES, max: MAX_EVENT_BYTES * 2 }).map((n) => ({ ...GOOD_INTENT, reason: 'x'.repeat(n) })),
  )
  .filter((i) => !IntentSchema.safeParse(i).success);

/**
 * Bodies an SQS record may carry that are not an intent: broken JSON, other JSON, bad intents.
 * Only what SQS can hold: not empty, and only the characters SQS accepts in a message body (the
 * emulator's set: AWS also accepts characters beyond U+FFFF).
 */
const SQS_BODY = /^[\t\n\r\u0020-\uD7FF\uE000-\uFFFD]+$/u;
const badBody = fc.oneof(
  fc.string({ minLength: 1, maxLength: 60 }).filter((s) => {
    try {
      JSON.parse(s);
      return false;
    } catch {
      return true;
    }
  }),
  // JSON drops undefined fields, so the check is on what the body decodes to.
  fc
    .oneof(fc.jsonValue({ maxDepth: 2 }), badIntent)
    .map((v) => JSON.stringify(v) ?? 'undefined')
    .filter((s) => !IntentSchema.safeParse(JSON.parse(s)).success),
).filter((s) => SQS_BODY.test(s));

/**
 * Malformed per the schema. `undefined` is left out: Lambda never delivers it (no payload is
 * `{}`), and middy turns it into `{}`.
 */
const invalidFor = (schema: { safeParse: (v: unknown) => { success: boolean } }) => (e: unknown) => e !== undefined && !schema.safeParse(e).success;

const EVENTS: Readonly<Record<Exclude<JobName, 'executor'>, { valid: Record<string, unknown>; schema: { safeParse: (v: unknown) => { success: boolean } } }>> = {
  scanner: { valid: { scheduledTime: '2026-03-02T10:00:00Z', dryRun: true }, schema: ScannerEventSchema },
  reconciler: { valid: { scheduledTime: '2026-03-02T10:00:00Z', symbol: 'BTC/USDT', from: '2026-03-02T09:00:00Z', to: '2026-03-02T10:00:00Z' }, schema: ReconcilerEventSchema },
  health: { valid: { scheduledTime: '2026-03-02T10:00:00Z' }, schema: HealthEventSchema },
};

describe('Handlers: generated malformed events (SEC-4)', () => {
  let t: TestStack;
  let runtime: LocalRuntime;
  const clock = new ManualClock(new Date('2026-03-02T10:00:30.000Z'));
  const notHeartbeat = (item: Record<string, unknown>) => String(item.pk).startsWith('HEARTBEAT#');
  const snapshot = (ignore?: (item: Record<string, unknown>) => boolean) => {
    const h = runtime.containers.health;
    return snapshotState(h.doc, t.config, h.queues, ignore);
  };

  beforeAll(async () => {
    t = await startTestStack();
    runtime = t.runtime({ clock });
    // State worth protecting: one real cycle with orders first.
    await runtime.scan(clock.now());
    await runtime.drain();
  });

  afterAll(async () => {
    await t?.stop();
  });

  for (const [job, { valid, schema }] of Object.entries(EVENTS) as [Exclude<JobName, 'executor'>, (typeof EVENTS)[keyof typeof EVENTS]][]) {
    it(`${job} refuses any malformed event with VALIDATION_FAILED and no state change`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.oneof(mutated(valid, anyBad), fc.anything()).filter(invalidFor(schema)), async (event) => {
          const before = await snapshot();
          await expect(runtime.invoke(job, event)).rejects.toMatchObject({ code: 'VALIDATION_FAILED', retryable: false });
          expect(await snapshot()).toBe(before);
        }),
        { numRuns: RUNS },
      );
    });
  }

  it('executor refuses any malformed replay intent with VALIDATION_FAILED and no state change', async () => {
    await fc.assert(
      fc.asyncProperty(badIntent, async (intent) => {
        const before = await snapshot();
        await expect(runtime.invoke('executor', { intent })).rejects.toMatchObject({ code: 'VALIDATION_FAILED', retryable: false });
        expect(await snapshot()).toBe(before);
      }),
      { numRuns: RUNS },
    );
  });

  it('executor refuses any malformed SQS envelope with VALIDATION_FAILED and no state change', async () => {
    const record = { messageId: 'm1', receiptHandle: 'r1', body: JSON.stringify(GOOD_INTENT), attributes: { ApproximateReceiveCount: '1', MessageGroupId: 'BTC/USDT' } };
    const envelope = fc.oneof(mutated({ Records: [record] }, anyBad), mutated(record, anyBad).map((r) => ({ Records: [r] })), fc.anything()).filter(invalidFor(ExecutorEventSchema));
    await fc.assert(
      fc.asyncProperty(envelope, async (event) => {
        const before = await snapshot();
        await expect(runtime.invoke('executor', event)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
        expect(await snapshot()).toBe(before);
      }),
      { numRuns: RUNS },
    );
  });

  /** The snapshot with one more dead letter, and nothing else changed. */
  const plusDeadLetters = (before: string, n: number) => {
    const expected = JSON.parse(before) as { queues: Record<string, number> };
    return { ...expected, queues: { ...expected.queues, 'execution-dlq': (expected.queues['execution-dlq'] ?? 0) + n } };
  };

  it('executor dead-letters a poison SQS record with VALIDATION_FAILED and acknowledges it, changing its heartbeat only', async () => {
    await fc.assert(
      fc.asyncProperty(badBody, async (body) => {
        const before = await snapshot(notHeartbeat);
        poisonCounter += 1;
        const event = { Records: [{ messageId: `poison-${poisonCounter}`, receiptHandle: 'r', body, attributes: { ApproximateReceiveCount: '1', MessageGroupId: 'BTC/USDT' } }] };
        if (Buffer.byteLength(JSON.stringify(event)) > MAX_EVENT_BYTES) {
          // An oversized event is refused whole, before any record is looked at.
          await expect(runtime.invoke('executor', event)).rejects.toMatchObject({ code: 'VALIDATION_FAILED', retryable: false });
          expect(await snapshot(notHeartbeat)).toBe(before);
          return;
        }
        await expect(runtime.invoke('executor', event)).resolves.toEqual({ batchItemFailures: [] });
        expect(JSON.parse(await snapshot(notHeartbeat))).toEqual(plusDeadLetters(before, 1));
      }),
      { numRuns: RUNS },
    );
  });

  it('moves a poison message to the DLQ on its first receive, with its error code and reason', async () => {
    // Empty the DLQ first: a FIFO receive returns a group's messages only in order.
    for (;;) {
      const out = await t.sqs.send(new ReceiveMessageCommand({ QueueUrl: t.config.executionDlqUrl, MaxNumberOfMessages: 10 }));
      if (!out.Messages?.length) break;
      await t.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: t.config.executionDlqUrl, Entries: out.Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })) }));
    }
    const before = await snapshot(notHeartbeat);
    await t.sqs.send(new SendMessageCommand({ QueueUrl: t.config.executionQueueUrl, MessageBody: '{"id": "not json', MessageGroupId: 'BTC/USDT', MessageDeduplicationId: 'poison-dlq' }));

    // Poll as the event source does, with no delay between receives.
    let receives = 0;
    for (let round = 0; round < 3 * MAX_RECEIVES; round += 1) receives += (await runtime.deliverOnce({ visibilityTimeoutSeconds: 0 })).received;

    const depth = async (url: string) => Number((await t.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }))).Attributes?.ApproximateNumberOfMessages ?? '-1');
    expect(receives).toBe(1);
    expect(await depth(t.config.executionQueueUrl)).toBe(0);
    // The DLQ gained the message; nothing else but the heartbeat changed.
    expect(JSON.parse(await snapshot(notHeartbeat))).toEqual(plusDeadLetters(before, 1));
    const dead = await t.sqs.send(new ReceiveMessageCommand({ QueueUrl: t.config.executionDlqUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'], VisibilityTimeout: 0 }));
    const letter = (dead.Messages ?? []).find((m) => m.Body === '{"id": "not json');
    expect(letter?.MessageAttributes?.['errorCode']?.StringValue).toBe('VALIDATION_FAILED');
    expect(letter?.MessageAttributes?.['errorReason']?.StringValue).toBe('message body is not valid JSON');
  });

  describe('a well-formed intent for a symbol that is not traded (ZZZZ/USDT)', () => {
    const unknown = { ...GOOD_INTENT, id: 'e'.repeat(32), symbol: 'ZZZZ/USDT', createdAt: clock.now().toISOString(), expiresAt: new Date(clock.now().getTime() + 60_000).toISOString() };

    it('is refused on replay with a coded error, and no order is recorded or placed', async () => {
      const before = await snapshot(notHeartbeat);
      await expect(runtime.invoke('executor', { intent: unknown })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      expect(await snapshot(notHeartbeat)).toBe(before);
    });

    it('is refused from the queue with a coded error in the DLQ, and no order is recorded or placed', async () => {
      const before = await snapshot(notHeartbeat);
      const event = { Records: [{ messageId: 'zzzz', receiptHandle: 'r', body: JSON.stringify({ ...unknown, id: 'f'.repeat(32) }), attributes: { ApproximateReceiveCount: '1', MessageGroupId: 'ZZZZ/USDT' } }] };
      await expect(runtime.invoke('executor', event)).resolves.toEqual({ batchItemFailures: [] });
      expect(JSON.parse(await snapshot(notHeartbeat))).toEqual(plusDeadLetters(before, 1));
    });
  });
});
