/**
 * `npm run ops -- <command>`: operate the local stack.
 *   status [--json]                      mode, data source, jobs, orders, positions, balances, health
 *   health [--json]                      run the health check now
 *   pause --reason "..." [--for 2h] [--author name]
 *   resume
 *   emergency-stop [--reason "..."]      pause, then cancel every open order
 *   get [key]                            the tunables: stored record and effective values (OPS-5)
 *   set <key> <value> [--author name]    change one tunable without a redeploy, e.g.
 *                                          set maxOpenPositions 3
 *                                          set strategies.rsi-mean-reversion.symbols.BTC/USDT true
 *                                          set strategies.price-drop.params.dropPercent 2
 *                                        `set <key> null` removes it (back to the configured default)
 *   reset-scan-marker --reason "..." [--author name]
 *                                        clear the scanner's last-slot marker (shown by status), audited
 *   audit verify                         exit 1 naming the first broken record of each bad stream
 *   redrive [--aws]                      move dead-lettered intents back to the execution queue (OPS-2):
 *                                          locally: receive from the DLQ, send to the queue, delete
 *                                          (fauxqs has no StartMessageMoveTask);
 *                                          --aws: an SQS message move task from the DLQ to the queue
 *                                          named by TW_EXECUTION_DLQ_URL / TW_EXECUTION_QUEUE_URL
 *                                          (AWS_REGION and the usual AWS credentials)
 *
 * A command line is validated before anything starts: an unknown command or option, a missing
 * or extra operand, an option the command does not take, or a bad value is a coded
 * VALIDATION_FAILED error that touches no state (SEC-4).
 *
 * The commands are importable (`runOps`), so tests run them against an embedded stack; the
 * script runs `main` only when executed directly.
 */
import { parseArgs } from 'node:util';
import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
  SendMessageCommand,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { scannerSettings } from '../functions/scanner/app.js';
import type { LocalRuntime } from '../local-runtime/runtime.js';
import { DynamoDbTunablesStore } from '../shared/adapters/aws/dynamodb-tunables-store.js';
import { ConfigError, ValidationError, toTradewardenError } from '../shared/domain/errors.js';
import { BUILT_IN_STRATEGIES } from '../shared/domain/strategies/index.js';
import { TunablesSchema, type Tunables } from '../shared/ports/tunables-store.js';
import { ENV } from '../shared/runtime/config.js';
import { resolveScanSettings } from '../shared/use-cases/scan-market.js';
import { resetScanMarker } from '../shared/use-cases/scan-marker.js';
import { withLocalRuntime } from './local-session.js';
import { collectStatus } from './status.js';
import { runAsScript } from './run-as-script.js';

const DURATION = /^(\d{1,5})(s|m|h|d)$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
/** Deepest tunables path: strategies.<name>.symbols.<symbol>. */
const MAX_KEY_DEPTH = 4;

