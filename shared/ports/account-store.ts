import type { AccountBook } from '../domain/account.js';

/**
 * The account book of one quote currency: balances, per-order reservations and positions in
 * one record, so every money movement is a single conditional write on its version.
 */
export interface AccountStore {
  /**
   * Creates the book with its opening total if it does not exist yet; returns the stored book.
   * `opening`, when given, is the whole book to create (opened from the exchange's balances with
   * holdings and baselines, REC-6); it is written as one conditional create too.
   */
  open(currency: string, openingTotal: string, at: Date, opening?: AccountBook): Promise<AccountBook>;
  get(currency: string): Promise<AccountBook | null>;
  /**
   * Reads, applies `change` and writes conditional on the version read; retries a lost race a
   * bounded number of times. `change` returns null when there is nothing to write.
   * `current`: the book as the caller read it a moment ago; the first attempt starts from it
   * instead of reading (its write is still conditional on that version, so a stale one only
   * costs the read it saved).
   * @throws ConcurrentModificationError after the retries, or whatever `change` throws.
   */
  update(currency: string, change: (book: AccountBook) => AccountBook | null, current?: AccountBook): Promise<AccountBook>;
}
