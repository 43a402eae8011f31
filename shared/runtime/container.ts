/**
 * Dependency wiring: SDK clients, adapters and observability, built once per container from
 * the parsed configuration and injected into use cases. Tests and the local stack build their
 * own container with other endpoints or a driven clock.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { JobName } from '../definitions/schedules.js';
import type { MarketRules } from '../domain/market.js';
import { ConfigError, ExchangeRejectedError, TradewardenError, ErrorCode } from '../domain/errors.js';
import { depositHolding } from '../domain/account.js';
import { dec, str } from '../domain/money.js';
import { DynamoDbAccountStore } from '../adapters/aws/dynamodb-account-store.js';
import { DynamoDbAuditLog } from '../adapters/aws/dynamodb-audit-log.js';
import { batchingReads } from '../adapters/aws/batching-reads.js';
import { DynamoDbControlStore } from '../adapters/aws/dynamodb-control-store.js';
import { DynamoDbHeartbeatStore } from '../adapters/aws/dynamodb-heartbeat-store.js';
import { DynamoDbLockService } from '../adapters/aws/dynamodb-lock-service.js';
import { DynamoDbOrderStore } from '../adapters/aws/dynamodb-order-store.js';
import { EventBridgePublisher, LogEventPublisher } from '../adapters/aws/event-publishers.js';
import { PaperExchange } from '../adapters/paper/paper-exchange.js';
import { ExchangePaperMarket } from '../adapters/paper/exchange-paper-market.js';
import { SyntheticPaperMarket, type MarketSource } from '../adapters/paper/paper-market.js';
import { SqsIntentQueue, SqsQueueInspector } from '../adapters/aws/sqs-intent-queue.js';
import { SqsRetryScheduler } from '../adapters/aws/sqs-retry-scheduler.js';
import { SqsDeadLetterQueue } from '../adapters/aws/sqs-dead-letter-queue.js';
import type { DeadLetterQueue } from '../ports/dead-letter-queue.js';
import type { RetryScheduler } from '../ports/retry-scheduler.js';
import type { Exchange as CcxtClient } from 'ccxt';
import { CcxtExchange } from '../adapters/exchange/ccxt-exchange.js';
import { CircuitBreakerExchange } from '../adapters/exchange/circuit-breaker-exchange.js';
import { classifyExchangeError } from '../adapters/exchange/classify-exchange-error.js';
import { DynamoDbCircuitStore } from '../adapters/aws/dynamodb-circuit-store.js';
import { DynamoDbRateBudget } from '../adapters/aws/dynamodb-rate-budget.js';
import { AnnouncingAuditLog } from '../adapters/aws/announcing-audit-log.js';
import { DynamoDbEquitySnapshotStore } from '../adapters/aws/dynamodb-equity-snapshots.js';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { MetricName } from './metric-names.js';
import { SyntheticMarket } from '../adapters/paper/synthetic-market.js';
import type { Clock } from '../ports/clock.js';
import { systemClock } from '../ports/clock.js';
import type { EventPublisher } from '../ports/event-publisher.js';
import type { CancelExchange, Exchange } from '../ports/exchange.js';
import type { QueueAgeReader } from '../ports/intent-queue.js';
import type { Config } from './config.js';
import { createObservability, type Observability } from './observability.js';
import { openLedger } from '../use-cases/open-ledger.js';

export interface Container {
  readonly config: Config;
  readonly clock: Clock;
  readonly observability: Observability;
  readonly ddb: DynamoDBClient;
  readonly doc: DynamoDBDocumentClient;
  /**
   * The document client of the state-table stores. In the executor, reads of the state table
   * started in the same turn go out as one BatchGetItem (PERF-2, adapters/aws/batching-reads.ts);
   * elsewhere it is `doc`.
   */
  readonly stateDoc: DynamoDBDocumentClient;
  readonly sqs: SQSClient;
  readonly exchange: Exchange;
  /** The exchange for cancels: the same exchange, not blocked by the circuit breaker (EXE-15). */
  readonly cancelExchange: CancelExchange;
  readonly orders: DynamoDbOrderStore;
  readonly accounts: DynamoDbAccountStore;
  readonly locks: DynamoDbLockService;
  readonly heartbeats: DynamoDbHeartbeatStore;
  readonly control: DynamoDbControlStore;
  readonly audit: DynamoDbAuditLog;
  readonly queue: SqsIntentQueue;
  readonly queues: SqsQueueInspector;
  /** The age of the oldest message per queue, where this container can read it (EXE-13). */
  readonly queueAges?: QueueAgeReader;
  readonly events: EventPublisher;
  /** Equity over time, for the console's equity curve (OPS-9). */
  readonly equitySnapshots: DynamoDbEquitySnapshotStore;
  /** Reschedules failed execution-queue messages with a growing, jittered delay (EXE-4). */
  readonly retryScheduler: RetryScheduler;
  /** The execution queue's dead-letter queue, for messages that can never succeed (SEC-4). */
  readonly deadLetters: DeadLetterQueue;
  /** Market rules, loaded once per container and cached (bounded by the watchlist). */
  marketRules(symbol: string): Promise<MarketRules>;
  /** Every market's rules, from the same cache. */
  markets(): Promise<Readonly<Record<string, MarketRules>>>;
  /** Opens the account book with the configured opening balance if it does not exist yet. */
  ensureAccount(): Promise<void>;
}

