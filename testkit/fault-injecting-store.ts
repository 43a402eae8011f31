/**
 * Chaos for DynamoDB (TST-3): a client middleware that makes a seeded fraction of calls fail the
 * way DynamoDB fails under load or in a race, so every adapter above the client (order store,
 * account book, locks, audit, idempotency, paper exchange) is exercised against it unchanged.
 *
 * `client.middlewareStack.add(...)` at the `initialize` step, outside the SDK's own retry loop:
 * an injected fault is what the caller sees after the SDK gave up, which is the case the
 * application must handle (fail the invocation, never swallow: HLT-5).
 *
 * Faults (the SDK's own exception classes, with `$metadata`, so they are classified exactly as
 * the real ones):
 * - `throughput-exceeded`: ProvisionedThroughputExceededException;
 * - `throttling`: ThrottlingException;
 * - `conditional-check-failed`: ConditionalCheckFailedException, drawn only for calls that carry
 *   a ConditionExpression (DynamoDB raises it for nothing else).
 * Timing:
 * - `before`: the request is never sent (nothing was written);
 * - `after`: the request was sent and succeeded, then the answer is replaced by the fault: a
 *   lost response. With `conditional-check-failed` this is the classic SDK-retry trap (the
 *   first attempt wrote, its answer was lost, the retry found its own write and failed the
 *   condition).
 *
 * Two modes, usable together, as in fault-injecting-exchange.ts: `rate` (one seeded draw per
 * matching call: the same seed and call sequence give the same faults) and `script` (faults
 * consumed by the next matching calls, before any draw). `enabled = false` stops both.
 */
