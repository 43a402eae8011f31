/**
 * Money moved on the paper exchange behind the book's back (a deposit, a withdrawal, a transfer
 * by someone else): what the reconciler's balance checks and the ledger commands must notice.
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { dec } from '../../shared/domain/money.js';
import type { Container } from '../../shared/runtime/container.js';

/** Moves `amount` (signed) into the paper exchange's free balance of `asset`, with the item's version check. */
export async function transferOnPaperExchange(c: Container, asset: string, amount: string): Promise<void> {
  const key = { pk: 'BALANCES', sk: 'BALANCES' };
  const { Item } = await c.doc.send(new GetCommand({ TableName: c.config.paperTable, Key: key, ConsistentRead: true }));
  if (!Item) throw new Error('the paper exchange has no balances yet');
  const assets = Item.assets as Record<string, { free: string; used: string }>;
  const before = assets[asset] ?? { free: '0', used: '0' };
  await c.doc.send(
    new PutCommand({
      TableName: c.config.paperTable,
      Item: { ...Item, assets: { ...assets, [asset]: { ...before, free: dec(before.free).plus(amount).toFixed() } }, version: Number(Item.version) + 1 },
      ConditionExpression: '#v = :v',
      ExpressionAttributeNames: { '#v': 'version' },
      ExpressionAttributeValues: { ':v': Item.version },
    }),
  );
}