export interface ContainerOptions {
  readonly clock?: Clock;
  readonly credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Replaces the exchange (tests: fault injection, fakes). */
  readonly exchange?: (defaults: { paper: Exchange | undefined; clock: Clock }) => Exchange;
  readonly observability?: Observability;
  /** Live mode: the ccxt client of the configured exchange, built with its API keys (entry.ts). */
  readonly liveClient?: CcxtClient;
  /**
   * Paper on real prices (TW_PAPER_MARKET=exchange, DATA-6): makes a ccxt client of
   * TW_EXCHANGE_ID without keys, one per container (the adapter instruments the client's fetch).
   */
  readonly marketDataClient?: () => CcxtClient;
  /**
   * Wrap the exchange in the shared circuit breaker (RISK-5).
   * @default true
   */
  readonly circuitBreaker?: boolean;
  /**
   * Where domain events go; the local runtime passes its in-process bus so the notifier hears them.
   * @default EventBridge when an event bus is configured, else the structured log
   */
  readonly events?: EventPublisher;
  /**
   * Reads the age of the oldest message per queue for health: the local runtime passes its
   * emulator's, the Lambda entry CloudWatch's (entry.ts). @default none: health does not judge the age
   */
  readonly queueAges?: QueueAgeReader;
}

/** Names the queues health inspects; the DLQ is the one that must stay empty. */
export const EXECUTION_QUEUE_NAME = 'execution';
export const EXECUTION_DLQ_NAME = 'execution-dlq';

/** The paper account's opening holding of a third fee asset (TW_PAPER_FEE_ASSET=BNB), if any. */
function paperFeeHolding(config: Config): Record<string, string> {
  const asset = config.paperFeeAsset;
  if (config.mode !== 'paper' || asset === 'quote' || asset === 'base' || dec(config.paperInitialFeeAsset).isZero()) return {};
  return { [asset]: config.paperInitialFeeAsset };
}

