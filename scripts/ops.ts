/**
 * `npm run ops -- [--stage <name> | --outputs <file>] <command>`: operate a stack (OPS-7).
 *
 * Without `--stage`/`--outputs` the command runs on the local stack (joining a running
 * `npm start`, or starting the emulators on its state). With them it runs on a deployed stack:
 *   --stage <name>      the outputs of the stack Tradewarden-<name> (CloudFormation DescribeStacks)
 *   --outputs <file>    the outputs in a `cdk deploy --outputs-file` file (`npm start` writes
 *                       .tradewarden/outputs.json in the same format)
 * with the operator's AWS credentials and region (AWS_PROFILE, AWS_REGION, ...; the
 * AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL_SQS variables redirect the SDK, e.g. to the emulators).
 *
 *   status [--json]                      mode, data source, jobs, orders, positions, balances, health
 *   health [--json]                      run the health check now
 *   pause --reason "..." [--for 2h] [--author name]
 *   resume
 *   cancel <orderId> [--reason "..."]    cancel one order (under its symbol lease, audited); exit 1 when it failed
 *   emergency-stop [--reason "..."] [--all [--yes]] [--json]
 *                                        pause, then cancel every open order Tradewarden placed (tw-),
 *                                          past each failed cancel; exit 1 listing every failure.
 *                                          --all also cancels other orders on the watched symbols: it asks
 *                                          for a typed confirmation on a terminal, --yes confirms without one
 *   get [key]                            the tunables: stored record and effective values (OPS-5)
 *   set <key> <value> [--author name]    change one tunable without a redeploy, e.g.
 *                                          set maxOpenPositions 3
 *                                          set strategies.rsi-mean-reversion.symbols.BTC/USDT true
 *                                          set strategies.price-drop.params.dropPercent 2
 *                                        `set <key> null` removes it (back to the configured default)
 *   reset-scan-marker --reason "..." [--author name]
 *                                        clear the scanner's last-slot marker (shown by status), audited
 *   export --out <dir> [--from <time>] [--to <time>]
 *                                        orders, fills, positions, ledger and audit records as JSON Lines,
 *                                          and trades.csv (time, symbol, side, amount, price, fee, fee
 *                                          currency, order id); orders and audit within the window (OPS-6)
 *   import <dir>                         restore an export into a fresh stack (ledger, positions, orders, audit)
 *   audit verify                         exit 1 naming the first broken record of each bad stream: the
 *                                          hash chain, the head pointers, and every audit checkpoint
 *                                          (the Object Lock bucket, or the local directory; SEC-5)
 *   ledger show [--json]                 the book: cash, holdings, positions, external baselines, how it opened
 *   ledger deposit <asset> <amount> [--author name]
 *   ledger withdraw <asset> <amount> [--author name]
 *                                        money into or out of Tradewarden's budget (and the exchange), audited
 *   ledger rebase <asset> <amount> --reason "..." [--author name]
 *                                        what Tradewarden holds of an asset; the external baseline is recorded
 *                                          again from the exchange (REC-6, REC-7)
 *   redrive                              move dead-lettered intents back to the execution queue (OPS-2):
 *                                          an SQS message move task where the endpoint has them (AWS),
 *                                          otherwise receive, re-send and delete (the local emulator)
 *
 * This script only parses the command line and picks the transport; the commands are the
 * operator use cases of shared/operations, and the transports live in operator/.
 *
 * A command line is validated before anything starts: an unknown command or option, a missing
 * or extra operand, an option the command does not take, or a bad value is a coded
 * VALIDATION_FAILED error that touches no state (SEC-4).
 */
import { parseArgs } from 'node:util';
import { LocalRuntime } from '../local-runtime/runtime.js';
import { openOperatorSession, localOperatorDeps, withSession, type StackTarget } from '../operator/index.js';
import { ValidationError } from '../shared/domain/errors.js';
import { ledgerAmount, ledgerAsset } from '../shared/domain/ledger.js';
import { confirmOnTerminal, type Confirm } from '../operator/confirm.js';
import { NotConfirmedError, type OperatorDeps } from '../shared/operations/index.js';
import { runAsScript } from './run-as-script.js';

