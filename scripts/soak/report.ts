/** `npm run soak`: its options (parsed from the command line) and its report (scripts/soak.ts runs it). */
import { parseArgs } from 'node:util';
import { parseFraction } from '../../local-runtime/chaos.js';
import { ValidationError } from '../../shared/domain/errors.js';

/** Largest soak accepted on the command line. */
const MAX_INTENTS = 1_000_000;
const MAX_WORKERS = 32;

export interface SoakOptions {
  readonly intents: number;
  readonly crashRate: number;
  readonly faultRate: number;
  readonly storeFaultRate: number;
  readonly seed: string;
  readonly workers: number;
  readonly duplicateRate: number;
  /** What the paper exchange charges fees in (TW_PAPER_FEE_ASSET). */
  readonly feeAsset: string;
  readonly json: boolean;
}

export const DEFAULT_SOAK_OPTIONS: SoakOptions = {
  intents: 1000,
  crashRate: 0.1,
  faultRate: 0.2,
  storeFaultRate: 0,
  seed: 'soak',
  workers: 8,
  duplicateRate: 0.05,
  json: false,
  feeAsset: 'quote',
};

export interface SoakReport {
  readonly ok: boolean;
  readonly options: Omit<SoakOptions, 'json'>;
  readonly machine: { readonly node: string };
  readonly intents: { readonly generated: number; readonly fromScanner: number; readonly total: number; readonly sentTwice: number };
  readonly outcomes: Readonly<Record<string, number>>;
  readonly exchangeOrders: number;
  /** Client order ids with more than one exchange order, or a createOrder that reached the exchange twice. */
  readonly duplicateOrders: number;
  readonly lostOrders: number;
  readonly lostExamples: readonly string[];
  /** Limit orders still resting on the exchange (followed, not lost). */
  readonly resting: number;
  readonly ledger: {
    readonly imbalance: number;
    readonly problems: readonly string[];
    readonly cash: string;
    readonly exchangeCash: string;
    readonly assetsCompared: number;
  };
  readonly audit: { readonly valid: boolean; readonly records: number; readonly streams: number; readonly problems: readonly string[] };
  readonly dlq: { readonly deadLettered: number; readonly left: number };
  readonly queueLeft: number;
  readonly executor: { readonly invocations: number; readonly received: number; readonly failedRecords: number; readonly crashes: number };
  /**
   * Scanner cycles under chaos: `partial` completed with some symbols skipped (failed candles) or
   * not reached; `completedPercent` counts full and partial ones (DATA-7).
   */
  readonly scanner: { readonly cycles: number; readonly failed: number; readonly partial: number; readonly symbolsSkipped: number; readonly completedPercent: number };
  /** Reconciler runs: `completedPercent` counts the runs that did not fail as a whole. */
  readonly reconciler: { readonly runs: number; readonly failed: number; readonly completedPercent: number };
  readonly health: { readonly last?: string; readonly reasons: readonly string[]; readonly failed: number };
  readonly faults: { readonly exchange: number; readonly exchangeByKind: Readonly<Record<string, number>>; readonly store: number; readonly storeByKind: Readonly<Record<string, number>> };
  readonly timing: {
    readonly runSeconds: number;
    readonly quiescenceSeconds: number;
    readonly totalSeconds: number;
    readonly intentsPerSecond: number;
    readonly simulatedSeconds: number;
    /** Where the run's real time went, in seconds: feeding the queue, executor rounds, each scheduled job. */
    readonly runPhases: Readonly<Record<string, number>>;
  };
}