export function createContainer(job: JobName, config: Config, options: ContainerOptions = {}): Container {
  const clock = options.clock ?? systemClock;
  const observability = options.observability ?? createObservability(job, { logLevel: config.logLevel });
  const common = { region: config.region, ...(options.credentials ? { credentials: options.credentials } : {}) };
  const ddb = new DynamoDBClient({ ...common, ...(config.dynamodbEndpoint ? { endpoint: config.dynamodbEndpoint } : {}) });
  const doc = DynamoDBDocumentClient.from(ddb, { marshallOptions: { removeUndefinedValues: true } });
  // The executor's first round trip reads the order, the pause, the book, the entry limits and
  // the circuit together: one BatchGetItem instead of five GetItems.
  const stateDoc = job === 'executor' ? batchingReads(doc, { tables: [config.stateTable] }) : doc;
  // The queues are the stack's own, in the client's region: the resolved endpoint (AWS, or an
  // AWS_ENDPOINT_URL_SQS override such as an emulator) is always right, the queue URL's host may not be.
  const sqs = new SQSClient({ ...common, useQueueUrlAsEndpoint: false, ...(config.sqsEndpoint ? { endpoint: config.sqsEndpoint } : {}) });

  const rateBudget = () =>
    new DynamoDbRateBudget({
      doc,
      table: config.stateTable,
      exchangeId: config.exchangeId,
      clock,
      limit: config.exchangeWeightPerMinute,
      budgetFraction: config.rateBudgetPercent / 100,
      ordersPer10s: config.exchangeOrdersPer10s,
      ordersPerDay: config.exchangeOrdersPerDay,
    });
  /**
   * The live adapter on a ccxt client. Every market the exchange lists is loaded (a bounded set):
   * an open position stays priced and sellable after its symbol left the watchlist (RISK-9).
   */
  const ccxtExchange = (client: CcxtClient) =>
    new CcxtExchange({
      client,
      classify: classifyExchangeError,
      clock,
      timeoutMs: config.exchangeTimeoutMs,
      rateBudget: rateBudget(),
      onHousekeepingError: (error) => observability.logger.warn('rate budget or clock sync failed', { error: String(error) }),
    });

  let paper: PaperExchange | undefined;
  if (config.mode === 'paper') {
    let market: MarketSource;
    if (config.paperMarket === 'exchange') {
      // Real prices from the exchange's public data, through the live adapter; never synthetic (DATA-4, DATA-6).
      if (!options.marketDataClient) throw new ConfigError([`TW_PAPER_MARKET: exchange needs a ccxt client of ${config.exchangeId} for its public market data`]);
      market = new ExchangePaperMarket(ccxtExchange(options.marketDataClient()));
    } else market = new SyntheticPaperMarket(new SyntheticMarket({ seed: config.paperSeed }), config.watchlist);
    paper = new PaperExchange({
      doc,
      table: config.paperTable,
      market,
      clock,
      feeRate: str(dec(config.paperFeePercent).div(100)),
      feeAsset: config.paperFeeAsset,
      initialBalances: { [config.quoteCurrency]: config.paperInitialQuote, ...paperFeeHolding(config) },
      symbols: config.watchlist,
    });
  }
  let inner: Exchange;
  if (options.exchange) inner = options.exchange({ paper, clock });
  else if (paper) inner = paper;
  else if (options.liveClient) inner = ccxtExchange(options.liveClient);
  else throw new TradewardenError(ErrorCode.ConfigInvalid, 'live mode needs the exchange client built with its API keys', false);
  const breaker =
    options.circuitBreaker === false
      ? undefined
      : new CircuitBreakerExchange({
          inner,
          store: new DynamoDbCircuitStore({ doc: stateDoc, table: config.stateTable, clock }),
          clock,
          settings: {
            failureThreshold: config.circuitFailureThreshold,
            openMs: config.circuitOpenSeconds * 1000,
            probeLeaseMs: 2 * config.exchangeTimeoutMs,
          },
          onTransition: (from, to) => {
            if (to.status === 'open' && from.status !== 'open') observability.metrics.addMetric(MetricName.CircuitOpen, MetricUnit.Count, 1);
          },
          // The exchange answered; only recording that answer failed. Logged, and the answer is kept.
          onRecordError: (error) => observability.logger.error('circuit outcome not recorded', { error: String(error) }),
        });
  const exchange: Exchange = breaker ?? inner;
  const cancelExchange: CancelExchange = breaker ? breaker.bypassingCircuit() : inner;

  const events: EventPublisher = options.events ?? (config.eventBusName
    ? new EventBridgePublisher({ client: new EventBridgeClient(common), busName: config.eventBusName })
    : new LogEventPublisher(observability.logger));

  let rules: Promise<Readonly<Record<string, MarketRules>>> | undefined;
  /** Set once this container saw the account book open (ensureAccount). */
  let accountOpened = false;
  const container: Container = {
    config,
    clock,
    observability,
    ddb,
    doc,
    stateDoc,
    sqs,
    exchange,
    cancelExchange,
    orders: new DynamoDbOrderStore({ doc: stateDoc, table: config.stateTable }),
    accounts: new DynamoDbAccountStore({ doc: stateDoc, table: config.stateTable }),
    locks: new DynamoDbLockService({ doc: stateDoc, table: config.stateTable }),
    heartbeats: new DynamoDbHeartbeatStore({ doc, table: config.stateTable }),
    control: new DynamoDbControlStore({ doc: stateDoc, table: config.stateTable, clock }),
    // Notable decisions also go out as domain events for the notifier (OPS-10); a failed publish
    // is logged and counted, and never fails the decision it announces.
    audit: new AnnouncingAuditLog({
      doc: stateDoc,
      auditTable: config.auditTable,
      stateTable: config.stateTable,
      // The executor moves each stream's head once per intent, not once per record: its handler
      // settles the log before each intent's result counts (functions/executor/app.ts).
      batchHeadUpdates: job === 'executor',
      events,
      onPublishError: (error, event) => {
        observability.logger.error('domain event not published', { detailType: event.detailType, eventId: event.detail.eventId, error: String(error) });
        observability.metrics.addMetric(MetricName.EventsNotPublished, MetricUnit.Count, 1);
      },
    }),
    queue: new SqsIntentQueue({ sqs, queueUrl: config.executionQueueUrl }),
    queues: new SqsQueueInspector({ sqs, queues: { [EXECUTION_QUEUE_NAME]: config.executionQueueUrl, [EXECUTION_DLQ_NAME]: config.executionDlqUrl } }),
    events,
    ...(options.queueAges ? { queueAges: options.queueAges } : {}),
    // One snapshot per reconciler interval at most: 288 a day on AWS (every 5 minutes).
    equitySnapshots: new DynamoDbEquitySnapshotStore({ doc, table: config.stateTable, bucketMs: config.reconcilerEverySeconds * 1000 }),
    retryScheduler: new SqsRetryScheduler({ sqs, queueUrl: config.executionQueueUrl }),
    deadLetters: new SqsDeadLetterQueue({ sqs, queueUrl: config.executionDlqUrl }),
    markets() {
      rules ??= exchange.loadMarkets().catch((error: unknown) => {
        rules = undefined;
        throw error;
      });
      return rules;
    },
    async marketRules(symbol: string) {
      const found = (await container.markets())[symbol];
      if (!found) throw new ExchangeRejectedError(`unknown symbol ${symbol}`, 'bad-symbol');
      return found;
    },
    async ensureAccount() {
      // Once opened, a book is never removed: the executor's later invocations skip the read
      // (and, in paper mode, the conditional create) on their critical path. The scheduled
      // functions keep the read: it is their first request, so a store that refuses reads fails
      // them before they take their run lock (store-faults-reconciler.test.ts).
      if (accountOpened && job === 'executor') return;
      // Paper without a budget: the configured opening balance. The paper account's opening
      // fee-asset holding enters the book once, at its price then.
      const paperOpening = async () => {
        const book = await container.accounts.open(config.quoteCurrency, config.paperInitialQuote, clock.now());
        for (const [asset, qty] of Object.entries(paperFeeHolding(config))) {
          if (book.holdings?.[asset] || !paper) continue;
          const [ticker] = await paper.fetchTickers([`${asset}/${config.quoteCurrency}`]);
          if (!ticker) throw new TradewardenError(ErrorCode.ConfigInvalid, `no price for the paper fee asset ${asset}`, false);
          await container.accounts.update(config.quoteCurrency, (current) => (current.holdings?.[asset] ? null : depositHolding(current, asset, qty, ticker.last, clock.now())));
        }
        return book;
      };
      // Live, or paper with a budget: from the exchange's balances (REC-6), audited.
      await openLedger({
        accounts: container.accounts,
        exchange,
        audit: container.audit,
        clock,
        settings: { mode: config.mode, quoteCurrency: config.quoteCurrency, watchlist: config.watchlist, ...(config.budget ? { budget: config.budget } : {}), paperOpening },
      });
      accountOpened = true;
    },
  };
  return container;
}