export { CANCEL_ALL_PHRASE, confirmOnTerminal, type Confirm } from '../operator/confirm.js';
export { redriveByClientMove as redriveLocally, startMoveTask as startAwsRedrive, type MoveTask } from '../shared/adapters/aws/sqs-dead-letter-redrive.js';

import { LEDGER_USAGE, commands, parseDuration, type CommandSpec, type OpsArgs } from '../operator/ops-commands.js';
export { parseDuration, type OpsArgs } from '../operator/ops-commands.js';

/** Options that pick the stack; every command takes them. */
const TARGET_OPTIONS = ['stage', 'outputs'];
/** Stage names as `cdk deploy -c stage=<name>` takes them. */
const STAGE_NAME = /^[a-z][a-z0-9-]{0,30}$/;
const MAX_PATH_CHARS = 1024;
/** A date, or a date and time with an optional zone. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?)?$/;
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
  const names = Object.keys(commands).map((c) => (c === 'audit' ? 'audit verify' : c === 'cancel' ? 'cancel <orderId>' : c === 'set' ? 'set <key> <value>' : c === 'get' ? 'get [key]' : c === 'import' ? 'import <dir>' : c === 'export' ? 'export --out <dir>' : c === 'ledger' ? 'ledger show|deposit|withdraw|rebase' : c));
  return `usage: npm run ops -- [--stage <name> | --outputs <file>] <${names.join('|')}> [--json]`;
}

export interface ParsedOps {
  readonly name: string;
  readonly command: CommandSpec;
  readonly args: OpsArgs;
  readonly target: StackTarget;
}

/**
 * Parses a command line (without `node script`) into the command, its arguments and the target stack.
 * @throws ValidationError with the usage for an unknown command, option or operand, or a bad value.
 */
