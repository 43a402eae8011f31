/**
 * The exchange circuit breaker as a pure state machine (RISK-5). The state lives in one shared
 * record per exchange, so every function instance sees the same circuit; each transition is
 * written conditionally on the version that was read (see CircuitBreakerExchange).
 *
 * States and transitions:
 * - closed: calls pass. A failure adds one to `consecutiveFailures`; at `failureThreshold` the
 *   circuit opens. A success resets the count.
 * - open: no call reaches the exchange until `retryAt`. After it, the first instance that
 *   claims the probe (a conditional write) moves it to half-open and makes one call.
 * - half-open: exactly one probe is in flight, leased until `probeUntil`; every other call is
 *   refused. The probe's success closes the circuit, its failure opens it again for another
 *   `openMs`. A probe whose holder died is reclaimed once its lease has passed.
 * Only failures that say something about the exchange's health count (network, timeout,
 * unavailable, rate limited, unknown outcome); a rejection (invalid order, funds, not found) is
 * an answer, so it counts as a success.
 */
import { ExchangeTransientError } from './errors.js';

export type CircuitStatus = 'closed' | 'open' | 'half-open';

export interface CircuitState {
  readonly status: CircuitStatus;
  readonly consecutiveFailures: number;
  /** Epoch ms the circuit last opened. */
  readonly openedAt?: number;
  /** Open: epoch ms from which a probe may be made. */
  readonly retryAt?: number;
  /** Half-open: epoch ms until which the current probe holds its lease. */
  readonly probeUntil?: number;
  /** Code or message of the last counted failure, for health. */
  readonly lastFailure?: string;
}

export interface CircuitSettings {
  /** Consecutive failures that open the circuit. */
  readonly failureThreshold: number;
  /** How long the circuit stays open before a probe, in ms. */
  readonly openMs: number;
  /** How long a probe may take before another instance may probe instead, in ms. */
  readonly probeLeaseMs: number;
}

/** Defaults: 5 consecutive failures open the circuit for 60 s; a probe holds its lease for 30 s. */
export const DEFAULT_CIRCUIT_SETTINGS: CircuitSettings = { failureThreshold: 5, openMs: 60_000, probeLeaseMs: 30_000 };

export const CLOSED_CIRCUIT: CircuitState = { status: 'closed', consecutiveFailures: 0 };

/** What to do with a call. `probe` carries the half-open state the caller must persist first. */
export type Admission =
  | { readonly kind: 'call' }
  | { readonly kind: 'probe'; readonly next: CircuitState }
  | { readonly kind: 'reject'; readonly retryAt: number };

export function admit(state: CircuitState, now: number, settings: CircuitSettings): Admission {
  switch (state.status) {
    case 'closed':
      return { kind: 'call' };
    case 'open': {
      const retryAt = state.retryAt ?? 0;
      if (now < retryAt) return { kind: 'reject', retryAt };
      return { kind: 'probe', next: { ...state, status: 'half-open', probeUntil: now + settings.probeLeaseMs } };
    }
    case 'half-open': {
      const probeUntil = state.probeUntil ?? 0;
      if (now < probeUntil) return { kind: 'reject', retryAt: probeUntil };
      return { kind: 'probe', next: { ...state, status: 'half-open', probeUntil: now + settings.probeLeaseMs } };
    }
    default:
      return assertNever(state.status);
  }
}

/**
 * The state after a call ended. `probe` says whether this call was the half-open probe: only a
 * probe may close or reopen a half-open circuit, and a late result of a call admitted while the
 * circuit was closed never closes an open one.
 */
export function recordOutcome(
  state: CircuitState,
  outcome: { readonly ok: true } | { readonly ok: false; readonly failure: string },
  now: number,
  probe: boolean,
  settings: CircuitSettings,
): CircuitState {
  if (probe) {
    if (outcome.ok) return CLOSED_CIRCUIT;
    return open(state.consecutiveFailures + 1, now, settings, outcome.failure);
  }
  if (state.status !== 'closed') return state;
  if (outcome.ok) return state.consecutiveFailures === 0 ? state : CLOSED_CIRCUIT;
  const failures = state.consecutiveFailures + 1;
  if (failures >= settings.failureThreshold) return open(failures, now, settings, outcome.failure);
  return { ...state, consecutiveFailures: failures, lastFailure: outcome.failure };
}

function open(failures: number, now: number, settings: CircuitSettings, failure: string): CircuitState {
  return { status: 'open', consecutiveFailures: failures, openedAt: now, retryAt: now + settings.openMs, lastFailure: failure };
}

export function sameCircuit(a: CircuitState, b: CircuitState): boolean {
  return (
    a.status === b.status &&
    a.consecutiveFailures === b.consecutiveFailures &&
    a.openedAt === b.openedAt &&
    a.retryAt === b.retryAt &&
    a.probeUntil === b.probeUntil &&
    a.lastFailure === b.lastFailure
  );
}

/**
 * Refused because the exchange's circuit is open (or another instance is probing). Nothing was
 * sent, so it is transient: the scan fails loudly, an intent is redelivered later.
 */
export class CircuitOpenError extends ExchangeTransientError {
  constructor(exchangeId: string, retryAt: number) {
    super(`circuit for ${exchangeId} is open until ${new Date(retryAt).toISOString()}`, {
      details: { reason: 'circuit-open', exchange: exchangeId, retryAt: new Date(retryAt).toISOString() },
    });
    this.name = 'CircuitOpenError';
  }
}

function assertNever(value: never): never {
  throw new Error(`unexpected circuit status ${String(value)}`);
}
