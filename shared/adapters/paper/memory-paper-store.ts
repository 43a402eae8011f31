/**
 * The paper exchange's books in memory, for a backtest (BT-1): the same items and the same
 * conditional writes as PaperStore over DynamoDB (create only when absent, replace only at the
 * version read), so the exchange's matching and settlement run unchanged. Items are copied on
 * the way in, as a table would keep them; open and unsettled orders are indexed by partition,
 * sorted by symbol and id like the sparse index.
 */
import type { DecimalString } from '../../domain/money.js';
import { storedOrder, type Assets, type BalancesItem, type OrderItem, type PaperBooks } from './paper-books.js';

const BALANCES_KEY = { pk: 'BALANCES', sk: 'BALANCES' } as const;

export class MemoryPaperStore implements PaperBooks {
  readonly #orders = new Map<string, OrderItem>();
  /** partition -> (opensk -> client order id) */
  readonly #index = new Map<string, Map<string, string>>();
  #balances: BalancesItem;

  constructor(initialBalances: Readonly<Record<string, DecimalString>>) {
    this.#balances = {
      ...BALANCES_KEY,
      assets: Object.fromEntries(Object.entries(initialBalances).map(([asset, free]) => [asset, { free, used: '0' }])),
      outcomes: {},
      version: 0,
    };
  }

  async getOrder(clientOrderId: string): Promise<OrderItem | null> {
    return this.#orders.get(clientOrderId) ?? null;
  }

  async createOrder(order: OrderItem): Promise<boolean> {
    if (this.#orders.has(order.clientOrderId)) return false;
    this.#put(order);
    return true;
  }

  async putOrder(order: OrderItem, expectedVersion: number): Promise<void> {
    const current = this.#orders.get(order.clientOrderId);
    if (!current || current.version !== expectedVersion) throw conditionFailed(`order ${order.clientOrderId}`);
    this.#put(order);
  }

  async readBalances(): Promise<BalancesItem> {
    return this.#balances;
  }

  async peekAssets(): Promise<Assets> {
    return this.#balances.assets;
  }

  async putBalances(books: BalancesItem): Promise<void> {
    if (books.version !== this.#balances.version) throw conditionFailed('balances');
    this.#balances = structuredClone({ ...books, version: books.version + 1 });
  }

  async queryIndex(partition: string, sortPrefix?: string): Promise<Array<{ clientOrderId: string }>> {
    const entries = [...(this.#index.get(partition) ?? new Map<string, string>()).entries()];
    return entries
      .filter(([sk]) => sortPrefix === undefined || sk.startsWith(sortPrefix))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, clientOrderId]) => ({ clientOrderId }));
  }

  #put(order: OrderItem): void {
    const previous = this.#orders.get(order.clientOrderId);
    if (previous?.openpk !== undefined && previous.opensk !== undefined) this.#index.get(previous.openpk)?.delete(previous.opensk);
    const stored = structuredClone(storedOrder(order));
    this.#orders.set(order.clientOrderId, stored);
    if (stored.openpk !== undefined && stored.opensk !== undefined) {
      const partition = this.#index.get(stored.openpk) ?? new Map<string, string>();
      partition.set(stored.opensk, stored.clientOrderId);
      this.#index.set(stored.openpk, partition);
    }
  }
}

/** The error a failed DynamoDB condition raises, as the paper exchange recognises it (isConditionFailed). */
function conditionFailed(what: string): Error {
  const error = new Error(`the conditional write of ${what} failed`);
  error.name = 'ConditionalCheckFailedException';
  return error;
}