export function parseOpsArgs(argv: readonly string[], out: (line: string) => void = console.log): ParsedOps {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      tokens: true,
      options: {
        json: { type: 'boolean', default: false },
        all: { type: 'boolean' },
        yes: { type: 'boolean' },
        reason: { type: 'string' },
        for: { type: 'string' },
        author: { type: 'string' },
        stage: { type: 'string' },
        outputs: { type: 'string' },
        out: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
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
  if (name === 'ledger') {
    const [sub] = operands;
    const wanted = sub === 'show' ? 1 : sub === 'deposit' || sub === 'withdraw' || sub === 'rebase' ? 3 : -1;
    if (operands.length !== wanted) throw new ValidationError(LEDGER_USAGE);
    if (sub === 'rebase' && values.reason === undefined) throw new ValidationError('ledger rebase needs --reason "..."');
    if (sub !== 'rebase' && values.reason !== undefined) throw new ValidationError(`ledger ${sub} does not take --reason`);
    if (sub !== 'show' && values.json) throw new ValidationError(`ledger ${sub} does not take --json`);
    // Bad amounts and assets stop here, before a stack is opened (the use case checks them again).
    if (sub !== 'show') {
      ledgerAsset(operands[1] ?? '');
      ledgerAmount(operands[2] ?? '', `${sub} amount`, { allowZero: sub === 'rebase' });
    }
  }
  const [min, max] = command.operands;
  if (operands.length < min || operands.length > max) throw new ValidationError(`${name} takes ${min === max ? min : `${min} to ${max}`} operand(s), got ${operands.length}; ${usage()}`);
  if ((name === 'pause' || name === 'reset-scan-marker') && values.reason === undefined) throw new ValidationError(`${name} needs --reason "..."`);
  const allowed = new Set([...command.options, ...TARGET_OPTIONS]);
  const refused = [...new Set(given.filter((t) => !allowed.has(t)))];
  if (refused.length > 0) throw new ValidationError(`${name} does not take --${refused.join(', --')}`);
  checkText('reason', values.reason, MAX_REASON_CHARS);
  checkText('author', values.author, MAX_AUTHOR_CHARS);
  if (values.for !== undefined) parseDuration(values.for);
  if (values.stage !== undefined && !STAGE_NAME.test(values.stage)) throw new ValidationError(`--stage must be a stage name such as dev or prod, got ${JSON.stringify(values.stage)}`);
  checkText('outputs', values.outputs, MAX_PATH_CHARS);
  checkText('out', values.out, MAX_PATH_CHARS);
  for (const option of ['from', 'to'] as const) {
    const v = values[option];
    if (v !== undefined && (!ISO_TIME.test(v) || Number.isNaN(Date.parse(v)))) throw new ValidationError(`--${option} must be an ISO-8601 time such as 2026-01-01 or 2026-01-01T00:00:00Z, got ${JSON.stringify(v)}`);
  }
  if (name === 'export' && values.out === undefined) throw new ValidationError('export needs --out <dir>');
  if (name === 'cancel' && !/^[A-Za-z0-9_-]{1,64}$/.test(operands[0] ?? '')) throw new ValidationError('cancel takes an order id (1 to 64 letters, digits, - or _), as `ops status` lists it');
  if (values.yes && !values.all) throw new ValidationError('--yes confirms --all; emergency-stop without --all asks nothing');
  const target: StackTarget =
    values.outputs !== undefined
      ? { kind: 'outputs', file: values.outputs, ...(values.stage !== undefined ? { stage: values.stage } : {}) }
      : values.stage !== undefined
        ? { kind: 'stage', stage: values.stage }
        : { kind: 'local' };
  return {
    name,
    command,
    target,
    args: {
      json: values.json ?? false,
      operands,
      out,
      ...(values.reason !== undefined ? { reason: values.reason } : {}),
      ...(values.for !== undefined ? { for: values.for } : {}),
      ...(values.all ? { all: true } : {}),
      ...(values.yes ? { yes: true } : {}),
      ...(values.author !== undefined ? { author: values.author } : {}),
      ...(values.out !== undefined ? { outDir: values.out } : {}),
      ...(values.from !== undefined ? { from: new Date(values.from).toISOString() } : {}),
      ...(values.to !== undefined ? { to: new Date(values.to).toISOString() } : {}),
    },
  };
}

/**
 * Runs one ops command line on the given operator ports (or a local runtime's); returns the exit
 * code. The target options of the command line are ignored: the caller chose the stack.
 */
export async function runOps(argv: readonly string[], on: OperatorDeps | LocalRuntime, out: (line: string) => void = console.log, confirm: Confirm = confirmOnTerminal): Promise<number> {
  const { name, command, args } = parseOpsArgs(argv, out);
  await requireConfirmation(name, command, args, confirm);
  return command.run(on instanceof LocalRuntime ? localOperatorDeps(on) : on, args);
}

/** @throws NotConfirmedError when the command needs a typed confirmation and did not get it. */
async function requireConfirmation(name: string, command: CommandSpec, args: OpsArgs, confirm: Confirm): Promise<void> {
  const needed = command.confirmation?.(args);
  if (needed && !(await confirm(needed.question, needed.phrase))) throw new NotConfirmedError(`${name}${args.all ? ' --all' : ''}`);
}

/** Parses, opens the chosen stack, runs the command and closes the stack; returns the exit code. */
export async function runOpsCommandLine(argv: readonly string[], out: (line: string) => void = console.log, confirm: Confirm = confirmOnTerminal): Promise<number> {
  // Parse and confirm before opening anything: a bad or unconfirmed command line touches no state.
  const { name, command, args, target } = parseOpsArgs(argv, out);
  await requireConfirmation(name, command, args, confirm);
  const session = await openOperatorSession(target, { exchangeKeys: command.exchangeKeys ?? false });
  return withSession(session, (deps) => command.run(deps, args));
}

runAsScript(import.meta.url, () => runOpsCommandLine(process.argv.slice(2)));
