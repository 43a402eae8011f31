/**
 * Intents for the benches and the soak: market buys over a list of symbols, and sending them to
 * the FIFO execution queue the way the scanner does (batches of ten, one message group per symbol,
 * the intent's id as deduplication id).
 */
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { intentIdFor, type Intent } from '../shared/domain/intent.js';

/** `count` market buys of 20 quote, round-robin over `symbols`, created `now`, living an hour; ids unique per `batch`. */
export function marketBuys(strategy: string, count: number, now: Date, symbols: readonly string[], batch: string): Intent[] {
  return Array.from({ length: count }, (_, i) => {
    const symbol = symbols[i % symbols.length]!;
    return {
      id: intentIdFor({ strategy, symbol, side: 'buy', slot: `${batch}-${i}` }),
      strategy,
      symbol,
      side: 'buy',
      type: 'market',
      quoteAmount: '20',
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + 3_600_000).toISOString(),
    };
  });
}

/** Sends intents in batches of ten; `copy` is appended to the deduplication id (a deliberate second delivery). */
export async function sendIntents(sqs: SQSClient, queueUrl: string, intents: readonly Intent[], copy = ''): Promise<void> {
  for (let i = 0; i < intents.length; i += 10) {
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: intents.slice(i, i + 10).map((intent, n) => ({ Id: String(n), MessageBody: JSON.stringify(intent), MessageGroupId: intent.symbol, MessageDeduplicationId: `${intent.id}${copy}` })),
      }),
    );
  }
}