export function parseDuration(text: string): number {
  const m = DURATION.exec(text);
  if (!m) throw new ValidationError(`--for must look like 30m, 2h or 1d, got ${JSON.stringify(text)}`);
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

export interface OpsArgs {
  readonly json: boolean;
  /** `redrive --aws`: run against the deployed queues instead of the local stack. */
  readonly aws?: boolean;
  readonly reason?: string;
  readonly for?: string;
  readonly author?: string;
  /** Positionals after the command name (`set <key> <value>`, `get [key]`, `audit verify`). */
  readonly operands: readonly string[];
  /** Where the command prints (stdout by default). */
  readonly out: (line: string) => void;
}

type Command = (runtime: LocalRuntime, args: OpsArgs) => Promise<number>;

const defaultAuthor = (args: OpsArgs): string => args.author ?? process.env.USER ?? 'ops';

function tunablesStore(runtime: LocalRuntime): DynamoDbTunablesStore {
  return new DynamoDbTunablesStore({ doc: runtime.containers.health.doc, table: runtime.config.stateTable });
}

/** Splits `a.b.c` into path segments; a symbol segment keeps its slash. */
function keyPath(key: string): string[] {
  const path = key.split('.');
  if (path.length === 0 || path.length > MAX_KEY_DEPTH || path.some((p) => p.length === 0)) {
    throw new ValidationError(`bad tunables key ${JSON.stringify(key)}: use names joined by dots, e.g. strategies.price-drop.enabled`);
  }
  return path;
}

/** A copy of `record` with `path` set to `value` (removed when `value` is undefined); empty maps are dropped. */
function withValue(record: Record<string, unknown>, path: readonly string[], value: unknown): Record<string, unknown> {
  const [head, ...rest] = path;
  if (head === undefined) return record;
  const copy: Record<string, unknown> = { ...record };
  if (rest.length === 0) {
    if (value === undefined) delete copy[head];
    else copy[head] = value;
    return copy;
  }
  const child = copy[head];
  const nested = withValue(child !== null && typeof child === 'object' && !Array.isArray(child) ? (child as Record<string, unknown>) : {}, rest, value);
  if (Object.keys(nested).length === 0) delete copy[head];
  else copy[head] = nested;
  return copy;
}

/**
 * Readings of a command-line value, most specific first: JSON (numbers, booleans, null to remove),
 * then the text itself (decimal strings such as "2.5" are strings in the record).
 */
function readings(text: string): unknown[] {
  const result: unknown[] = [];
  try {
    result.push(JSON.parse(text));
  } catch {
    // Not JSON: only the text reading applies.
  }
  if (!result.includes(text)) result.push(text);
  return result.map((v) => (v === null ? undefined : v));
}

/**
 * Validates a candidate record as the scanner will use it: the record's schema, then every strategy
 * name and parameter against the registry merged over the configured defaults.
 */
function validTunables(runtime: LocalRuntime, candidate: unknown): { ok: true; tunables: Tunables } | { ok: false; problem: string } {
  const parsed = TunablesSchema.safeParse(candidate);
  if (!parsed.success) return { ok: false, problem: parsed.error.issues.map((i) => `${i.path.join('.') || '(record)'}: ${i.message}`).join('; ') };
  try {
    resolveScanSettings(scannerSettings(runtime.config), parsed.data, BUILT_IN_STRATEGIES);
  } catch (error) {
    return { ok: false, problem: toTradewardenError(error).message };
  }
  return { ok: true, tunables: parsed.data };
}

function effectiveTunables(runtime: LocalRuntime, tunables: Tunables) {
  const defaults = scannerSettings(runtime.config);
  const resolved = resolveScanSettings(defaults, tunables, BUILT_IN_STRATEGIES);
  return {
    orderQuoteAmount: resolved.orderQuoteAmount,
    ...resolved.protections,
    strategies: Object.fromEntries(
      resolved.strategies.map(({ strategy, enabledFor }) => [
        strategy.name,
        {
          params: strategy.params,
          candlesNeeded: strategy.candlesNeeded,
          enabledFor: Object.fromEntries(runtime.config.watchlist.map((s) => [s, enabledFor(s)])),
        },
      ]),
    ),
  };
}

function pick(record: unknown, path: readonly string[]): unknown {
  let current: unknown = record;
  for (const p of path) current = current !== null && typeof current === 'object' ? (current as Record<string, unknown>)[p] : undefined;
  return current;
}

export const commands: Record<string, Command> = {
  async status(runtime, { json, out }) {
    const status = await collectStatus(runtime.containers.health);
    if (json) out(JSON.stringify(status, null, 2));
    else {
      out(`mode ${status.mode} | exchange ${status.exchange} | data ${status.dataSource} | health ${String(status.health?.status ?? 'unknown')} | paused ${status.pause.paused}`);
      for (const j of status.jobs) out(`  ${j.job.padEnd(10)} last success ${j.lastSuccess ?? '-'} (${j.lastOutcome ?? 'never run'}, ${j.lastDurationMs ?? '-'} ms)`);
      out(`  scan marker ${status.scanMarker.lastSlot ?? '-'}${status.scanMarker.aheadOfClock ? ' AHEAD OF THE CLOCK: no scan can run; ops reset-scan-marker' : ''}`);
      out(`  ledger ${JSON.stringify(status.ledger)} equity ${status.equity}`);
      for (const p of Object.values(status.positions)) out(`  position ${p.symbol} qty ${p.qty} avg ${p.avgPrice} realized ${p.realizedPnl}`);
      for (const o of status.orders) out(`  order ${o.id} ${o.symbol} ${o.side} ${o.amount} ${o.state}${o.reason ? ` (${o.reason})` : ''}`);
    }
    return 0;
  },
  async health(runtime, { json, out }) {
    const report = await runtime.health();
    if (json) out(JSON.stringify(report, null, 2));
    else {
      out(`health ${report.status}`);
      for (const r of report.reasons) out(`  ${r}`);
    }
    return report.status === 'FAILING' ? 1 : 0;
  },
  async pause(runtime, args) {
    if (!args.reason) throw new ValidationError('pause needs --reason "..."');
    const c = runtime.containers.health;
    const now = c.clock.now();
    const until = args.for ? new Date(now.getTime() + parseDuration(args.for)).toISOString() : undefined;
    const state = { paused: true, reason: args.reason, author: defaultAuthor(args), since: now.toISOString(), ...(until ? { until } : {}) };
    await c.control.setPause(state);
    await c.audit.append('control', { type: 'control.paused', data: state }, now);
    args.out(JSON.stringify(state));
    return 0;
  },
  async resume(runtime, args) {
    const c = runtime.containers.health;
    const now = c.clock.now();
    await c.control.setPause({ paused: false });
    await c.audit.append('control', { type: 'control.resumed', data: { author: defaultAuthor(args) } }, now);
    args.out(JSON.stringify({ paused: false }));
    return 0;
  },
  async 'emergency-stop'(runtime, args) {
    await commands.pause?.(runtime, { ...args, reason: args.reason ?? 'emergency stop' });
    const c = runtime.containers.health;
    let canceled = 0;
    for (const o of await c.exchange.fetchOpenOrders()) {
      await c.exchange.cancelOrder(o.symbol, o.clientOrderId);
      canceled += 1;
    }
    await c.audit.append('control', { type: 'control.emergency-stop', data: { canceled } }, c.clock.now());
    args.out(JSON.stringify({ canceled }));
    return 0;
  },
  async get(runtime, args) {
    const [key] = args.operands;
    const stored = await tunablesStore(runtime).getTunables();
    const effective = effectiveTunables(runtime, stored.tunables);
    if (key !== undefined) {
      const path = keyPath(key);
      args.out(JSON.stringify({ key, stored: pick(stored.tunables, path) ?? null, effective: pick(effective, path) ?? null }, null, 2));
    } else {
      args.out(JSON.stringify({ version: stored.version, updatedAt: stored.updatedAt, updatedBy: stored.updatedBy, stored: stored.tunables, effective }, null, 2));
    }
    return 0;
  },
  async set(runtime, args) {
    const [key, value] = args.operands;
    if (key === undefined || value === undefined) throw new ValidationError('usage: npm run ops -- set <key> <value>  (value null removes the key)');
    const path = keyPath(key);
    const store = tunablesStore(runtime);
    const c = runtime.containers.health;
    const current = await store.getTunables();
    let problem = '';
    for (const reading of readings(value)) {
      const checked = validTunables(runtime, withValue(current.tunables as Record<string, unknown>, path, reading));
      if (!checked.ok) {
        problem ||= checked.problem;
        continue;
      }
      const now = c.clock.now();
      const author = defaultAuthor(args);
      await store.putTunables(checked.tunables, current.version, author, now);
      await c.audit.append('control', { type: 'control.tunables-set', data: { key, value: reading ?? null, author, version: current.version + 1 } }, now);
      args.out(JSON.stringify({ key, value: reading ?? null, version: current.version + 1, tunables: checked.tunables }));
      return 0;
    }
    throw new ValidationError(`cannot set ${key} to ${value}: ${problem}`);
  },
  async 'reset-scan-marker'(runtime, args) {
    if (!args.reason) throw new ValidationError('reset-scan-marker needs --reason "..."');
    const c = runtime.containers.health;
    const result = await resetScanMarker({ risk: tunablesStore(runtime), audit: c.audit, clock: c.clock }, { author: defaultAuthor(args), reason: args.reason });
    args.out(JSON.stringify({ reset: true, previous: result.previous }));
    return 0;
  },
  async audit(runtime, args) {
    const verification = await runtime.containers.health.audit.verify();
    args.out(args.json ? JSON.stringify(verification, null, 2) : `audit ${verification.valid ? 'valid' : 'BROKEN'}: ${verification.records} records in ${verification.streams} streams`);
    for (const p of verification.problems) args.out(`  ${p.stream} #${p.seq}: ${p.problem}`);
    return verification.valid ? 0 : 1;
  },
  async redrive(runtime, args) {
    const moved = await redriveLocally(runtime.sqs, { queueUrl: runtime.config.executionQueueUrl, dlqUrl: runtime.config.executionDlqUrl });
    args.out(JSON.stringify({ redriven: moved }));
    return 0;
  },
};

/** Most messages one ReceiveMessage returns. */
const SQS_RECEIVE_LIMIT = 10;

/**
 * Local redrive (fauxqs has no StartMessageMoveTask): receive from the DLQ, send each message to
 * the queue in its message group with a new deduplication id (the original one may still be in
 * the FIFO deduplication window), then delete it from the DLQ. Returns how many moved.
 */
export async function redriveLocally(sqs: SQSClient, queues: { readonly queueUrl: string; readonly dlqUrl: string }): Promise<number> {
  let moved = 0;
  for (;;) {
    const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queues.dlqUrl, MaxNumberOfMessages: SQS_RECEIVE_LIMIT, MessageSystemAttributeNames: ['All'] }));
    const messages = out.Messages ?? [];
    if (messages.length === 0) return moved;
    for (const m of messages) {
      // Send first, delete second: a crash in between duplicates the message, which the
      // executor absorbs (EXE-1); the other order could lose it.
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: queues.queueUrl,
          MessageBody: m.Body ?? '',
          MessageGroupId: m.Attributes?.MessageGroupId ?? 'redrive',
          MessageDeduplicationId: `${m.MessageId ?? ''}-redrive-${Date.now()}`,
        }),
      );
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queues.dlqUrl, ReceiptHandle: m.ReceiptHandle ?? '' }));
      moved += 1;
    }
  }
}

