/**
 * The account book as one state-table item per quote currency. Every change is
 * read -> pure function -> put conditional on the version read; a lost race is retried with
 * jittered exponential backoff (cockatiel), then surfaces as a retryable error.
 */
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ExponentialBackoff, handleType, retry } from 'cockatiel';
import { ConcurrentModificationError } from '../../domain/errors.js';
import { openBook, type AccountBook } from '../../domain/account.js';
import type { AccountStore } from '../../ports/account-store.js';
import { isConditionFailed } from './dynamodb-errors.js';

/** Attempts of one book update under contention before giving up with a retryable error. */
export const ACCOUNT_UPDATE_ATTEMPTS = 12;
const BACKOFF = { initialDelay: 5, maxDelay: 250 };

const bookKey = (currency: string) => ({ pk: `ACCOUNT#${currency}`, sk: 'BOOK' });
const bookDoesNotExist = 'attribute_not_exists(pk)';
const versionMatches = '#version = :version';

export class DynamoDbAccountStore implements AccountStore {
  private readonly contention = retry(handleType(ConcurrentModificationError), {
    maxAttempts: ACCOUNT_UPDATE_ATTEMPTS,
    backoff: new ExponentialBackoff(BACKOFF),
  });

  constructor(private readonly options: { doc: DynamoDBDocumentClient; table: string }) {}

  async open(currency: string, openingTotal: string, at: Date, opening?: AccountBook): Promise<AccountBook> {
    const book = opening ? { ...opening, version: 0 } : openBook(currency, openingTotal, at);
    try {
      await this.options.doc.send(
        new PutCommand({
          TableName: this.options.table,
          Item: { ...bookKey(currency), version: 0, book },
          ConditionExpression: bookDoesNotExist,
        }),
      );
      return book;
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      const existing = await this.get(currency);
      if (!existing) throw error;
      return existing;
    }
  }

  async get(currency: string): Promise<AccountBook | null> {
    const out = await this.options.doc.send(
      new GetCommand({ TableName: this.options.table, Key: bookKey(currency), ConsistentRead: true }),
    );
    if (!out.Item) return null;
    return { ...(out.Item.book as AccountBook), version: out.Item.version as number };
  }

  update(currency: string, change: (book: AccountBook) => AccountBook | null, known?: AccountBook): Promise<AccountBook> {
    let given = known?.currency === currency ? known : undefined;
    return this.contention.execute(async () => {
      // The caller's book on the first attempt only; a lost race reads again.
      const current = given ?? (await this.get(currency));
      given = undefined;
      if (!current) throw new ConcurrentModificationError(`account book ${currency} does not exist yet`);
      const next = change(current);
      if (!next) return current;
      const written: AccountBook = { ...next, version: current.version + 1 };
      try {
        await this.options.doc.send(
          new PutCommand({
            TableName: this.options.table,
            Item: { ...bookKey(currency), version: written.version, book: written },
            ConditionExpression: versionMatches,
            ExpressionAttributeNames: { '#version': 'version' },
            ExpressionAttributeValues: { ':version': current.version },
          }),
        );
      } catch (error) {
        if (isConditionFailed(error)) throw new ConcurrentModificationError(`account book ${currency} changed concurrently`, { cause: error });
        throw error;
      }
      return written;
    });
  }
}