/** Parses `npm run soak` arguments. @throws ValidationError naming the bad option. */
export function parseSoakArgs(argv: readonly string[]): SoakOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        intents: { type: 'string' },
        'crash-rate': { type: 'string' },
        'fault-rate': { type: 'string' },
        'store-fault-rate': { type: 'string' },
        'duplicate-rate': { type: 'string' },
        seed: { type: 'string' },
        workers: { type: 'string' },
        'fee-asset': { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    }));
  } catch (error) {
    throw new ValidationError(`${error instanceof Error ? error.message : String(error)}; usage: npm run soak -- --intents N --crash-rate R --fault-rate F --seed S [--store-fault-rate G] [--workers W] [--duplicate-rate D] [--fee-asset quote|base|<ASSET>] [--json]`, [], { cause: error });
  }
  const int = (option: string, text: string | undefined, fallback: number, max: number) => {
    if (text === undefined) return fallback;
    if (!/^\d{1,7}$/.test(text) || Number(text) < 1 || Number(text) > max) throw new ValidationError(`--${option} must be a whole number from 1 to ${max}, got ${JSON.stringify(text)}`);
    return Number(text);
  };
  const seed = values.seed ?? DEFAULT_SOAK_OPTIONS.seed;
  if (seed.length === 0 || seed.length > 100) throw new ValidationError('--seed must be 1 to 100 characters');
  const feeAsset = values['fee-asset'] ?? DEFAULT_SOAK_OPTIONS.feeAsset;
  if (feeAsset !== 'quote' && feeAsset !== 'base' && !/^[A-Z0-9]{2,15}$/.test(feeAsset)) throw new ValidationError(`--fee-asset must be quote, base or an asset code such as BNB, got ${JSON.stringify(feeAsset)}`);
  return {
    intents: int('intents', values.intents, DEFAULT_SOAK_OPTIONS.intents, MAX_INTENTS),
    crashRate: parseFraction('--crash-rate', values['crash-rate'], DEFAULT_SOAK_OPTIONS.crashRate),
    faultRate: parseFraction('--fault-rate', values['fault-rate'], DEFAULT_SOAK_OPTIONS.faultRate),
    storeFaultRate: parseFraction('--store-fault-rate', values['store-fault-rate'], DEFAULT_SOAK_OPTIONS.storeFaultRate),
    duplicateRate: parseFraction('--duplicate-rate', values['duplicate-rate'], DEFAULT_SOAK_OPTIONS.duplicateRate),
    seed,
    workers: int('workers', values.workers, DEFAULT_SOAK_OPTIONS.workers, MAX_WORKERS),
    feeAsset,
    json: values.json ?? false,
  };
}

/** `part` of `whole` in percent, one decimal; 100 when there was nothing to do. */
export function percentOf(part: number, whole: number): number {
  return whole === 0 ? 100 : Math.round((part / whole) * 1000) / 10;
}

export const round1 = (n: number) => Math.round(n * 10) / 10;

/** The human-readable report. */
export function formatSoakReport(r: SoakReport): string {
  const kinds = (byKind: Readonly<Record<string, number>>) =>
    Object.entries(byKind)
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k} ${n}`)
      .join(', ');
  const o = r.options;
  return [
    `soak: ${r.intents.generated} intents (+${r.intents.fromScanner} from ${r.scanner.cycles} scanner cycles, ${r.scanner.failed} failed, ${r.scanner.partial} partial, ${r.scanner.completedPercent}% completed; ${r.intents.sentTwice} sent twice), crash rate ${o.crashRate}, exchange fault rate ${o.faultRate}, store fault rate ${o.storeFaultRate}, seed ${o.seed}, fees in ${o.feeAsset}, ${o.workers} workers, node ${r.machine.node}`,
    `  time      run ${r.timing.runSeconds} s (${r.timing.intentsPerSecond} intents/s; ${Object.entries(r.timing.runPhases).map(([k, v]) => `${k} ${v} s`).join(', ')}), quiescence ${r.timing.quiescenceSeconds} s, total ${r.timing.totalSeconds} s; simulated ${r.timing.simulatedSeconds} s`,
    `  outcomes  ${Object.entries(r.outcomes).map(([k, n]) => `${k} ${n}`).join(' | ')}${r.resting ? ` | resting on the exchange ${r.resting}` : ''}`,
    `  exchange  ${r.exchangeOrders} orders; duplicate orders ${r.duplicateOrders}`,
    `  lost      ${r.lostOrders}${r.lostExamples.length ? ` (${r.lostExamples.join('; ')})` : ''}`,
    `  ledger    imbalance ${r.ledger.imbalance}${r.ledger.problems.length ? ` (${r.ledger.problems.join('; ')})` : ''}; cash ${r.ledger.cash} vs exchange ${r.ledger.exchangeCash}; ${r.ledger.assetsCompared} assets compared`,
    `  audit     ${r.audit.valid ? 'valid' : 'BROKEN'}: ${r.audit.records} records in ${r.audit.streams} streams${r.audit.problems.length ? ` (${r.audit.problems.join('; ')})` : ''}`,
    `  DLQ       ${r.dlq.deadLettered} dead-lettered and redriven; ${r.dlq.left} left (queue ${r.queueLeft} left)`,
    `  executor  ${r.executor.invocations} invocations, ${r.executor.received} messages received, ${r.executor.failedRecords} failed, ${r.executor.crashes} crashed`,
    `  faults    exchange ${r.faults.exchange}${r.faults.exchange ? ` (${kinds(r.faults.exchangeByKind)})` : ''}; store ${r.faults.store}${r.faults.store ? ` (${kinds(r.faults.storeByKind)})` : ''}`,
    `  jobs      reconciler ${r.reconciler.runs} runs (${r.reconciler.failed} failed, ${r.reconciler.completedPercent}% completed), ${r.health.failed} failed health checks; health at the end ${r.health.last ?? 'unknown'}${r.health.reasons.length ? ` (${r.health.reasons.join('; ')})` : ''}`,
    `RESULT ${r.ok ? 'PASS' : 'FAIL'}`,
  ].join('\n');
}
