/**
 * Every delay, grace period and retry rule that decides the fate of an order whose outcome is
 * late or unknown, in one screen, each with why it has its value and how it relates to the
 * others and to the execution queue. test/unit/timing-rules.test.ts checks the relations, so a
 * change to one value that breaks another rule fails a test instead of a trade.
 *
 * The story of a createOrder that times out, on this clock:
 * 1. t = 0: the send times out. The order becomes UNKNOWN and the message fails; it comes back
 *    after the retry backoff (10-20 s, then doubling).
 * 2. Each redelivery looks the order up by client order id. Found: it is booked. Not found: it
 *    is sent again with the same client order id only once RESEND_GRACE_MS (30 s) have passed
 *    since the last attempt, because before that "not found" may only mean "not processed yet".
 * 3. The backoffs of the queue's receives add up to more than the grace, so the intent gets a
 *    re-send before its message can dead-letter.
 * 4. Meanwhile the reconciler leaves orders changed in the last SETTLE_MS alone (an executor may
 *    still be on them), counts "not found" answers, and declares an order lost (FAILED) only
 *    after LOST_AFTER_NOT_FOUND answers spanning LOST_GRACE_MS, longer than the resend grace,
 *    so it never declares lost an order the executor may still legitimately send.
 */

/**
 * How long a signed request stays acceptable to the exchange (ccxt's Binance `recvWindow`):
 * after it, the matching engine refuses the request, so an old attempt can no longer arrive.
 */
export const EXCHANGE_RECV_WINDOW_MS = 10_000;
/** Clock difference between us and the exchange that we tolerate on top of the window. */
export const CLOCK_SKEW_ALLOWANCE_MS = 5_000;

/**
 * How long after its last attempt an order the exchange cannot find may be sent again (EXE-3):
 * longer than the receive window plus clock skew, after which "not found" means "will never
 * exist" and re-sending the same client order id cannot place a second order.
 */
export const RESEND_GRACE_MS = 30_000;

/**
 * Orders changed more recently than this are left to the executor that may still be working
 * on them; the symbol lease protects correctness, this only avoids needless contention.
 */
export const SETTLE_MS = 15_000;

/**
 * "Not found" answers, and the time they must span, before the reconciler declares an order
 * lost (REC-2). One answer can be a lagging replica; three over two minutes, longer than the
 * resend grace, cannot.
 */
export const LOST_AFTER_NOT_FOUND = 3;
export const LOST_GRACE_MS = 120_000;

/**
 * How long the reconciler keeps looking up an order that ended locally while the exchange may
 * still report a fill for it (canceled, declared lost, expired after it was sent; EXE-10).
 * Exchanges report the last fills of a canceled order within seconds; a lost order that turns
 * up does so within minutes. Longer than the lost grace, so a wrongly lost order is still seen.
 */
export const LATE_FILL_WATCH_MS = 15 * 60_000;

/**
 * Lease of a symbol lock (TW_LOCK_LEASE_SECONDS): longer than any function's run on the symbol
 * (the executor's timeout is 25 s), so a live holder does not lose it mid-run; short enough that
 * a crashed holder blocks the symbol for one minute at most. Every write under it is fenced.
 */
export const DEFAULT_LOCK_LEASE_SECONDS = 60;

/**
 * How long an intent normally waits in the execution queue: the executor takes a message within
 * seconds, and a failed one comes back after the first retry backoffs (10, then 20 s). An intent
 * older than this waits on an executor that is stalled, throttled or failing, and health says so
 * (DEGRADED, with the age; FAILING past the intent's time-to-live, when it can only expire).
 */
export const EXECUTOR_NORMAL_LATENCY_SECONDS = 60;

/**
 * The execution queue (shared/definitions/queues.ts): a failed message comes back after the
 * retry backoff (retryable errors) or after the visibility timeout (the others), and moves to
 * the DLQ after MAX_RECEIVE_COUNT receives.
 */
export const EXECUTION_VISIBILITY_TIMEOUT_SECONDS = 180;
export const MAX_RECEIVE_COUNT = 5;
/** AWS: an event-source queue's visibility timeout must be at least 6x the consumer's timeout. */
export const VISIBILITY_TO_TIMEOUT_RATIO = 6;

/** Delay before the second delivery of a failed message; each further receive doubles it. */
export const RETRY_BASE_SECONDS = 10;
/**
 * Longest delay. MAX_RECEIVE_COUNT receives then span about 150 s at most before the DLQ; a
 * longer outage is what the DLQ and its redrive are for (OPS-2).
 */
export const RETRY_MAX_SECONDS = 900;
/** SQS refuses a visibility timeout above 12 hours. */
export const SQS_MAX_VISIBILITY_SECONDS = 43_200;

/**
 * Delay after the `receiveCount`-th delivery failed: base x 2^(receiveCount-1), capped, with
 * "equal jitter" (uniform in [half, full]) so retries of a burst of failures spread out while
 * each still waits at least half of its step. The executor's retry scheduler and the local
 * runtime both use it.
 */
export function retryDelaySeconds(receiveCount: number, random: () => number = Math.random): number {
  const attempt = Number.isFinite(receiveCount) && receiveCount >= 1 ? Math.floor(receiveCount) : 1;
  const ceiling = Math.min(RETRY_MAX_SECONDS, RETRY_BASE_SECONDS * 2 ** Math.min(30, attempt - 1));
  return Math.max(1, Math.round(ceiling * (0.5 + random() / 2)));
}

/** The total wait between the first receive and the last one before the DLQ, with the given jitter draw. */
export function retrySpanSeconds(random: () => number): number {
  let total = 0;
  for (let receive = 1; receive < MAX_RECEIVE_COUNT; receive += 1) total += retryDelaySeconds(receive, random);
  return total;
}

/**
 * Pause before retry `retry` (1 = the first) of an exchange read inside one scan (tickers,
 * candles): `baseMs` x 2^(retry-1) with equal jitter (uniform in [half, full]). A burst of faults
 * that fails many symbols' fetches at once would otherwise retry them all at the same instants
 * (and into the same rate limit); the jitter spreads them while each still waits at least half
 * its step. The caller retries only while the pause ends before the scan's deadline.
 */
export function scanRetryDelayMs(retry: number, baseMs: number, random: () => number = Math.random): number {
  const step = Number.isFinite(retry) && retry >= 1 ? Math.floor(retry) : 1;
  const ceiling = baseMs * 2 ** Math.min(30, step - 1);
  return Math.max(1, Math.round(ceiling * (0.5 + random() / 2)));
}