/** What `redrive --aws` started. */
export interface MoveTask {
  readonly taskHandle: string;
  readonly sourceArn: string;
  readonly destinationArn: string;
}

/**
 * Redrive on AWS: one SQS message move task from the DLQ (source) back to the execution queue
 * (destination), the API behind the console's "Start DLQ redrive". SQS moves the messages
 * asynchronously; `aws sqs list-message-move-tasks --source-arn <DLQ ARN>` shows its progress.
 * The executor processes each redriven intent exactly once (EXE-1).
 */
export async function startAwsRedrive(sqs: Pick<SQSClient, 'send'>, queues: { readonly queueUrl: string; readonly dlqUrl: string }): Promise<MoveTask> {
  const arnOf = async (url: string): Promise<string> => {
    const out = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
    const arn = out.Attributes?.QueueArn;
    if (!arn) throw new ConfigError([`no QueueArn for ${url}`]);
    return arn;
  };
  const sourceArn = await arnOf(queues.dlqUrl);
  const destinationArn = await arnOf(queues.queueUrl);
  const task = await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: sourceArn, DestinationArn: destinationArn }));
  return { taskHandle: task.TaskHandle ?? '', sourceArn, destinationArn };
}

const SQS_URL = /^https:\/\/\S+$/;

/** The deployed queues of `redrive --aws`, from the environment. @throws ConfigError naming each missing variable. */
export function awsQueuesFrom(env: Readonly<Record<string, string | undefined>>): { queueUrl: string; dlqUrl: string; region: string } {
  const queueUrl = env[ENV.executionQueueUrl] ?? '';
  const dlqUrl = env[ENV.executionDlqUrl] ?? '';
  const problems = [
    ...(SQS_URL.test(queueUrl) ? [] : [`${ENV.executionQueueUrl}: the execution queue URL (stack output), https://...`]),
    ...(SQS_URL.test(dlqUrl) ? [] : [`${ENV.executionDlqUrl}: the execution DLQ URL (stack output), https://...`]),
  ];
  if (problems.length > 0) throw new ConfigError(problems);
  return { queueUrl, dlqUrl, region: env[ENV.region] ?? 'us-east-1' };
}

