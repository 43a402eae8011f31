/**
 * The commands of `npm run ops` (scripts/ops.ts parses the command line and picks the stack):
 * each names the options and operands it takes, the confirmation it needs, and runs one operator
 * use case of shared/operations on the chosen stack's ports.
 */
import { ValidationError } from '../shared/domain/errors.js';
import { ExportFiles, importFiles } from './export-files.js';
import { CANCEL_ALL_PHRASE } from './confirm.js';
import { renderStatus } from './status-text.js';
import {
  cancelOneOrder,
  clearScanMarker,
  collectStatus,
  emergencyStop,
  exportState,
  importState,
  getTunables,
  pauseTrading,
  redriveDeadLetters,
  resumeTrading,
  runHealthCheck,
  setTunable,
  changeLedger,
  showLedger,
  verifyAudit,
  type CancelResult,
  type OperatorDeps,
} from '../shared/operations/index.js';

const DURATION = /^(\d{1,5})(s|m|h|d)$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export function parseDuration(text: string): number {
  const m = DURATION.exec(text);
  if (!m) throw new ValidationError(`--for must look like 30m, 2h or 1d, got ${JSON.stringify(text)}`);
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

export interface OpsArgs {
  readonly json: boolean;
  readonly reason?: string;
  readonly for?: string;
  readonly author?: string;
  /** export: the directory to write, and the time window. */
  readonly outDir?: string;
  readonly from?: string;
  readonly to?: string;
  /** emergency-stop: also orders Tradewarden did not place; confirmed without a prompt. */
  readonly all?: boolean;
  readonly yes?: boolean;
  /** Positionals after the command name (`set <key> <value>`, `get [key]`, `audit verify`). */
  readonly operands: readonly string[];
  /** Where the command prints (stdout by default). */
  readonly out: (line: string) => void;
}

export interface CommandSpec {
  /** Options the command takes besides the target options (--stage, --outputs). */
  readonly options: readonly string[];
  /** How many operands, [min, max]. */
  readonly operands: readonly [number, number];
  /** Live mode on a deployed stack: the command talks to the exchange with the API keys. */
  readonly exchangeKeys?: boolean;
  /**
   * The phrase the operator must type before the command runs, when it needs one; checked
   * before the stack is opened, so an unconfirmed command changes nothing.
   */
  confirmation?(args: OpsArgs): { readonly question: string; readonly phrase: string } | undefined;
  run(deps: OperatorDeps, args: OpsArgs): Promise<number>;
}

function printCancel(args: OpsArgs, r: CancelResult): void {
  const where = `${r.orderId} ${r.symbol}${r.exchangeOnly ? ' (exchange only)' : ''}`;
  args.out(r.ok ? `  ${r.outcome.padEnd(15)} ${where}${r.state ? ` ${r.state}` : ''}` : `  FAILED ${r.outcome} ${where}${r.state ? ` ${r.state}` : ''}: ${r.error?.code ?? ''} ${r.error?.message ?? ''}`);
}

const defaultAuthor = (args: OpsArgs): string => args.author ?? process.env.USER ?? 'ops';
const printJson = (args: OpsArgs, value: unknown) => args.out(JSON.stringify(value, null, 2));

export const commands: Readonly<Record<string, CommandSpec>> = {
  status: {
    options: ['json'],
    operands: [0, 0],
    exchangeKeys: true,
    async run(deps, args) {
      const status = await collectStatus(deps);
      if (args.json) printJson(args, status);
      else {
        for (const line of renderStatus(status)) args.out(line);
      }
      return 0;
    },
  },
  health: {
    options: ['json'],
    operands: [0, 0],
    async run(deps, args) {
      const report = await runHealthCheck(deps);
      if (args.json) printJson(args, report);
      else {
        args.out(`health ${report.status}`);
        for (const r of report.reasons) args.out(`  ${r}`);
      }
      return report.status === 'FAILING' ? 1 : 0;
    },
  },
  pause: {
    options: ['reason', 'for', 'author'],
    operands: [0, 0],
    async run(deps, args) {
      if (!args.reason) throw new ValidationError('pause needs --reason "..."');
      const state = await pauseTrading(deps, { reason: args.reason, author: defaultAuthor(args), ...(args.for ? { forMs: parseDuration(args.for) } : {}) });
      args.out(JSON.stringify(state));
      return 0;
    },
  },
  resume: {
    options: ['author'],
    operands: [0, 0],
    async run(deps, args) {
      args.out(JSON.stringify(await resumeTrading(deps, { author: defaultAuthor(args) })));
      return 0;
    },
  },
  cancel: {
    options: ['reason', 'author', 'json'],
    operands: [1, 1],
    exchangeKeys: true,
    async run(deps, args) {
      const [orderId] = args.operands;
      if (orderId === undefined) throw new ValidationError('usage: npm run ops -- cancel <orderId>');
      const result = await cancelOneOrder(deps, { orderId, reason: args.reason ?? 'canceled by the operator', author: defaultAuthor(args) });
      if (args.json) printJson(args, result);
      else printCancel(args, result);
      return result.ok ? 0 : 1;
    },
  },
  'emergency-stop': {
    options: ['reason', 'author', 'all', 'yes', 'json'],
    operands: [0, 0],
    exchangeKeys: true,
    confirmation: (args) =>
      args.all && !args.yes
        ? { question: 'EMERGENCY STOP --all: pause, then cancel EVERY open order on the watched symbols, also orders Tradewarden did not place.', phrase: CANCEL_ALL_PHRASE }
        : undefined,
    async run(deps, args) {
      const result = await emergencyStop(deps, { reason: args.reason ?? 'emergency stop', author: defaultAuthor(args), all: args.all ?? false });
      if (args.json) printJson(args, { paused: result.paused, canceled: result.canceled, filled: result.filled, failed: result.failures.length, failures: result.failures, results: result.results });
      else {
        args.out(`emergency stop: paused; canceled ${result.canceled}, filled before the cancel ${result.filled}, failed ${result.failures.length}`);
        for (const r of result.results) printCancel(args, r);
      }
      return result.failures.length > 0 ? 1 : 0;
    },
  },
  get: {
    options: ['json'],
    operands: [0, 1],
    async run(deps, args) {
      const [key] = args.operands;
      printJson(args, await getTunables(deps, key !== undefined ? { key } : {}));
      return 0;
    },
  },
  set: {
    options: ['author'],
    operands: [2, 2],
    async run(deps, args) {
      const [key, value] = args.operands;
      if (key === undefined || value === undefined) throw new ValidationError('usage: npm run ops -- set <key> <value>  (value null removes the key)');
      args.out(JSON.stringify(await setTunable(deps, { key, value, author: defaultAuthor(args) })));
      return 0;
    },
  },
  'reset-scan-marker': {
    options: ['reason', 'author'],
    operands: [0, 0],
    async run(deps, args) {
      if (!args.reason) throw new ValidationError('reset-scan-marker needs --reason "..."');
      const result = await clearScanMarker(deps, { author: defaultAuthor(args), reason: args.reason });
      args.out(JSON.stringify({ reset: true, previous: result.previous }));
      return 0;
    },
  },
  export: {
    options: ['out', 'from', 'to'],
    operands: [0, 0],
    async run(deps, args) {
      if (!args.outDir) throw new ValidationError('export needs --out <dir>');
      const files = new ExportFiles(args.outDir);
      let summary;
      try {
        summary = await exportState(deps, { window: { ...(args.from ? { from: args.from } : {}), ...(args.to ? { to: args.to } : {}) }, sink: files });
      } finally {
        await files.close();
      }
      args.out(JSON.stringify({ dir: args.outDir, ...summary }));
      return 0;
    },
  },
  import: {
    options: [],
    operands: [1, 1],
    async run(deps, args) {
      const [dir] = args.operands;
      if (!dir) throw new ValidationError('usage: npm run ops -- import <export dir>');
      args.out(JSON.stringify(await importState(deps, importFiles(dir))));
      return 0;
    },
  },
  audit: {
    options: ['json'],
    operands: [1, 1],
    async run(deps, args) {
      const verification = await verifyAudit(deps);
      const anchors = verification.anchored ? `checked against ${verification.checkpoints} checkpoint(s)` : 'no checkpoint store: the chain alone was checked';
      args.out(args.json ? JSON.stringify(verification, null, 2) : `audit ${verification.valid ? 'valid' : 'BROKEN'}: ${verification.records} records in ${verification.streams} streams, ${anchors}`);
      // --json: the problems are in the object; the lines would make the output no longer JSON.
      if (!args.json) for (const p of verification.problems) args.out(`  ${p.stream} #${p.seq}: ${p.problem}`);
      return verification.valid ? 0 : 1;
    },
  },
  ledger: {
    options: ['json', 'reason', 'author'],
    operands: [1, 3],
    exchangeKeys: true,
    async run(deps, args) {
      const [sub, asset, amount] = args.operands;
      if (sub === 'show') {
        const view = await showLedger(deps);
        if (args.json) printJson(args, view);
        else {
          args.out(`ledger ${view.currency} v${view.version} | total ${view.total} | available ${view.available} | reserved ${view.reserved} | committed ${view.committed} | drift mode ${view.driftMode}`);
          for (const [a, qty] of Object.entries(view.holdings)) args.out(`  holding ${a} ${qty}`);
          for (const [symbol, qty] of Object.entries(view.positions)) args.out(`  position ${symbol} ${qty}`);
          for (const [a, qty] of Object.entries(view.baselines)) args.out(`  external baseline ${a} ${qty}`);
          if (view.opened) args.out(`  opened ${view.opened.at} from ${view.opened.source}${view.opened.budget ? ` within the budget ${JSON.stringify(view.opened.budget)}` : ''}`);
        }
        return 0;
      }
      if ((sub !== 'deposit' && sub !== 'withdraw' && sub !== 'rebase') || asset === undefined || amount === undefined) throw new ValidationError(LEDGER_USAGE);
      const result = await changeLedger(deps, { kind: sub, asset, amount, author: defaultAuthor(args), ...(args.reason !== undefined ? { reason: args.reason } : {}) });
      args.out(JSON.stringify(result));
      return 0;
    },
  },
  redrive: {
    options: ['json'],
    operands: [0, 0],
    async run(deps, args) {
      args.out(JSON.stringify(await redriveDeadLetters(deps)));
      return 0;
    },
  },
};

export const LEDGER_USAGE = 'usage: npm run ops -- ledger show [--json] | ledger deposit <asset> <amount> | ledger withdraw <asset> <amount> | ledger rebase <asset> <amount> --reason "..."';
