/** The soak's proof, read through clean clients once the system is quiescent (TST-3). */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { checkBook } from '../../shared/domain/account.js';
import { dec, str } from '../../shared/domain/money.js';
import { clientOrderIdFor, isTerminal, type OrderState } from '../../shared/domain/order.js';
import type { Config } from '../../shared/runtime/config.js';
import type { Container } from '../../shared/runtime/container.js';
import { queueCounts, scanAll } from './harness.js';
import type { SoakReport } from './report.js';

export interface SoakFindings extends Pick<SoakReport, 'ok' | 'outcomes' | 'exchangeOrders' | 'duplicateOrders' | 'lostOrders' | 'lostExamples' | 'resting' | 'ledger' | 'audit' | 'queueLeft'> {
  readonly dlqLeft: number;
}

/**
 * Exchange orders, duplicates (more than one exchange order for a client order id, or a
 * createOrder that reached the exchange after it had accepted the order), lost intents (no local
 * order, or one still in flight), the ledger against the exchange, the audit chain, the queues.
 */
export async function measureSoak(at: {
  readonly inspector: Container;
  readonly config: Config;
  readonly sqs: SQSClient;
  /** Every intent the soak sent or the scanner made. */
  readonly intentIds: ReadonlySet<string>;
  /** Client order ids sent again after the exchange had accepted them. */
  readonly sentAfterAccept: Iterable<string>;
}): Promise<SoakFindings> {
  const { inspector, config, sqs, intentIds } = at;
  const sentAfterAccept = [...at.sentAfterAccept];
  const orders = new Map(
    (await scanAll(inspector, config.stateTable, { expression: 'sk = :o', values: { ':o': 'ORDER' } })).map((o) => [String(o.id), o as unknown as { id: string; state: OrderState; reason?: string }]),
  );
  const paper = await scanAll(inspector, config.paperTable, { expression: 'sk = :o', values: { ':o': 'ORDER' } });
  const paperPerId = new Map<string, number>();
  for (const p of paper) paperPerId.set(String(p.clientOrderId), (paperPerId.get(String(p.clientOrderId)) ?? 0) + 1);
  const exchangeOpen = new Set((await inspector.exchange.fetchOpenOrders()).map((o) => o.clientOrderId));
  const outcomes: Record<string, number> = {};
  const lost: string[] = [];
  let resting = 0;
  for (const intentId of intentIds) {
    const id = clientOrderIdFor(intentId);
    const order = orders.get(id);
    if (!order) {
      lost.push(`${id}: no order`);
      continue;
    }
    const key = order.state === 'EXPIRED' && order.reason?.includes('never sent') ? 'EXPIRED (claimed, never sent)' : order.state;
    outcomes[key] = (outcomes[key] ?? 0) + 1;
    if (isTerminal(order.state)) continue;
    if ((order.state === 'OPEN' || order.state === 'PARTIALLY_FILLED') && exchangeOpen.has(id)) resting += 1;
    else lost.push(`${id}: ${order.state} after quiescence`);
  }
  // More than one exchange order for a client order id, or an order sent again after the
  // exchange had accepted it (a second order on an exchange that forgets filled ids).
  const duplicated = new Set([...[...paperPerId].filter(([, n]) => n > 1).map(([id]) => id), ...sentAfterAccept]);
  const duplicateOrders = duplicated.size;

  const book = await inspector.accounts.get(config.quoteCurrency);
  const problems: string[] = [];
  const balances = await inspector.exchange.fetchBalances();
  let assetsCompared = 0;
  if (!book) problems.push('no account book');
  else {
    problems.push(...checkBook(book));
    for (const orderId of Object.keys(book.orders)) problems.push(`reservation left for ${orderId}`);
    const cash = dec(book.available).plus(book.reserved);
    const exchangeCash = dec(balances[config.quoteCurrency]?.total ?? '0');
    if (!cash.eq(exchangeCash)) problems.push(`cash ${str(cash)} != exchange ${config.quoteCurrency} ${str(exchangeCash)}`);
    const bases = new Set([
      ...Object.keys(balances).filter((a) => a !== config.quoteCurrency),
      ...Object.values(book.positions).map((p) => p.symbol.split('/')[0] ?? ''),
      ...Object.keys(book.holdings ?? {}),
    ]);
    for (const base of bases) {
      assetsCompared += 1;
      // What the book holds of the asset: its position, plus its fee-asset holding (BNB).
      const qty = dec(Object.values(book.positions).find((p) => p.symbol.split('/')[0] === base)?.qty ?? '0').plus(book.holdings?.[base]?.qty ?? '0');
      const held = dec(balances[base]?.total ?? '0');
      if (!qty.eq(held)) problems.push(`position ${base} ${str(qty)} != exchange ${str(held)}`);
    }
  }
  const verification = await inspector.audit.verify();
  const dlqLeft = await queueCounts(sqs, config.executionDlqUrl);
  const queueLeft = await queueCounts(sqs, config.executionQueueUrl);
  const ok = duplicateOrders === 0 && lost.length === 0 && problems.length === 0 && verification.valid && dlqLeft === 0 && queueLeft === 0;
  return {
    ok,
    outcomes,
    exchangeOrders: paper.length,
    duplicateOrders,
    lostOrders: lost.length,
    lostExamples: lost.slice(0, 10),
    resting,
    ledger: {
      imbalance: problems.length,
      problems: problems.slice(0, 20),
      cash: book ? str(dec(book.available).plus(book.reserved)) : '0',
      exchangeCash: balances[config.quoteCurrency]?.total ?? '0',
      assetsCompared,
    },
    audit: { valid: verification.valid, records: verification.records, streams: verification.streams, problems: verification.problems.map((p) => `${p.stream} #${p.seq}: ${p.problem}`) },
    dlqLeft,
    queueLeft,
  };
}