/** Options each command takes; anything else on its command line is refused. */
const COMMAND_OPTIONS: Readonly<Record<string, readonly string[]>> = {
  status: ['json'],
  health: ['json'],
  pause: ['reason', 'for', 'author'],
  resume: ['author'],
  'emergency-stop': ['reason', 'author'],
  get: ['json'],
  set: ['author'],
  audit: ['json'],
  redrive: ['json', 'aws'],
  'reset-scan-marker': ['reason', 'author'],
};
/** How many operands each command takes, [min, max]. */
const COMMAND_OPERANDS: Readonly<Record<string, readonly [number, number]>> = {
  status: [0, 0],
  health: [0, 0],
  pause: [0, 0],
  resume: [0, 0],
  'emergency-stop': [0, 0],
  get: [0, 1],
  set: [2, 2],
  audit: [1, 1],
  redrive: [0, 0],
  'reset-scan-marker': [0, 0],
};
const MAX_REASON_CHARS = 500;
const MAX_AUTHOR_CHARS = 100;
/** Control characters (C0, DEL, C1) and bidirectional overrides: they would hide text in an audit record or a terminal. */
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

function checkText(option: string, value: string | undefined, max: number): void {
  if (value === undefined) return;
  if (value.trim().length === 0 || value.length > max) throw new ValidationError(`--${option} must be 1 to ${max} characters`);
  if (UNPRINTABLE.test(value)) throw new ValidationError(`--${option} must not contain control characters`);
}