import {
  ConditionalCheckFailedException,
  ProvisionedThroughputExceededException,
  ThrottlingException,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { seededRandom } from './fault-injecting-exchange.js';

export const STORE_FAULT_KINDS = ['throughput-exceeded', 'throttling', 'conditional-check-failed'] as const;
export type StoreFaultKind = (typeof STORE_FAULT_KINDS)[number];
export type StoreFaultTiming = 'before' | 'after';

/** A scripted fault; `timing` defaults to `before`. */
export type ScriptedStoreFault = StoreFaultKind | { readonly kind: StoreFaultKind; readonly timing?: StoreFaultTiming };

/** Name of the middleware in each client's stack (one per client). */
export const STORE_FAULTS_MIDDLEWARE = 'tradewardenStoreFaults';

export interface FaultInjectingStoreOptions {
  /** Seed of the PRNG. @default 'store-faults' */
  readonly seed?: string;
  /** Probability (0..1) that one matching call fails. @default 0 (scripted faults only) */
  readonly rate?: number;
  /** Relative weights of the kinds drawn at `rate`. @default every kind, weight 1 */
  readonly kinds?: Partial<Readonly<Record<StoreFaultKind, number>>>;
  /**
   * Only these operations (`PutItem`, `UpdateItem`, `GetItem`, `Query`, ...: the command name
   * without `Command`). @default every operation
   */
  readonly commands?: readonly string[];
  /** Only calls on these tables. @default every table */
  readonly tables?: readonly string[];
  /** Fraction (0..1) of drawn faults raised after the request succeeded (lost response). @default 0 */
  readonly lostResponseRate?: number;
  /** Only calls this predicate accepts (called once per call that passed the other filters). @default every call */
  readonly match?: (call: StoreCall) => boolean;
}

/** One DynamoDB call as the filters see it; `input` is the command input before marshalling. */
export interface StoreCall {
  readonly command: string;
  readonly table?: string;
  readonly conditional: boolean;
  readonly input: Readonly<Record<string, unknown>>;
}

/** The value of a key attribute (e.g. `pk`) of a call's Item or Key, plain or marshalled. */
export function keyAttribute(call: StoreCall, name: string): string | undefined {
  const holder = (call.input.Item ?? call.input.Key) as Record<string, unknown> | undefined;
  const value = holder?.[name];
  if (typeof value === 'string') return value;
  if (value !== null && typeof value === 'object' && typeof (value as { S?: unknown }).S === 'string') return (value as { S: string }).S;
  return undefined;
}

/** One injected fault, for assertions and chaos reports. */
export interface InjectedStoreFault {
  readonly seq: number;
  readonly command: string;
  readonly table?: string;
  readonly kind: StoreFaultKind;
  readonly timing: StoreFaultTiming;
}

const FAULT_MESSAGE: Readonly<Record<StoreFaultKind, string>> = {
  'throughput-exceeded': 'The level of configured provisioned throughput for the table was exceeded. (injected)',
  throttling: 'Throughput exceeds the current capacity of your table or index. (injected)',
  'conditional-check-failed': 'The conditional request failed (injected)',
};

/** The SDK exception DynamoDB would return for a fault. */
export function storeFaultError(kind: StoreFaultKind, seq = 0): Error {
  const $metadata = { httpStatusCode: 400, requestId: `injected-${seq}`, attempts: 1, totalRetryDelay: 0 };
  const message = FAULT_MESSAGE[kind];
  switch (kind) {
    case 'throughput-exceeded':
      return new ProvisionedThroughputExceededException({ message, $metadata });
    case 'throttling':
      return new ThrottlingException({ message, $metadata });
    case 'conditional-check-failed':
      return new ConditionalCheckFailedException({ message, $metadata });
    default: {
      const exhaustive: never = kind;
      return exhaustive;
    }
  }
}

function checkFraction(name: string, value: number | undefined): void {
  if (value !== undefined && !(Number.isFinite(value) && value >= 0 && value <= 1)) {
    throw new RangeError(`${name} must be a number from 0 to 1, got ${String(value)}`);
  }
}

export class FaultInjectingStore {
  /** While false, no fault is injected (scripted ones stay queued). */
  enabled = true;
  /** Calls seen per operation (matching or not). */
  readonly calls = new Map<string, number>();
  /** Faults raised (a lost-response fault whose request failed by itself is not one). */
  readonly injected: InjectedStoreFault[] = [];
  /** Lost-response faults not raised because the request failed by itself. */
  preempted = 0;

  private rate: number;
  private readonly random: () => number;
  private readonly weights: readonly (readonly [StoreFaultKind, number])[];
  private readonly commands: ReadonlySet<string> | undefined;
  private readonly tables: ReadonlySet<string> | undefined;
  private readonly lostResponseRate: number;
  private readonly match: ((call: StoreCall) => boolean) | undefined;
  private readonly scripted: { kind: StoreFaultKind; timing: StoreFaultTiming }[] = [];
  private readonly attached = new Set<DynamoDBClient>();

  constructor(options: FaultInjectingStoreOptions = {}) {
    checkFraction('rate', options.rate);
    checkFraction('lostResponseRate', options.lostResponseRate);
    this.rate = options.rate ?? 0;
    this.random = seededRandom(options.seed ?? 'store-faults');
    this.weights = STORE_FAULT_KINDS.map((k) => [k, options.kinds?.[k] ?? (options.kinds ? 0 : 1)] as const).filter(([, w]) => w > 0);
    this.commands = options.commands ? new Set(options.commands.map(operationName)) : undefined;
    this.tables = options.tables ? new Set(options.tables) : undefined;
    this.lostResponseRate = options.lostResponseRate ?? 0;
    this.match = options.match;
  }

  /** Changes the fault rate (0 stops random faults). */
  setRate(rate: number): void {
    checkFraction('rate', rate);
    this.rate = rate;
  }

  /** Queues faults for the next matching calls, in order. */
  script(...faults: ScriptedStoreFault[]): this {
    for (const f of faults) this.scripted.push(typeof f === 'string' ? { kind: f, timing: 'before' } : { kind: f.kind, timing: f.timing ?? 'before' });
    return this;
  }

  /** Scripted faults not consumed yet. */
  pending(): number {
    return this.scripted.length;
  }

  /** Adds the middleware to a client (and so to every DynamoDBDocumentClient built from it). */
  attach(client: DynamoDBClient): this {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const command = operationName(context.commandName ?? 'Unknown');
        const input = (args.input ?? {}) as Record<string, unknown>;
        const fault = this.draw(command, input);
        if (!fault) return next(args);
        if (fault.timing === 'after') {
          try {
            await next(args);
          } catch (error) {
            // The request failed by itself: there is no response to lose; its own error stands.
            this.preempted += 1;
            throw error;
          }
        }
        const raised: InjectedStoreFault = { ...fault, seq: this.injected.length + 1 };
        this.injected.push(raised);
        throw storeFaultError(raised.kind, raised.seq);
      },
      { step: 'initialize', name: STORE_FAULTS_MIDDLEWARE, override: true },
    );
    this.attached.add(client);
    return this;
  }

  /** Removes the middleware from every client it was added to. */
  detachAll(): void {
    for (const client of this.attached) client.middlewareStack.remove(STORE_FAULTS_MIDDLEWARE);
    this.attached.clear();
  }

  /** Injected faults per kind. */
  counts(): Record<StoreFaultKind, number> {
    const out = Object.fromEntries(STORE_FAULT_KINDS.map((k) => [k, 0])) as Record<StoreFaultKind, number>;
    for (const f of this.injected) out[f.kind] += 1;
    return out;
  }

  private draw(command: string, input: Readonly<Record<string, unknown>>): Omit<InjectedStoreFault, 'seq'> | undefined {
    this.calls.set(command, (this.calls.get(command) ?? 0) + 1);
    if (!this.enabled) return undefined;
    if (this.commands && !this.commands.has(command)) return undefined;
    const table = typeof input.TableName === 'string' ? input.TableName : undefined;
    if (this.tables && (table === undefined || !this.tables.has(table))) return undefined;
    const conditional = typeof input.ConditionExpression === 'string';
    if (this.match && !this.match({ command, ...(table ? { table } : {}), conditional, input })) return undefined;
    let chosen: { kind: StoreFaultKind; timing: StoreFaultTiming } | undefined;
    const index = this.scripted.findIndex((f) => f.kind !== 'conditional-check-failed' || conditional);
    if (index >= 0) chosen = this.scripted.splice(index, 1)[0];
    else if (this.rate > 0) {
      // Draws happen on every matching call, so the sequence is reproducible whatever fails.
      const fails = this.random() < this.rate;
      const pick = this.random();
      const late = this.random() < this.lostResponseRate;
      if (fails) {
        const kind = weightedPick(this.weights.filter(([k]) => k !== 'conditional-check-failed' || conditional), pick);
        if (kind) chosen = { kind, timing: late ? 'after' : 'before' };
      }
    }
    if (!chosen) return undefined;
    return { command, ...(table ? { table } : {}), ...chosen };
  }
}

/** `PutItemCommand` and `PutItem` both name the PutItem operation. */
function operationName(name: string): string {
  return name.endsWith('Command') ? name.slice(0, -'Command'.length) : name;
}

function weightedPick(weights: readonly (readonly [StoreFaultKind, number])[], u: number): StoreFaultKind | undefined {
  const total = weights.reduce((sum, [, w]) => sum + w, 0);
  if (total <= 0) return undefined;
  let cumulative = 0;
  for (const [kind, w] of weights) {
    cumulative += w / total;
    if (u < cumulative) return kind;
  }
  return weights.at(-1)?.[0];
}