function usage(): string {
  const names = Object.keys(commands).map((c) => (c === 'audit' ? 'audit verify' : c === 'set' ? 'set <key> <value>' : c === 'get' ? 'get [key]' : c === 'redrive' ? 'redrive [--aws]' : c));
  return `usage: npm run ops -- <${names.join('|')}> [--json]`;
}

/**
 * Parses a command line (without `node script`) into the command and its arguments.
 * @throws ValidationError with the usage for an unknown command, option or operand, or a bad value.
 */
export function parseOpsArgs(argv: readonly string[], out: (line: string) => void = console.log): { command: Command; name: string; args: OpsArgs } {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      tokens: true,
      options: {
        json: { type: 'boolean', default: false },
        aws: { type: 'boolean', default: false },
        reason: { type: 'string' },
        for: { type: 'string' },
        author: { type: 'string' },
      },
    });
  } catch (error) {
    // node:util's own errors (unknown option, missing value) carry no code of ours.
    throw new ValidationError(`${error instanceof Error ? error.message : String(error)}; ${usage()}`, [], { cause: error });
  }
  const { positionals, values } = parsed;
  const given = parsed.tokens.flatMap((t) => (t.kind === 'option' ? [t.name] : []));
  const [name, ...operands] = positionals;
  const command = name && Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!command || !name || (name === 'audit' && operands[0] !== 'verify')) throw new ValidationError(usage());
  const [min, max] = COMMAND_OPERANDS[name] ?? [0, 0];
  if (operands.length < min || operands.length > max) throw new ValidationError(`${name} takes ${min === max ? min : `${min} to ${max}`} operand(s), got ${operands.length}; ${usage()}`);
  if ((name === 'pause' || name === 'reset-scan-marker') && values.reason === undefined) throw new ValidationError(`${name} needs --reason "..."`);
  const allowed = new Set(COMMAND_OPTIONS[name] ?? []);
  const refused = [...new Set(given.filter((t) => !allowed.has(t)))];
  if (refused.length > 0) throw new ValidationError(`${name} does not take --${refused.join(', --')}`);
  checkText('reason', values.reason, MAX_REASON_CHARS);
  checkText('author', values.author, MAX_AUTHOR_CHARS);
  if (values.for !== undefined) parseDuration(values.for);
  return {
    command,
    name,
    args: {
      json: values.json ?? false,
      operands,
      out,
      ...(values.aws ? { aws: true } : {}),
      ...(values.reason !== undefined ? { reason: values.reason } : {}),
      ...(values.for !== undefined ? { for: values.for } : {}),
      ...(values.author !== undefined ? { author: values.author } : {}),
    },
  };
}

/** Runs one ops command line against a runtime; returns the exit code. */
export async function runOps(argv: readonly string[], runtime: LocalRuntime, out: (line: string) => void = console.log): Promise<number> {
  const { command, args } = parseOpsArgs(argv, out);
  return command(runtime, args);
}

async function main(): Promise<number> {
  // Parse before starting anything: a bad command line touches no state.
  const { command, args } = parseOpsArgs(process.argv.slice(2));
  if (args.aws) {
    const queues = awsQueuesFrom(process.env);
    const sqs = new SQSClient({ region: queues.region });
    try {
      args.out(JSON.stringify(await startAwsRedrive(sqs, queues)));
    } finally {
      sqs.destroy();
    }
    return 0;
  }
  return withLocalRuntime((runtime) => command(runtime, args));
}

runAsScript(import.meta.url, main);
